"""Exploratory analysis: the model as a function, sensitivity, sweeps, event attribution.

The core of this module is :func:`experiment`: a plain function from named
parameters to named scalar outcomes, so that outside tools (SALib, EMA
Workbench, an optimiser, a notebook loop) can drive the model unchanged.

- **Parameters** are dotted paths into the resolved scenario
  (``indices.trade.half_life``, ``spillover.trade.security``, ``damping``,
  ``events.scale.russian-sanctions-2015``, ``hazards.trade-dispute.rate``); a
  point is laid over the scenario's plain data and validated again, so a bad
  value is a :class:`~model.errors.ScenarioError`. ``dummy`` (and
  ``dummy.<anything>``) enters nothing: a control for the analyses.
- **Outcomes** are per-replicate summaries of the recorded paths (the mean
  level over an outlook period, the minimum, the final level, years in crisis,
  the level at the start of a year), averaged over the replicates.
- **Common random numbers**: every parameter point runs the same replicate
  numbers with the same seed, so two points differ only by their parameters;
  the noise is not counted as sensitivity.

On top of it: Sobol and Morris indices with SALib (:func:`sensitivity`),
one- and two-parameter grids and Latin hypercube samples (:func:`sweep`,
:func:`latin_hypercube`), and what each event contributed to each index at a
date (:func:`attribute`, leave-one-out or Shapley values). Points run in this
process, in worker processes or on Dask, with a progress bar. Plots import
matplotlib on first use; ``import model.explore`` does not.
"""

from __future__ import annotations

import difflib
import itertools
import math
import os
import re
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .engine import simulate_chunk
from .errors import ScenarioError
from .metrics import step_years, years_in_crisis
from .scenario import Scenario, load_scenario, scenario_from_dict

__all__ = [
    "DEFAULT_PARAMS",
    "DEFAULT_REPLICATES",
    "DUMMY",
    "Attribution",
    "Outcomes",
    "Sensitivity",
    "Sweep",
    "add_commands",
    "apply_params",
    "attribute",
    "current_value",
    "evaluate",
    "experiment",
    "latin_hypercube",
    "outcome_names",
    "parse_range",
    "replicate_outcomes",
    "sensitivity",
    "sweep",
]

#: The reserved parameter that enters nothing (a control for sensitivity analyses).
DUMMY = "dummy"
#: Replicates per parameter point: averaged, with common random numbers.
DEFAULT_REPLICATES = 8
#: The assumptions ranged by ``relsim sensitivity`` when no ``--params`` are given:
#: persistence, the two main spill-overs, the damping of energy shocks, the
#: size of the events that leave lasting shifts, and the dummy. ``*=`` ranges
#: are multiples of the scenario's own value (an event scale's is 1 unless the
#: scenario sets it).
DEFAULT_PARAMS = (
    "indices.trade.half_life*=0.5:2",
    "indices.energy.half_life*=0.5:2",
    "indices.security.half_life*=0.5:2",
    "indices.west.half_life*=0.5:2",
    "spillover.trade.security*=0:2",
    "spillover.security.trade*=0:2",
    "damping*=0.5:1.5",
    "events.scale.russian-sanctions-2015*=0.8:1.2",
    "events.scale.su24-downing-2015*=0.5:1.5",
    "events.scale.s400-delivery-2019*=0.5:1.5",
    "events.scale.caatsa-sanctions-2020*=0.5:1.5",
    "events.scale.ukraine-war-trade-2022*=0.5:1.5",
    f"{DUMMY}=0:1",
)


# --------------------------------------------------------------------------- parameters


def _is_dummy(name: str) -> bool:
    return name == DUMMY or name.startswith(DUMMY + ".")


def apply_params(scenario: Scenario, params: Mapping[str, Any]) -> Scenario:
    """``scenario`` with each dotted-path parameter set to its value, validated again.

    A path walks the scenario's plain data (:meth:`Scenario.to_dict`): table
    keys by name, list items (``hazards``, ``events.add``, ``effects``) by
    ``id`` or position. A value replaces what is there, also a distribution
    (``indices.trade.half_life = 2.0``); a path into a distribution sets one of
    its numbers (``indices.trade.half_life.median``). Missing tables are
    created (``events.scale.<id>``). ``dummy`` parameters are ignored.
    """
    real = {k: v for k, v in params.items() if not _is_dummy(k)}
    if not real:
        return scenario
    data = scenario.to_dict()
    for name, value in real.items():
        parts = name.split(".")
        if parts[0] in ("indices", "spillover") and len(parts) > 1 and parts[1] not in scenario.indices:
            close = difflib.get_close_matches(parts[1], list(scenario.indices), n=3, cutoff=0.5)
            hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
            raise ScenarioError("relsim", name, f"unknown index {parts[1]!r}{hint}")
        _set(data, parts, _plain(value), name)
    where = ", ".join(f"{k}={_fmt(v)}" for k, v in real.items())
    return scenario_from_dict(data, file=f"{scenario.name} with {where}")


def _plain(value: Any) -> Any:
    return value.item() if isinstance(value, np.generic) else value


def _fmt(value: Any) -> str:
    return f"{value:.6g}" if isinstance(value, (float, np.floating)) else str(value)


def _set(node: Any, parts: list[str], value: Any, name: str) -> None:
    """Set ``value`` at ``parts`` inside the nested dicts and lists of ``node``."""
    key, rest = parts[0], parts[1:]
    if isinstance(node, list):
        slot: Any = _list_slot(node, key, name)
    elif isinstance(node, dict):
        slot = key
    else:
        raise ScenarioError("relsim", name, f"cannot descend into {node!r} at '{key}'")
    if not rest:
        node[slot] = value
        return
    if isinstance(node, dict) and not isinstance(node.get(slot), (dict, list)):
        node[slot] = {}
    _set(node[slot], rest, value, name)


def _list_slot(items: list, key: str, name: str) -> int:
    ids = [item.get("id") for item in items if isinstance(item, dict)]
    if key in ids:
        return ids.index(key)
    if key.isdigit() and int(key) < len(items):
        return int(key)
    close = difflib.get_close_matches(key, [i for i in ids if i], n=3, cutoff=0.6)
    hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
    raise ScenarioError("relsim", name, f"no item {key!r} in this list{hint}")


def current_value(scenario: Scenario, name: str) -> float | None:
    """The scenario's value at a dotted path (a distribution's centre); None if unset.

    An event scale that is not set is 1 (the catalog size).
    """
    if _is_dummy(name):
        return None
    node: Any = scenario.to_dict()
    parts = name.split(".")
    for i, key in enumerate(parts):
        if isinstance(node, list):
            ids = [item.get("id") for item in node if isinstance(item, dict)]
            node = node[ids.index(key)] if key in ids else (node[int(key)] if key.isdigit() and int(key) < len(node) else None)
        elif isinstance(node, dict):
            node = node.get(key)
        else:
            node = None
        if node is None:
            return 1.0 if parts[:2] == ["events", "scale"] and i == 2 else None
    if isinstance(node, dict) and "dist" in node:
        from .distributions import Dist

        return Dist.model_validate(node).center()
    return float(node) if isinstance(node, (int, float)) and not isinstance(node, bool) else None


def parse_range(spec: str, scenario: Scenario | None = None) -> tuple[str, tuple[float, float]]:
    """``"name=low:high"`` -> ``(name, (low, high))``.

    ``"name*=low:high"`` ranges over multiples of the scenario's value
    (``"damping*=0.5:1.5"`` is 0.3 to 0.9 at a damping of 0.6). A bare
    ``name`` is ``name*=0.5:1.5`` (``dummy``: 0 to 1).
    """
    name, sep, rng = spec.partition("=")
    name = name.strip()
    relative = name.endswith("*")
    name = name.rstrip("*").strip()
    if not name:
        raise ScenarioError("relsim", "--params", f"empty parameter name in {spec!r}")
    if not sep:
        if _is_dummy(name):
            return name, (0.0, 1.0)
        relative, low, high = True, 0.5, 1.5
    else:
        low, high = _numbers(rng, 2, spec, "--params", "name=LOW:HIGH or name*=LOW:HIGH")
    if relative:
        value = current_value(scenario, name) if scenario is not None and not _is_dummy(name) else None
        if not value:
            raise ScenarioError("relsim", "--params",
                                f"{name!r} has no value to range around: give it as {name}=LOW:HIGH")
        low, high = sorted((round(low * value, 12), round(high * value, 12)))
    if not low < high:
        raise ScenarioError("relsim", "--params", f"{name}: LOW must be below HIGH (got {low}:{high})")
    return name, (low, high)


def _numbers(text: str, n: int, spec: str, flag: str, form: str) -> list[float]:
    parts = text.split(":")
    try:
        values = [float(p) for p in parts]
    except ValueError:
        values = []
    if len(values) != n:
        raise ScenarioError("relsim", flag, f"expected {form} (got {spec!r})")
    return values


def parse_grid(spec: str) -> tuple[str, np.ndarray]:
    """``"name=start:stop:steps"`` -> ``(name, linspace(start, stop, steps))``."""
    name, sep, rng = spec.partition("=")
    if not sep or not name.strip():
        raise ScenarioError("relsim", "--grid", f"expected name=START:STOP:STEPS (got {spec!r})")
    start, stop, steps = _numbers(rng, 3, spec, "--grid", "name=START:STOP:STEPS")
    if steps < 2 or steps != int(steps):
        raise ScenarioError("relsim", "--grid", f"{name}: STEPS must be a whole number >= 2 (got {steps:g})")
    return name.strip(), np.linspace(start, stop, int(steps))


# --------------------------------------------------------------------------- outcomes


@dataclass(frozen=True)
class Outcomes:
    """Which scalar outcomes a run yields; each is computed per replicate.

    For each index ``k`` (in points, from the recorded values):

    - ``mean_k_A_B``: mean level over the records of years A..B (the outlook);
    - ``min_k``: lowest recorded level over the whole run;
    - ``final_k``: level at the last record;
    - ``years_in_crisis_k``: years spent below the index's crisis threshold;
    - ``k_Y``: level at the first record of year Y.
    """

    period: tuple[int, int] = (2026, 2035)
    at_year: int = 2030

    def names(self, indicators: Iterable[str]) -> list[str]:
        a, b = self.period
        out = []
        for k in indicators:
            out += [f"mean_{k}_{a}_{b}", f"min_{k}", f"final_{k}", f"years_in_crisis_{k}",
                    f"{k}_{self.at_year}"]
        return out

    def check(self, scenario: Scenario) -> None:
        """The period and the year must lie inside the run's records."""
        years = pd.DatetimeIndex(scenario.record_dates()).year
        a, b = self.period
        if a > b or not ((years >= a) & (years <= b)).any():
            raise ScenarioError("relsim", "--period", f"{a}:{b} has no record in the run "
                                f"{years.min()}..{years.max()}")
        if self.at_year not in set(years):
            raise ScenarioError("relsim", "--at-year", f"{self.at_year} has no record in the run "
                                f"{years.min()}..{years.max()}")

    def compute(self, values: np.ndarray, scenario: Scenario) -> dict[str, np.ndarray]:
        """Per-replicate outcomes from ``values[t, r, k]`` (points at the record dates)."""
        dates = pd.DatetimeIndex(scenario.record_dates())
        years = dates.year
        a, b = self.period
        sel = (years >= a) & (years <= b)
        at = int(np.flatnonzero(years == self.at_year)[0])
        step = step_years(dates)
        out: dict[str, np.ndarray] = {}
        for j, (k, spec) in enumerate(scenario.indices.items()):
            y = values[:, :, j]
            out[f"mean_{k}_{a}_{b}"] = y[sel].mean(axis=0)
            out[f"min_{k}"] = y.min(axis=0)
            out[f"final_{k}"] = y[-1]
            out[f"years_in_crisis_{k}"] = years_in_crisis(y, spec.crisis, step, time_axis=0)
            out[f"{k}_{self.at_year}"] = y[at]
        return out


def outcome_names(scenario: Scenario, outcomes: Outcomes | None = None) -> list[str]:
    """The names :func:`experiment` returns for ``scenario``."""
    return (outcomes or Outcomes()).names(scenario.indicators)


def _as_scenario(scenario: Scenario | str | Path) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def _paths(scenario: Scenario, replicates: int, seed: int) -> np.ndarray:
    """Recorded levels ``[t, r, k]`` of replicates ``0..replicates-1``.

    The same engine call the ensemble runner makes for each chunk: replicate
    ``r`` has the same path here as in ``model.simulate``.
    """
    out = simulate_chunk(scenario, np.arange(replicates), seed)
    return out.recorder.values


def replicate_outcomes(params: Mapping[str, Any], scenario: Scenario | str | Path, seed: int | None = None,
                       replicates: int = DEFAULT_REPLICATES,
                       outcomes: Outcomes | None = None) -> pd.DataFrame:
    """One row per replicate, one column per outcome, at one parameter point."""
    base = _as_scenario(scenario)
    spec = outcomes or Outcomes()
    spec.check(base)
    sc = apply_params(base, params)
    seed = base.run.seed if seed is None else int(seed)
    n = 1 if not sc.run.noise and not _uncertain(sc) else int(replicates)
    with _one_blas_thread():
        values = _paths(sc, n, seed)
    frame = pd.DataFrame(spec.compute(values, sc))
    frame.index.name = "replicate"
    return frame


def _uncertain(sc: Scenario) -> bool:
    """Whether anything is drawn per replicate (a distribution or a hazard)."""

    def has_dist(node: Any) -> bool:
        if isinstance(node, dict):
            return "dist" in node or any(has_dist(v) for v in node.values())
        return isinstance(node, list) and any(has_dist(v) for v in node)

    return bool(sc.hazards) or has_dist(sc.to_dict())


def experiment(params: Mapping[str, Any], scenario: Scenario | str | Path, seed: int | None = None,
               replicates: int = DEFAULT_REPLICATES, outcomes: Outcomes | None = None) -> dict[str, float]:
    """Run ``scenario`` with ``params`` laid over it; the outcomes, averaged over replicates.

    ``params`` maps dotted paths to numbers (see :func:`apply_params`);
    ``seed`` defaults to the scenario's. The same ``seed`` and ``replicates``
    give the same random draws at every parameter point (common random
    numbers), so two calls differ only by their parameters. A run without
    noise or anything uncertain is deterministic and runs one replicate.

    >>> import model.explore as ex                                              # doctest: +SKIP
    >>> ex.experiment({"damping": 0.3}, "scenarios/baseline.toml")["final_west"]  # doctest: +SKIP
    """
    frame = replicate_outcomes(params, scenario, seed, replicates, outcomes)
    return {k: float(v) for k, v in frame.mean().items()}


# --------------------------------------------------------------------------- many points


def _one_blas_thread():
    """A context in which BLAS runs on one thread (threads only slow small matrices down)."""
    import contextlib

    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover
        return contextlib.nullcontext()
    return threadpool_limits(1)


def _points(scenario: Scenario, points: list[dict], seeds: list[int], replicates: int,
            spec: Outcomes) -> list[tuple[dict, dict]]:
    """Means and standard errors of the outcomes at each point (runs in workers too)."""
    out = []
    with _one_blas_thread():
        for params, seed in zip(points, seeds):
            frame = replicate_outcomes(params, scenario, seed, replicates, spec)
            se = frame.std(ddof=1) / math.sqrt(len(frame)) if len(frame) > 1 else frame.iloc[0] * 0.0
            out.append((frame.mean().to_dict(), se.to_dict()))
    return out


def _parallel(fn: Callable, tasks: list[tuple], sizes: list[int], workers: int | None,
              scheduler: str | None, progress: bool, unit: str) -> list:
    """``[fn(*task) for task in tasks]`` here, in processes or on Dask; results in order."""
    from tqdm import tqdm

    workers = (os.cpu_count() or 1) if workers is None else max(int(workers), 1)
    bar = tqdm(total=sum(sizes), unit=unit, delay=1.0, leave=False,
               disable=not (progress and sys.stderr.isatty()))
    results: list = [None] * len(tasks)
    try:
        if scheduler is not None:
            _on_dask(fn, tasks, sizes, scheduler, bar, results)
        elif workers <= 1 or len(tasks) <= 1:
            for i, task in enumerate(tasks):
                results[i] = fn(*task)
                bar.update(sizes[i])
        else:
            _on_processes(fn, tasks, sizes, workers, bar, results)
    finally:
        bar.close()
    return results


def _on_processes(fn, tasks, sizes, workers, bar, results) -> None:
    from concurrent.futures import ProcessPoolExecutor, as_completed

    with ProcessPoolExecutor(max_workers=min(workers, len(tasks))) as pool:
        futures = {pool.submit(fn, *task): i for i, task in enumerate(tasks)}
        try:
            for fut in as_completed(futures):
                i = futures[fut]
                results[i] = fut.result()
                bar.update(sizes[i])
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise


def _on_dask(fn, tasks, sizes, scheduler, bar, results) -> None:
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None) if scheduler == "local" else None
    client = Client(cluster if cluster is not None else scheduler)
    try:
        futures = [client.submit(fn, *task, pure=False) for task in tasks]
        index = {fut.key: i for i, fut in enumerate(futures)}
        for fut in as_completed(futures):
            i = index[fut.key]
            results[i] = fut.result()
            bar.update(sizes[i])
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _batches(n: int, workers: int | None) -> list[slice]:
    w = (os.cpu_count() or 1) if workers is None else max(int(workers), 1)
    size = max(1, min(64, -(-n // (8 * w))))
    return [slice(a, min(a + size, n)) for a in range(0, n, size)]


def evaluate(scenario: Scenario | str | Path, points: pd.DataFrame, seed: int | None = None,
             replicates: int = DEFAULT_REPLICATES, outcomes: Outcomes | None = None,
             common_random_numbers: bool = True, workers: int | None = 1,
             scheduler: str | None = None, progress: bool = False) -> pd.DataFrame:
    """The outcomes at every row of ``points`` (columns: parameter names).

    Returns ``points`` with one column per outcome (the mean over replicates)
    and ``se_<outcome>`` (its Monte Carlo standard error). With
    ``common_random_numbers`` (the default) every point runs replicates
    ``0..replicates-1`` with the same seed; without, point ``i`` uses seed
    ``seed + 1 + i`` (only to show what the noise does to an analysis).
    """
    sc = _as_scenario(scenario)
    spec = outcomes or Outcomes()
    spec.check(sc)
    seed = sc.run.seed if seed is None else int(seed)
    rows = points.to_dict("records")
    if rows:
        apply_params(sc, rows[0])  # a bad name fails here, before any worker starts
    seeds = [seed] * len(rows) if common_random_numbers else [seed + 1 + i for i in range(len(rows))]
    cuts = _batches(len(rows), workers if scheduler is None else 2)
    tasks = [(sc, rows[c], seeds[c], replicates, spec) for c in cuts]
    done = _parallel(_points, tasks, [c.stop - c.start for c in cuts], workers, scheduler,
                     progress, "point")
    pairs = [pair for batch in done for pair in batch]
    means = pd.DataFrame([m for m, _ in pairs], index=points.index)
    ses = pd.DataFrame([s for _, s in pairs], index=points.index).add_prefix("se_")
    return pd.concat([points, means, ses], axis=1)


def _select(names: Sequence[str] | str | None, available: list[str], default: list[str]) -> list[str]:
    if names is None:
        return default
    if isinstance(names, str):
        names = available if names == "all" else [n.strip() for n in names.split(",") if n.strip()]
    for n in names:
        if n not in available:
            close = difflib.get_close_matches(n, available, n=3, cutoff=0.5)
            hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
            raise ScenarioError("relsim", "--outcomes", f"unknown outcome {n!r}{hint}")
    return list(names)


def _default_outcomes(sc: Scenario, spec: Outcomes) -> list[str]:
    a, b = spec.period
    return [f"mean_{k}_{a}_{b}" for k in sc.indicators]


def _metadata(sc: Scenario, seed: int, replicates: int, analysis: dict) -> dict:
    from .provenance import run_metadata

    meta = run_metadata(sc, replicates, seed)
    meta["analysis"] = analysis
    return meta


def _write(out: str | Path, tables: dict[str, pd.DataFrame], meta: dict, figures: dict) -> Path:
    import json

    from .results import atomic_output

    with atomic_output(out) as tmp:
        for name, table in tables.items():
            table.to_csv(tmp / name, index=False, float_format="%.6g")
        (tmp / "metadata.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
        for name, fig in figures.items():
            fig.savefig(tmp / name, dpi=130, bbox_inches="tight")
    return Path(out)


# --------------------------------------------------------------------------- sensitivity


@dataclass
class Sensitivity:
    """Sobol or Morris indices of chosen outcomes, with the runs behind them."""

    method: str
    problem: dict
    samples: pd.DataFrame   # one row per parameter point: parameters, outcomes, se_<outcome>
    indices: pd.DataFrame   # outcome, parameter, S1, S1_conf, ST, ST_conf | mu_star, mu_star_conf, mu, sigma
    outcomes: list[str]
    metadata: dict = field(default_factory=dict)

    def plot(self, outcomes: Sequence[str] | None = None):
        """Bars per outcome, parameters sorted by their total effect, with confidence intervals."""
        return plot_sensitivity(self, outcomes)

    def save(self, out: str | Path, plots: bool = True) -> Path:
        figures = {"sensitivity.png": self.plot()} if plots else {}
        return _write(out, {"indices.csv": self.indices, "samples.csv": self.samples},
                      self.metadata, figures)


def sensitivity(scenario: Scenario | str | Path, ranges: Mapping[str, tuple[float, float]],
                method: str = "sobol", samples: int = 256, replicates: int = DEFAULT_REPLICATES,
                seed: int | None = None, sample_seed: int = 0,
                outcomes: Sequence[str] | str | None = None, spec: Outcomes | None = None,
                common_random_numbers: bool = True, conf_level: float = 0.95,
                num_resamples: int = 1000, workers: int | None = 1, scheduler: str | None = None,
                progress: bool = False) -> Sensitivity:
    """Global sensitivity of the outcomes to the parameters in ``ranges`` (uniform).

    ``method="sobol"``: Saltelli sampling, ``samples`` x (D + 2) runs (D
    parameters; ``samples`` a power of 2), first-order ``S1`` and total ``ST``
    indices with bootstrap confidence intervals. ``method="morris"``:
    ``samples`` trajectories of D + 1 runs, ``mu_star`` (mean absolute
    elementary effect, in outcome units) with its interval, ``mu`` and
    ``sigma``. Every point averages ``replicates`` replicates run with common
    random numbers, so a parameter that enters nothing (``dummy``) gets
    indices of exactly zero.
    """
    from SALib.analyze import morris as morris_analyze
    from SALib.analyze import sobol as sobol_analyze
    from SALib.sample import morris as morris_sample
    from SALib.sample import sobol as sobol_sample

    sc = _as_scenario(scenario)
    spec = spec or Outcomes()
    spec.check(sc)
    if method not in ("sobol", "morris"):
        raise ScenarioError("relsim", "--method", f"must be 'sobol' or 'morris' (got {method!r})")
    if len(ranges) < 1:
        raise ScenarioError("relsim", "--params", "give at least one parameter")
    if method == "sobol" and (samples < 2 or samples & (samples - 1)):
        up = 2 ** max(1, math.ceil(math.log2(max(samples, 2))))
        raise ScenarioError("relsim", "--samples", f"Sobol sampling needs a power of 2 (got {samples}; try {up})")
    chosen = _select(outcomes, spec.names(sc.indicators), _default_outcomes(sc, spec))
    problem = {"num_vars": len(ranges), "names": list(ranges), "bounds": [list(map(float, b)) for b in ranges.values()]}
    if method == "sobol":
        x = sobol_sample.sample(problem, samples, calc_second_order=False, seed=sample_seed)
    else:
        x = morris_sample.sample(problem, samples, num_levels=4, seed=sample_seed)
    table = evaluate(sc, pd.DataFrame(x, columns=problem["names"]), seed, replicates, spec,
                     common_random_numbers, workers, scheduler, progress)
    rows = []
    for name in chosen:
        y = table[name].to_numpy()
        if np.ptp(y) == 0:
            rows += _constant_rows(method, name, problem["names"])
            continue
        if method == "sobol":
            res = sobol_analyze.analyze(problem, y, calc_second_order=False, conf_level=conf_level,
                                        num_resamples=num_resamples, seed=sample_seed)
            keys = ("S1", "S1_conf", "ST", "ST_conf")
        else:
            res = morris_analyze.analyze(problem, x, y, conf_level=conf_level, num_resamples=num_resamples,
                                         num_levels=4, seed=sample_seed)
            keys = ("mu_star", "mu_star_conf", "mu", "sigma")
        for j, p in enumerate(problem["names"]):
            rows.append({"outcome": name, "parameter": p, **{k: float(res[k][j]) for k in keys}})
    indices = pd.DataFrame(rows)
    seed = sc.run.seed if seed is None else int(seed)
    meta = _metadata(sc, seed, replicates, {
        "kind": "sensitivity", "method": method, "samples": samples, "runs": len(table),
        "sample_seed": sample_seed, "common_random_numbers": common_random_numbers,
        "conf_level": conf_level, "num_resamples": num_resamples, "problem": problem,
        "period": list(spec.period), "at_year": spec.at_year})
    return Sensitivity(method, problem, table, indices, chosen, meta)


def _constant_rows(method: str, outcome: str, names: list[str]) -> list[dict]:
    """An outcome that never moves over the sample: no variance to apportion (NaN)."""
    keys = ("S1", "S1_conf", "ST", "ST_conf") if method == "sobol" else ("mu_star", "mu_star_conf", "mu", "sigma")
    return [{"outcome": outcome, "parameter": p, **{k: math.nan for k in keys}} for p in names]


# --------------------------------------------------------------------------- sweeps


@dataclass
class Sweep:
    """Outcomes over a grid of one or two parameters, or over a Latin hypercube sample."""

    kind: str              # "grid" or "lhs"
    parameters: list[str]
    table: pd.DataFrame    # parameters, outcomes, se_<outcome>
    outcomes: list[str]    # the outcomes to plot
    metadata: dict = field(default_factory=dict)

    def plot(self, outcomes: Sequence[str] | None = None):
        """Lines (one parameter), heat maps (two) or scatter panels (a hypercube)."""
        return plot_sweep(self, outcomes)

    def save(self, out: str | Path, plots: bool = True) -> Path:
        figures = {"sweep.png": self.plot()} if plots else {}
        return _write(out, {"sweep.csv": self.table}, self.metadata, figures)


def sweep(scenario: Scenario | str | Path, grid: Mapping[str, Sequence[float]],
          replicates: int = DEFAULT_REPLICATES, seed: int | None = None,
          outcomes: Sequence[str] | str | None = None, spec: Outcomes | None = None,
          workers: int | None = 1, scheduler: str | None = None, progress: bool = False) -> Sweep:
    """Every combination of the values of one or two parameters, with common random numbers."""
    sc = _as_scenario(scenario)
    spec = spec or Outcomes()
    if not 1 <= len(grid) <= 2:
        raise ScenarioError("relsim", "--grid", f"give one or two parameters (got {len(grid)}); "
                            "use a Latin hypercube (--lhs) for more")
    names = list(grid)
    points = pd.DataFrame(list(itertools.product(*[np.asarray(v, float) for v in grid.values()])), columns=names)
    chosen = _select(outcomes, spec.names(sc.indicators), _default_outcomes(sc, spec))
    table = evaluate(sc, points, seed, replicates, spec, True, workers, scheduler, progress)
    seed = sc.run.seed if seed is None else int(seed)
    meta = _metadata(sc, seed, replicates, {"kind": "grid", "grid": {k: list(map(float, v)) for k, v in grid.items()},
                                            "period": list(spec.period), "at_year": spec.at_year})
    return Sweep("grid", names, table, chosen, meta)


def latin_hypercube(scenario: Scenario | str | Path, ranges: Mapping[str, tuple[float, float]],
                    samples: int = 100, sample_seed: int = 0, replicates: int = DEFAULT_REPLICATES,
                    seed: int | None = None, outcomes: Sequence[str] | str | None = None,
                    spec: Outcomes | None = None, workers: int | None = 1,
                    scheduler: str | None = None, progress: bool = False) -> Sweep:
    """``samples`` points of a Latin hypercube over ``ranges``, with common random numbers."""
    from scipy.stats import qmc

    sc = _as_scenario(scenario)
    spec = spec or Outcomes()
    if samples < 2:
        raise ScenarioError("relsim", "--lhs", f"needs at least 2 samples (got {samples})")
    names = list(ranges)
    lows = np.array([r[0] for r in ranges.values()], float)
    highs = np.array([r[1] for r in ranges.values()], float)
    unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(sample_seed)).random(samples)
    points = pd.DataFrame(qmc.scale(unit, lows, highs), columns=names)
    chosen = _select(outcomes, spec.names(sc.indicators), _default_outcomes(sc, spec))
    table = evaluate(sc, points, seed, replicates, spec, True, workers, scheduler, progress)
    seed = sc.run.seed if seed is None else int(seed)
    meta = _metadata(sc, seed, replicates, {"kind": "lhs", "samples": samples, "sample_seed": sample_seed,
                                            "ranges": {k: list(map(float, v)) for k, v in ranges.items()},
                                            "period": list(spec.period), "at_year": spec.at_year})
    return Sweep("lhs", names, table, chosen, meta)


# --------------------------------------------------------------------------- attribution


@dataclass
class Attribution:
    """What each event contributed to each index at a date, from paired runs."""

    method: str                  # "loo" or "shapley"
    at: str                      # the date or year the levels are read at
    contributions: pd.DataFrame  # indicator, event, title, date, mean, se, sd, q05, q95, statement
    levels: pd.DataFrame         # indicator, run, mean, se, q05, q95 (with all events / without the chosen)
    metadata: dict = field(default_factory=dict)

    def plot(self, top: int = 8):
        """A waterfall per index: from the level without the events to the level with them."""
        return plot_waterfall(self, top)

    def save(self, out: str | Path, plots: bool = True, top: int = 8) -> Path:
        figures = {"waterfall.png": self.plot(top)} if plots else {}
        return _write(out, {"contributions.csv": self.contributions, "levels.csv": self.levels},
                      self.metadata, figures)


def _reader(scenario: Scenario, at: str) -> tuple[Callable[[np.ndarray], np.ndarray], str, str]:
    """A function ``values[t, r, k] -> levels[r, k]`` at ``at``, its label and the last day used."""
    dates = pd.DatetimeIndex(scenario.record_dates())
    text = str(at).strip()
    if re.fullmatch(r"\d{4}", text):
        sel = np.flatnonzero(dates.year == int(text))
        if sel.size == 0:
            raise ScenarioError("relsim", "--at", f"year {text} has no record in the run "
                                f"{dates[0].date()}..{dates[-1].date()}")
        return (lambda v: v[sel].mean(axis=0)), f"{text} (mean of {sel.size} records)", str(dates[sel[-1]].date())
    try:
        when = pd.Timestamp(text)
    except ValueError:
        raise ScenarioError("relsim", "--at", f"expected a date YYYY-MM-DD or a year YYYY (got {text!r})") from None
    i = int(np.searchsorted(dates.values, when.to_datetime64(), side="right")) - 1
    if i < 0 or when > pd.Timestamp(scenario.run.end):
        raise ScenarioError("relsim", "--at", f"{text} is outside the run {dates[0].date()}..{scenario.run.end}")
    return (lambda v: v[i]), str(dates[i].date()), str(dates[i].date())


def _chosen_events(sc: Scenario, events: Sequence[str] | str | None, last_day: str) -> list:
    timeline = sc.timeline()
    by_id = {e.id: e for e in timeline}
    if events is None or events == "all" or events == ["all"]:
        limit = pd.Timestamp(last_day).date()
        return [e for e in timeline if e.date is not None and e.date <= limit]
    ids = [i.strip() for i in events.split(",")] if isinstance(events, str) else list(events)
    for i in ids:
        if i not in by_id:
            close = difflib.get_close_matches(i, list(by_id), n=3, cutoff=0.6)
            hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
            raise ScenarioError("relsim", "--events", f"{i!r} is not an event of this scenario{hint}")
    return [by_id[i] for i in dict.fromkeys(ids)]


def without_events(scenario: Scenario, ids: Iterable[str], removal: str = "drop") -> Scenario:
    """``scenario`` with the events ``ids`` removed.

    ``removal="drop"``: catalog events go into ``events.drop``; added events
    leave ``events.add`` together with the follow-ups that wait for them (as
    for a dropped catalog event, those would never fire). ``removal="zero"``:
    every event stays on the calendar with its effects scaled to zero, so both
    runs split time at the same moments (follow-ups still fire).
    """
    ids = list(dict.fromkeys(ids))
    if not ids:
        return scenario
    data = scenario.to_dict()
    events = data.setdefault("events", {})
    if removal == "zero":
        events.setdefault("scale", {}).update({i: 0.0 for i in ids})
    elif removal == "drop":
        added = {e["id"] for e in events.get("add", [])}
        events["drop"] = list(dict.fromkeys(list(events.get("drop", [])) + [i for i in ids if i not in added]))
        gone = {i for i in ids if i in added}
        keep = list(events.get("add", []))
        while True:
            after = [e for e in keep if e["id"] in gone or (e.get("after") or {}).get("event") in gone]
            if not after:
                break
            gone |= {e["id"] for e in after}
            keep = [e for e in keep if e["id"] not in gone]
        events["add"] = keep
        for key in ("scale", "move"):
            events[key] = {k: v for k, v in events.get(key, {}).items() if k not in gone}
    else:
        raise ScenarioError("relsim", "--removal", f"must be 'drop' or 'zero' (got {removal!r})")
    return scenario_from_dict(data, file=f"{scenario.name} without {', '.join(ids)}")


def _levels(variants: list[Scenario], replicates: int, seed: int, at: str) -> list[np.ndarray]:
    """Levels ``[r, k]`` at ``at`` for each scenario variant (runs in workers too)."""
    out = []
    with _one_blas_thread():
        for sc in variants:
            read, _, _ = _reader(sc, at)
            out.append(read(_paths(sc, replicates, seed)))
    return out


def _run_variants(variants: list[Scenario], replicates: int, seed: int, at: str, workers, scheduler,
                  progress) -> np.ndarray:
    cuts = _batches(len(variants), workers if scheduler is None else 2)
    tasks = [(variants[c], replicates, seed, at) for c in cuts]
    done = _parallel(_levels, tasks, [(c.stop - c.start) * replicates for c in cuts], workers,
                     scheduler, progress, "rep")
    return np.stack([v for batch in done for v in batch])  # [variant, r, k]


MAX_SHAPLEY = 10


def attribute(scenario: Scenario | str | Path, at: str, events: Sequence[str] | str | None = None,
              method: str = "loo", removal: str = "zero", replicates: int = 100,
              seed: int | None = None, workers: int | None = 1, scheduler: str | None = None,
              progress: bool = False) -> Attribution:
    """What each chosen event contributed to each index at ``at`` (a date or a year).

    Every run uses the same seed and replicate numbers (common random
    numbers) and contributions are taken replicate by replicate.
    ``method="loo"`` (leave one out): an event's contribution is the level
    with every event minus the level without that one; interactions between
    the chosen events are left over and reported as their own row.
    ``method="shapley"``: exact Shapley values over the chosen events (2^n
    runs, at most 10 events): each event gets its marginal contribution
    averaged over every order of adding the chosen events, and the
    contributions add up exactly to the level with all of them minus the level
    without any. Events not chosen stay in every run.

    ``removal="zero"`` (the default) keeps a removed event on the calendar
    with its effects scaled to zero, so the paired runs split time at the same
    moments and share all their noise; ``"drop"`` removes it and its
    follow-ups (see :func:`without_events`).
    """
    sc = _as_scenario(scenario)
    seed = sc.run.seed if seed is None else int(seed)
    _, label, last_day = _reader(sc, at)
    chosen = _chosen_events(sc, events, last_day)
    if not chosen:
        raise ScenarioError("relsim", "--events", f"no event of {sc.name} on or before {last_day}")
    if method == "shapley" and len(chosen) > MAX_SHAPLEY:
        raise ScenarioError("relsim", "--events", f"Shapley values need 2^n runs: choose at most {MAX_SHAPLEY} "
                            f"events (got {len(chosen)}), or use leave-one-out")
    ids = [e.id for e in chosen]
    if method == "loo":
        variants = [sc, without_events(sc, ids, removal)] + [without_events(sc, [i], removal) for i in ids]
        levels = _run_variants(variants, replicates, seed, at, workers, scheduler, progress)
        full, none = levels[0], levels[1]
        contrib = full[None] - levels[2:]                               # [event, r, k]
    elif method == "shapley":
        subsets = list(itertools.product((False, True), repeat=len(ids)))  # True: the event is present
        variants = [without_events(sc, [i for i, on in zip(ids, s) if not on], removal) for s in subsets]
        levels = _run_variants(variants, replicates, seed, at, workers, scheduler, progress)
        contrib = _shapley(levels, subsets)
        full, none = levels[-1], levels[0]
    else:
        raise ScenarioError("relsim", "--method", f"must be 'loo' or 'shapley' (got {method!r})")
    contributions = _contribution_table(sc, chosen, contrib, full - none, method, label)
    level_rows = []
    for run, v in (("with all events", full), (f"without the {len(ids)} chosen events", none)):
        for k, name in enumerate(sc.indicators):
            level_rows.append({"indicator": name, "run": run, **_stats(v[:, k])})
    meta = _metadata(sc, seed, replicates, {"kind": "attribution", "method": method, "removal": removal,
                                            "at": label, "events": ids})
    return Attribution(method, label, contributions, pd.DataFrame(level_rows), meta)


def _shapley(levels: np.ndarray, subsets: list[tuple[bool, ...]]) -> np.ndarray:
    """Exact Shapley values ``[event, r, k]`` from the levels of every subset."""
    n = len(subsets[0])
    where = {s: i for i, s in enumerate(subsets)}
    out = np.zeros((n,) + levels.shape[1:])
    for s, i in where.items():
        size = sum(s)
        for e in range(n):
            if s[e]:
                continue
            w = math.factorial(size) * math.factorial(n - size - 1) / math.factorial(n)
            with_e = s[:e] + (True,) + s[e + 1:]
            out[e] += w * (levels[where[with_e]] - levels[i])
    return out


def _stats(v: np.ndarray) -> dict[str, float]:
    n = len(v)
    sd = float(v.std(ddof=1)) if n > 1 else 0.0
    q05, q95 = np.quantile(v, [0.05, 0.95])
    return {"mean": float(v.mean()), "se": sd / math.sqrt(n), "sd": sd, "q05": float(q05), "q95": float(q95)}


def _contribution_table(sc: Scenario, chosen: list, contrib: np.ndarray, total: np.ndarray, method: str,
                        label: str) -> pd.DataFrame:
    rows = []
    for k, name in enumerate(sc.indicators):
        for e, ev in enumerate(chosen):
            s = _stats(contrib[e, :, k])
            rows.append({"indicator": name, "event": ev.id, "title": ev.title,
                         "date": str(ev.date) if ev.date else "", **s,
                         "statement": _statement(ev.title, name, label, s)})
        rest = total[:, k] - contrib[:, :, k].sum(axis=0)
        if method == "loo":
            s = _stats(rest)
            rows.append({"indicator": name, "event": "(interactions)", "title":
                         "the joint effect of the chosen events minus the sum of their one-by-one effects",
                         "date": "", **s, "statement": ""})
    return pd.DataFrame(rows)


def _statement(title: str, indicator: str, label: str, s: dict) -> str:
    return (f"{title} accounts for {s['mean']:+.2f} ± {1.96 * s['se']:.2f} points of {indicator} at {label} "
            f"(90% of replicates between {s['q05']:+.2f} and {s['q95']:+.2f})")


# --------------------------------------------------------------------------- plots


def _pyplot():
    import matplotlib.pyplot as plt

    return plt


def _grid(plt, n: int, width: float = 5.2, height: float = 3.6):
    cols = min(n, 2)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])


def plot_sensitivity(result: Sensitivity, outcomes: Sequence[str] | None = None):
    """Horizontal bars per outcome (largest at the top), with confidence intervals."""
    plt = _pyplot()
    names = list(outcomes or result.outcomes)[:6]
    fig, axes = _grid(plt, len(names), height=0.45 * result.problem["num_vars"] + 1.6)
    for ax, name in zip(axes, names):
        t = result.indices[result.indices["outcome"] == name]
        if result.method == "sobol":
            t = t.sort_values("ST")
            y = np.arange(len(t))
            ax.barh(y + 0.2, t["ST"], 0.4, xerr=t["ST_conf"], color="#0072B2", label="total (ST)", capsize=2)
            ax.barh(y - 0.2, t["S1"], 0.4, xerr=t["S1_conf"], color="#E69F00", label="first order (S1)", capsize=2)
            ax.set_xlabel("Sobol index (share of variance)")
        else:
            t = t.sort_values("mu_star")
            y = np.arange(len(t))
            ax.barh(y, t["mu_star"], 0.6, xerr=t["mu_star_conf"], color="#0072B2", label="μ*", capsize=2)
            ax.set_xlabel("μ* (mean |elementary effect|, outcome units)")
        ax.set_yticks(y, t["parameter"], fontsize=9)
        ax.axvline(0, color="0.3", lw=0.8)
        ax.set_title(name, fontsize=11)
    axes[0].legend(fontsize=9, loc="lower right")
    fig.suptitle(f"{result.metadata.get('scenario', '')}: {result.method} sensitivity "
                 f"({len(result.samples)} runs)", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def plot_sweep(result: Sweep, outcomes: Sequence[str] | None = None):
    """One parameter: lines with a 95% band; two: heat maps; a hypercube: scatter panels."""
    plt = _pyplot()
    names = list(outcomes or result.outcomes)[:6]
    t = result.table
    if result.kind == "grid" and len(result.parameters) == 1:
        p = result.parameters[0]
        fig, axes = _grid(plt, len(names))
        for ax, name in zip(axes, names):
            ax.plot(t[p], t[name], marker="o", color="#0072B2")
            ax.fill_between(t[p], t[name] - 1.96 * t["se_" + name], t[name] + 1.96 * t["se_" + name],
                            color="#0072B2", alpha=0.2, lw=0)
            ax.set_xlabel(p)
            ax.set_title(name, fontsize=11)
    elif result.kind == "grid":
        p, q = result.parameters
        fig, axes = _grid(plt, len(names))
        for ax, name in zip(axes, names):
            grid = t.pivot(index=q, columns=p, values=name)
            mesh = ax.pcolormesh(grid.columns, grid.index, grid.to_numpy(), shading="nearest", cmap="viridis")
            fig.colorbar(mesh, ax=ax)
            ax.set_xlabel(p)
            ax.set_ylabel(q)
            ax.set_title(name, fontsize=11)
    else:
        params = result.parameters[:6]
        names = names[:4]
        fig, grid_axes = plt.subplots(len(names), len(params), figsize=(2.8 * len(params), 2.4 * len(names)),
                                      squeeze=False, sharey="row")
        for i, name in enumerate(names):
            for j, p in enumerate(params):
                ax = grid_axes[i, j]
                ax.scatter(t[p], t[name], s=6, color="#0072B2", alpha=0.6)
                if i == len(names) - 1:
                    ax.set_xlabel(p, fontsize=8)
                if j == 0:
                    ax.set_ylabel(name, fontsize=8)
    fig.suptitle(f"{result.metadata.get('scenario', '')}: {result.kind} sweep ({len(t)} points)", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def plot_waterfall(result: Attribution, top: int = 8):
    """Per index: the level without the chosen events, each event's step, the level with them.

    The ``top`` events with the largest mean contribution to an index are
    drawn one by one (in date order); the others are one bar, and so are the
    interactions (leave-one-out). Whiskers span the 5–95% band over replicates.
    """
    plt = _pyplot()
    names = list(result.levels["indicator"].unique())
    fig, axes = _grid(plt, len(names), width=6.4, height=4.2)
    for ax, name in zip(axes, names):
        _waterfall(ax, result, name, top)
    fig.suptitle(f"{result.metadata.get('scenario', '')}: event contributions at {result.at} "
                 f"({'leave-one-out' if result.method == 'loo' else 'Shapley values'})", fontsize=12)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def _waterfall(ax, result: Attribution, name: str, top: int) -> None:
    lv = result.levels[result.levels["indicator"] == name].set_index("run")["mean"]
    c = result.contributions[result.contributions["indicator"] == name]
    events = c[~c["event"].str.startswith("(")]
    big = events.reindex(events["mean"].abs().sort_values(ascending=False).index)[:top].sort_values("date")
    steps = [(r.event, r.mean, r.mean - r.q05, r.q95 - r.mean) for r in big.itertuples()]
    rest = events.drop(big.index)
    if len(rest):
        steps.append((f"{len(rest)} other events", rest["mean"].sum(), 0.0, 0.0))
    inter = c[c["event"] == "(interactions)"]
    if len(inter):
        r = inter.iloc[0]
        steps.append(("interactions", r["mean"], r["mean"] - r["q05"], r["q95"] - r["mean"]))
    start, end = lv.iloc[1], lv.iloc[0]
    labels = [f"without the {len(events)}"] + [s[0] for s in steps] + ["with all"]
    ax.bar(0, start, color="0.6")
    level = start
    for i, (label, d, lo, hi) in enumerate(steps, start=1):
        ax.bar(i, d, bottom=level, color="#009E73" if d >= 0 else "#D55E00",
               yerr=[[max(lo, 0)], [max(hi, 0)]], capsize=2, ecolor="0.2")
        level += d
    ax.bar(len(steps) + 1, end, color="0.3")
    low = min(start, end, *(start + np.cumsum([s[1] for s in steps]))) if steps else min(start, end)
    ax.set_ylim(max(0, low - 10), None)
    ax.set_xticks(range(len(labels)), [_short(x) for x in labels], rotation=60, ha="right", fontsize=8)
    ax.set_ylabel("index points")
    ax.set_title(name, fontsize=11)


def _short(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


# --------------------------------------------------------------------------- command line


def add_commands(sub) -> dict[str, Callable]:
    """Add ``sensitivity``, ``sweep`` and ``attribute`` to the ``relsim`` sub-parsers.

    Each parser gets ``func`` as its default; the handlers are also returned
    by name, for a command table.
    """
    def common(p, replicates: int) -> None:
        p.add_argument("scenario", type=Path)
        p.add_argument("--out", type=Path, help="output folder (default: results/<scenario>-<command>)")
        p.add_argument("--replicates", type=_positive("--replicates"), default=replicates,
                       help=f"replicates per run, common to all runs (default {replicates})")
        p.add_argument("--seed", type=_positive("--seed", 0), help="default: the scenario's seed")
        p.add_argument("--no-plots", action="store_true", help="skip the PNG plot")
        p.add_argument("--workers", type=_positive("--workers"), default=1,
                       help="worker processes (default 1)")
        p.add_argument("--scheduler", help="run on Dask: 'local' or a scheduler address")

    def outcome_options(p) -> None:
        p.add_argument("--outcomes", help="comma-separated outcome names, or 'all' (default: the outlook means)")
        p.add_argument("--period", default="2026:2035", help="outlook years A:B of the mean_* outcomes")
        p.add_argument("--at-year", type=int, default=2030, help="year of the <index>_<year> outcomes")
        p.add_argument("--no-noise", action="store_true", help="switch the noise off (one deterministic replicate)")

    sens = sub.add_parser("sensitivity", help="Sobol or Morris sensitivity indices with SALib")
    common(sens, DEFAULT_REPLICATES)
    sens.add_argument("--params", nargs="+", metavar="NAME[=LOW:HIGH]",
                      help="parameters and ranges (default: a set of key assumptions and 'dummy')")
    sens.add_argument("--method", choices=("sobol", "morris"), default="sobol")
    sens.add_argument("--samples", type=_positive("--samples"), default=256,
                      help="Sobol base sample (a power of 2) or Morris trajectories (default 256)")
    sens.add_argument("--sample-seed", type=_positive("--sample-seed", 0), default=0)
    outcome_options(sens)
    sens.set_defaults(func=_cmd_sensitivity)

    sw = sub.add_parser("sweep", help="outcomes over a grid of one or two parameters, or a Latin hypercube")
    common(sw, DEFAULT_REPLICATES)
    sw.add_argument("--grid", action="append", metavar="NAME=START:STOP:STEPS", help="a grid axis (once or twice)")
    sw.add_argument("--lhs", type=_positive("--lhs", 2), metavar="N", help="N Latin hypercube points over --params")
    sw.add_argument("--params", nargs="+", metavar="NAME[=LOW:HIGH]", help="ranges for --lhs")
    sw.add_argument("--sample-seed", type=_positive("--sample-seed", 0), default=0)
    outcome_options(sw)
    sw.set_defaults(func=_cmd_sweep)

    at = sub.add_parser("attribute", help="what each event contributed to each index at a date")
    common(at, 100)
    at.add_argument("--at", required=True, help="a date YYYY-MM-DD (the record on or before it) or a year YYYY")
    at.add_argument("--events", default="all", help="comma-separated event ids, or 'all' up to --at (default)")
    at.add_argument("--method", choices=("loo", "shapley"), default="loo")
    at.add_argument("--removal", choices=("zero", "drop"), default="zero",
                    help="zero: scale the event's effects to 0 (default); drop: remove it and its follow-ups")
    at.add_argument("--top", type=_positive("--top"), default=8, help="events drawn one by one in the waterfall")
    at.set_defaults(func=_cmd_attribute)
    return {"sensitivity": _cmd_sensitivity, "sweep": _cmd_sweep, "attribute": _cmd_attribute}


def _positive(flag: str, minimum: int = 1) -> Callable[[str], int]:
    import argparse

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{flag} must be an integer (got {text!r})") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{flag} must be >= {minimum} (got {value})")
        return value

    return parse


def _load(args) -> tuple[Scenario, Outcomes]:
    sc = load_scenario(args.scenario)
    if getattr(args, "no_noise", False):
        sc = sc.model_copy(update={"run": sc.run.model_copy(update={"noise": False})})
    spec = None
    if hasattr(args, "period"):
        a, b = _numbers(args.period, 2, args.period, "--period", "A:B")
        spec = Outcomes((int(a), int(b)), int(args.at_year))
        spec.check(sc)
    return sc, spec or Outcomes()


def _ranges(specs: list[str] | None, sc: Scenario, default: Sequence[str] | None) -> dict:
    items = [parse_range(s, sc) for s in (specs or default or [])]
    names = [n for n, _ in items]
    if len(set(names)) < len(names):
        raise ScenarioError("relsim", "--params", f"a parameter is given twice: {names}")
    return dict(items)


def _matplotlib() -> None:
    import matplotlib

    matplotlib.use("Agg")


def _cmd_sensitivity(args) -> int:
    sc, spec = _load(args)
    ranges = _ranges(args.params, sc, DEFAULT_PARAMS)
    res = sensitivity(sc, ranges, method=args.method, samples=args.samples, replicates=args.replicates,
                      seed=args.seed, sample_seed=args.sample_seed, outcomes=args.outcomes, spec=spec,
                      workers=args.workers, scheduler=args.scheduler, progress=True)
    if not args.no_plots:
        _matplotlib()
    out = res.save(args.out or Path("results") / f"{sc.name}-sensitivity", plots=not args.no_plots)
    print(f"wrote {out}/: indices.csv samples.csv metadata.json" + ("" if args.no_plots else " sensitivity.png"))
    return 0


def _cmd_sweep(args) -> int:
    sc, spec = _load(args)
    if bool(args.grid) == bool(args.lhs):
        raise ScenarioError("relsim", "sweep", "give --grid (one or two) or --lhs N with --params")
    if args.grid:
        grid = dict(parse_grid(g) for g in args.grid)
        res = sweep(sc, grid, args.replicates, args.seed, args.outcomes, spec, args.workers, args.scheduler, True)
    else:
        if not args.params:
            raise ScenarioError("relsim", "--params", "--lhs needs --params NAME=LOW:HIGH ...")
        res = latin_hypercube(sc, _ranges(args.params, sc, None), args.lhs, args.sample_seed, args.replicates,
                              args.seed, args.outcomes, spec, args.workers, args.scheduler, True)
    if not args.no_plots:
        _matplotlib()
    out = res.save(args.out or Path("results") / f"{sc.name}-sweep", plots=not args.no_plots)
    print(f"wrote {out}/: sweep.csv metadata.json" + ("" if args.no_plots else " sweep.png"))
    return 0


def _cmd_attribute(args) -> int:
    sc = load_scenario(args.scenario)
    res = attribute(sc, args.at, args.events, method=args.method, removal=args.removal,
                    replicates=args.replicates, seed=args.seed, workers=args.workers,
                    scheduler=args.scheduler, progress=True)
    if not args.no_plots:
        _matplotlib()
    out = res.save(args.out or Path("results") / f"{sc.name}-attribution", plots=not args.no_plots, top=args.top)
    c = res.contributions
    best = c[~c["event"].str.startswith("(")].assign(size=lambda d: d["mean"].abs()).nlargest(5, "size")
    for line in best["statement"]:
        print(line)
    print(f"wrote {out}/: contributions.csv levels.csv metadata.json" + ("" if args.no_plots else " waterfall.png"))
    return 0
