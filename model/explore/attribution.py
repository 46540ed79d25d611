"""Attribution: what each causal cluster or event contributed to each index at a date.

Contributions come from paired runs: every run uses the same seed and
replicate numbers (common random numbers) and contributions are taken
replicate by replicate, by leaving one factor out (with the interactions left
over as their own row) or as exact Shapley values. A factor is a causal
cluster (the whole chain knocked out at once: the downing with the sanctions
and their lifting) or an event outside any cluster, or, on request, each
event alone (:mod:`.knockout`).
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError
from ..parallel import one_blas_thread
from ..scenario import Factor, Scenario
from .knockout import chosen_factors, without_events
from .outcomes import _paths, as_scenario
from .points import analysis_metadata, batches, run_batches, write_tables

__all__ = ["MAX_SHAPLEY", "Attribution", "attribute", "without_events"]


@dataclass
class Attribution:
    """What each cluster or event contributed to each index at a date, from paired runs.

    In ``contributions`` the ``event`` column holds the factor's id (a
    cluster's id, or an event's), ``title`` its title and ``date`` its first
    event's date; ``metadata["factors"]`` lists each factor's events.
    """

    method: str  # "loo" or "shapley"
    at: str  # the date or year the levels are read at
    contributions: pd.DataFrame  # indicator, event, title, date, mean, se, sd, q05, q95, statement
    levels: (
        pd.DataFrame
    )  # indicator, run, mean, se, q05, q95 (with all events / without the chosen)
    metadata: dict = field(default_factory=dict)

    def save(self, out: str | Path, figures: dict[str, Any] | None = None) -> Path:
        """``contributions.csv``, ``levels.csv``, ``metadata.json`` (and ``figures``) in ``out``."""
        return write_tables(
            out,
            {"contributions.csv": self.contributions, "levels.csv": self.levels},
            self.metadata,
            figures,
        )


def _reader(scenario: Scenario, at: str) -> tuple[Callable[[np.ndarray], np.ndarray], str, str]:
    """A function ``values[t, r, k] -> levels[r, k]`` at ``at``, its label and the last day used."""
    dates = pd.DatetimeIndex(scenario.record_dates())
    text = str(at).strip()
    if re.fullmatch(r"\d{4}", text):
        sel = np.flatnonzero(dates.year == int(text))
        if sel.size == 0:
            raise ArgumentError(
                "at", f"year {text} has no record in the run {dates[0].date()}..{dates[-1].date()}"
            )
        return (
            (lambda v: v[sel].mean(axis=0)),
            f"{text} (mean of {sel.size} records)",
            str(dates[sel[-1]].date()),
        )
    try:
        when = pd.Timestamp(text)
    except ValueError:
        raise ArgumentError(
            "at", f"expected a date YYYY-MM-DD or a year YYYY (got {text!r})"
        ) from None
    i = int(np.searchsorted(dates.values, when.to_datetime64(), side="right")) - 1
    if i < 0 or when > pd.Timestamp(scenario.run.end):
        raise ArgumentError(
            "at", f"{text} is outside the run {dates[0].date()}..{scenario.run.end}"
        )
    return (lambda v: v[i]), str(dates[i].date()), str(dates[i].date())


def _levels(variants: list[Scenario], replicates: int, seed: int, at: str) -> list[np.ndarray]:
    """Levels ``[r, k]`` at ``at`` for each scenario variant (runs in workers too)."""
    out = []
    with one_blas_thread():
        for sc in variants:
            read, _, _ = _reader(sc, at)
            out.append(read(_paths(sc, replicates, seed)))
    return out


def _run_variants(
    variants: list[Scenario], replicates: int, seed: int, at: str, workers, scheduler, progress
) -> np.ndarray:
    cuts = batches(len(variants), workers if scheduler is None else 2)
    tasks = [(variants[c], replicates, seed, at) for c in cuts]
    done = run_batches(
        _levels,
        tasks,
        [(c.stop - c.start) * replicates for c in cuts],
        workers,
        scheduler,
        progress,
        "rep",
    )
    return np.stack([v for batch in done for v in batch])  # [variant, r, k]


MAX_SHAPLEY = 10


def attribute(
    scenario: Scenario | str | Path,
    at: str,
    events: Sequence[str] | str | None = None,
    method: str = "loo",
    removal: str = "zero",
    replicates: int = 100,
    seed: int | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    progress: bool = False,
    per_event: bool = False,
) -> Attribution:
    """What each causal cluster (or event) contributed to each index at ``at`` (a date or year).

    By default every causal cluster with an event on or before ``at`` is one
    factor, knocked out whole (the Su-24 downing with the sanctions, their
    lifting and the thaw), and every other such event a factor alone;
    ``per_event`` makes each event a factor; ``events`` chooses event ids
    (each alone) and cluster ids (each whole).

    Runs share seed and replicate numbers (common random numbers) and
    contributions are taken replicate by replicate. ``method="loo"``: a
    factor's contribution is the level with every event minus the level
    without that factor; the interactions are their own row.
    ``method="shapley"``: exact Shapley values over the chosen factors (2^n
    runs, at most 10), which add up to the level with all of them minus the
    level without any. Factors not chosen stay in every run.

    ``removal="zero"`` (the default) keeps a removed event on the calendar
    with its effects scaled to zero, so the paired runs split time at the same
    moments and share all their noise; nothing else goes with it, so a single
    event's contribution is its own effects (its consequences stay). With
    ``"drop"`` the events are dropped and whatever requires them goes too (see
    :func:`without_events`): a single event's contribution then includes its
    consequences', and a cluster's is exactly the level with every event minus
    the level of the scenario that drops the cluster's roots.
    """
    sc = as_scenario(scenario)
    seed = sc.run.seed if seed is None else int(seed)
    _, label, last_day = _reader(sc, at)
    chosen = chosen_factors(sc, events, last_day, per_event)
    _check_choice(sc, chosen, method, last_day)
    if method not in _METHODS:
        raise ArgumentError("method", f"must be 'loo' or 'shapley' (got {method!r})")

    def run(variants: list[Scenario]) -> np.ndarray:
        return _run_variants(variants, replicates, seed, at, workers, scheduler, progress)

    contrib, full, none = _METHODS[method](sc, [f.members for f in chosen], removal, run)
    contributions = _contribution_table(sc, chosen, contrib, full - none, method, label)
    settings: dict[str, Any] = {
        "kind": "attribution",
        "method": method,
        "removal": removal,
        "at": label,
    }
    settings |= {"events": [f.id for f in chosen], "per_event": per_event}
    settings["factors"] = {f.id: list(f.members) for f in chosen}
    meta = analysis_metadata(sc, seed, replicates, settings)
    return Attribution(method, label, contributions, _level_table(sc, chosen, full, none), meta)


def _check_choice(sc: Scenario, chosen: list[Factor], method: str, last_day: str) -> None:
    """Some factor is chosen, and no more than :data:`MAX_SHAPLEY` for Shapley values."""
    if not chosen:
        raise ArgumentError("events", f"no event of {sc.name} on or before {last_day}")
    if method == "shapley" and len(chosen) > MAX_SHAPLEY:
        what = "events" if all(not f.is_cluster for f in chosen) else "clusters and events"
        raise ArgumentError(
            "events",
            f"Shapley values need 2^n runs: choose at most {MAX_SHAPLEY} "
            f"{what} (got {len(chosen)}), or use leave-one-out",
        )


#: Levels ``[variant, r, k]`` of a list of scenario variants (:func:`_run_variants`).
_Runner = Callable[[list[Scenario]], np.ndarray]


#: The events of each chosen factor.
_Groups = list[tuple[str, ...]]


def _leave_one_out(
    sc: Scenario, groups: _Groups, removal: str, run: _Runner
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contributions ``[factor, r, k]`` left one out, and the levels with and without them all."""
    every = [i for g in groups for i in g]
    variants = [sc, without_events(sc, every, removal)] + [
        without_events(sc, g, removal) for g in groups
    ]
    levels = run(variants)
    full, none = levels[0], levels[1]
    contrib = full[None] - levels[2:]  # [event, r, k]
    return contrib, full, none


def _shapley_values(
    sc: Scenario, groups: _Groups, removal: str, run: _Runner
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shapley values ``[factor, r, k]`` from every subset, and the levels with and without all."""
    subsets = list(itertools.product((False, True), repeat=len(groups)))  # True: it is present
    variants = [
        without_events(sc, [i for g, on in zip(groups, s) if not on for i in g], removal)
        for s in subsets
    ]
    levels = run(variants)
    contrib = _shapley(levels, subsets)
    full, none = levels[-1], levels[0]
    return contrib, full, none


#: How each method runs its variants and takes the contributions from their levels.
_METHODS = {"loo": _leave_one_out, "shapley": _shapley_values}


def _level_table(
    sc: Scenario, chosen: list[Factor], full: np.ndarray, none: np.ndarray
) -> pd.DataFrame:
    """Each index's level with every event and without the chosen factors."""
    n = len(chosen)
    what = "events" if all(not f.is_cluster for f in chosen) else "clusters and events"
    level_rows = []
    for run, v in (("with all events", full), (f"without the {n} chosen {what}", none)):
        for k, name in enumerate(sc.indicators):
            level_rows.append({"indicator": name, "run": run, **_stats(v[:, k])})
    return pd.DataFrame(level_rows)


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
            with_e = s[:e] + (True,) + s[e + 1 :]
            out[e] += w * (levels[where[with_e]] - levels[i])
    return out


def _stats(v: np.ndarray) -> dict[str, float]:
    n = len(v)
    sd = float(v.std(ddof=1)) if n > 1 else 0.0
    q05, q95 = np.quantile(v, [0.05, 0.95])
    return {
        "mean": float(v.mean()),
        "se": sd / math.sqrt(n),
        "sd": sd,
        "q05": float(q05),
        "q95": float(q95),
    }


def _contribution_table(
    sc: Scenario,
    chosen: list[Factor],
    contrib: np.ndarray,
    total: np.ndarray,
    method: str,
    label: str,
) -> pd.DataFrame:
    dates = {e.id: e.date for e in sc.timeline()}
    rows = []
    for k, name in enumerate(sc.indicators):
        for e, f in enumerate(chosen):
            s = _stats(contrib[e, :, k])
            first = min((d for i in f.members if (d := dates[i]) is not None), default=None)
            who = f"{f.title} ({len(f.members)} events)" if f.is_cluster else f.title
            rows.append(
                {
                    "indicator": name,
                    "event": f.id,
                    "title": f.title,
                    "date": str(first) if first else "",
                    **s,
                    "statement": _statement(who, name, label, s),
                }
            )
        rest = total[:, k] - contrib[:, :, k].sum(axis=0)
        if method == "loo":
            s = _stats(rest)
            rows.append(
                {
                    "indicator": name,
                    "event": "(interactions)",
                    "title": "the joint effect of the chosen "
                    + ("events" if all(not f.is_cluster for f in chosen) else "factors")
                    + " minus the sum of their one-by-one effects",
                    "date": "",
                    **s,
                    "statement": "",
                }
            )
    return pd.DataFrame(rows)


def _statement(title: str, indicator: str, label: str, s: dict) -> str:
    return (
        f"{title} accounts for {s['mean']:+.2f} ± {1.96 * s['se']:.2f} points of {indicator} "
        f"at {label} "
        f"(90% of replicates between {s['q05']:+.2f} and {s['q95']:+.2f})"
    )
