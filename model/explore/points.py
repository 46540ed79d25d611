"""Many parameter points: outcomes at each, in this process, in workers or on Dask.

:func:`evaluate` runs a table of parameter points (one column per parameter)
in batches through :func:`model.parallel.run_tasks` and returns the outcomes'
means and Monte Carlo standard errors at each point. The analyses
(sensitivity, sweeps, attribution) are built on it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import ArgumentError, did_you_mean
from ..parallel import one_blas_thread, progress_bar, run_tasks, worker_count
from ..params import apply
from ..scenario import Scenario
from .outcomes import DEFAULT_REPLICATES, Outcomes, as_scenario, replicate_outcomes

__all__ = [
    "analysis_metadata",
    "batches",
    "default_outcomes",
    "evaluate",
    "run_batches",
    "select",
    "write_tables",
]


def _points(
    scenario: Scenario, points: list[dict], seeds: list[int], replicates: int, spec: Outcomes
) -> list[tuple[dict, dict]]:
    """Means and standard errors of the outcomes at each point (runs in workers too)."""
    out = []
    with one_blas_thread():
        for params, seed in zip(points, seeds):
            frame = replicate_outcomes(params, scenario, seed, replicates, spec)
            se = (
                frame.std(ddof=1) / math.sqrt(len(frame)) if len(frame) > 1 else frame.iloc[0] * 0.0
            )
            out.append((frame.mean().to_dict(), se.to_dict()))
    return out


def run_batches(
    fn: Callable,
    tasks: list[tuple],
    sizes: list[int],
    workers: int | None,
    scheduler: str | None,
    progress: bool,
    unit: str,
) -> list:
    """``[fn(*task) for task in tasks]`` here, in processes or on Dask; results in order."""
    bar = progress_bar(sum(sizes), progress, unit)
    results: list = [None] * len(tasks)
    try:
        for i, out in run_tasks(fn, tasks, sizes, workers=workers, scheduler=scheduler, bar=bar):
            results[i] = out
    finally:
        bar.close()
    return results


def batches(n: int, workers: int | None) -> list[slice]:
    """Slices of ``n`` points, several per worker, at most 64 each."""
    w = worker_count(workers)
    size = max(1, min(64, -(-n // (8 * w))))
    return [slice(a, min(a + size, n)) for a in range(0, n, size)]


def evaluate(
    scenario: Scenario | str | Path,
    points: pd.DataFrame,
    seed: int | None = None,
    replicates: int = DEFAULT_REPLICATES,
    outcomes: Outcomes | None = None,
    common_random_numbers: bool = True,
    workers: int | None = 1,
    scheduler: str | None = None,
    progress: bool = False,
) -> pd.DataFrame:
    """The outcomes at every row of ``points`` (columns: parameter names).

    Returns ``points`` with one column per outcome (the mean over replicates)
    and ``se_<outcome>`` (its Monte Carlo standard error). With
    ``common_random_numbers`` (the default) every point runs replicates
    ``0..replicates-1`` with the same seed; without, point ``i`` uses seed
    ``seed + 1 + i`` (only to show what the noise does to an analysis).
    """
    sc = as_scenario(scenario)
    spec = outcomes or Outcomes()
    spec.check(sc)
    seed = sc.run.seed if seed is None else int(seed)
    rows = points.to_dict("records")
    if rows:
        apply(sc, rows[0])  # a bad name fails here, before any worker starts
    seeds = (
        [seed] * len(rows) if common_random_numbers else [seed + 1 + i for i in range(len(rows))]
    )
    cuts = batches(len(rows), workers if scheduler is None else 2)
    tasks = [(sc, rows[c], seeds[c], replicates, spec) for c in cuts]
    done = run_batches(
        _points, tasks, [c.stop - c.start for c in cuts], workers, scheduler, progress, "point"
    )
    pairs = [pair for batch in done for pair in batch]
    means = pd.DataFrame([m for m, _ in pairs], index=points.index)
    ses = pd.DataFrame([s for _, s in pairs], index=points.index).add_prefix("se_")
    return pd.concat([points, means, ses], axis=1)


def select(
    names: Sequence[str] | str | None, available: list[str], default: list[str]
) -> list[str]:
    if names is None:
        return default
    if isinstance(names, str):
        names = available if names == "all" else [n.strip() for n in names.split(",") if n.strip()]
    for n in names:
        if n not in available:
            raise ArgumentError(
                "outcomes", f"unknown outcome {n!r}{did_you_mean(n, available, cutoff=0.5)}"
            )
    return list(names)


def default_outcomes(sc: Scenario, spec: Outcomes) -> list[str]:
    a, b = spec.period
    return [f"mean_{k}_{a}_{b}" for k in sc.indicators]


def analysis_metadata(sc: Scenario, seed: int, replicates: int, analysis: dict) -> dict:
    from ..provenance import run_metadata

    meta = run_metadata(sc, replicates, seed)
    meta["analysis"] = analysis
    return meta


def write_tables(
    out: str | Path,
    tables: dict[str, pd.DataFrame],
    meta: dict,
    figures: dict[str, Any] | None = None,
) -> Path:
    """The tables (CSV), ``metadata.json`` and any figures (PNG), written into ``out`` at once."""
    import json

    from ..results import atomic_output

    with atomic_output(out) as tmp:
        for name, table in tables.items():
            table.to_csv(tmp / name, index=False, float_format="%.6g")
        (tmp / "metadata.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
        for name, fig in (figures or {}).items():
            fig.savefig(tmp / name, dpi=150, bbox_inches="tight")  # as every figure
    return Path(out)
