"""Attribution: what each event contributed to each index at a date, from paired runs.

Every run uses the same seed and replicate numbers (common random numbers)
and contributions are taken replicate by replicate: leave one out (with the
interactions left over as their own row) or exact Shapley values.
"""

from __future__ import annotations

import itertools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError, did_you_mean
from ..parallel import one_blas_thread
from ..scenario import Scenario, scenario_from_dict
from .outcomes import _paths, as_scenario
from .points import analysis_metadata, batches, run_batches, write_tables

__all__ = ["MAX_SHAPLEY", "Attribution", "attribute", "without_events"]


@dataclass
class Attribution:
    """What each event contributed to each index at a date, from paired runs."""

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


def _chosen_events(sc: Scenario, events: Sequence[str] | str | None, last_day: str) -> list:
    timeline = sc.timeline()
    by_id = {e.id: e for e in timeline}
    if events is None or events == "all" or events == ["all"]:
        limit = pd.Timestamp(last_day).date()
        return [e for e in timeline if e.date is not None and e.date <= limit]
    ids = [i.strip() for i in events.split(",")] if isinstance(events, str) else list(events)
    for i in ids:
        if i not in by_id:
            raise ArgumentError(
                "events", f"{i!r} is not an event of this scenario{did_you_mean(i, by_id)}"
            )
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
        events["drop"] = list(
            dict.fromkeys(list(events.get("drop", [])) + [i for i in ids if i not in added])
        )
        gone = {i for i in ids if i in added}
        keep = list(events.get("add", []))
        while True:
            after = [
                e for e in keep if e["id"] in gone or (e.get("after") or {}).get("event") in gone
            ]
            if not after:
                break
            gone |= {e["id"] for e in after}
            keep = [e for e in keep if e["id"] not in gone]
        events["add"] = keep
        for key in ("scale", "move"):
            events[key] = {k: v for k, v in events.get(key, {}).items() if k not in gone}
    else:
        raise ArgumentError("removal", f"must be 'drop' or 'zero' (got {removal!r})")
    return scenario_from_dict(data, file=f"{scenario.name} without {', '.join(ids)}")


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
) -> Attribution:
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
    sc = as_scenario(scenario)
    seed = sc.run.seed if seed is None else int(seed)
    _, label, last_day = _reader(sc, at)
    chosen = _chosen_events(sc, events, last_day)
    _check_choice(sc, chosen, method, last_day)
    ids = [e.id for e in chosen]
    if method not in _METHODS:
        raise ArgumentError("method", f"must be 'loo' or 'shapley' (got {method!r})")

    def run(variants: list[Scenario]) -> np.ndarray:
        return _run_variants(variants, replicates, seed, at, workers, scheduler, progress)

    contrib, full, none = _METHODS[method](sc, ids, removal, run)
    contributions = _contribution_table(sc, chosen, contrib, full - none, method, label)
    meta = analysis_metadata(
        sc,
        seed,
        replicates,
        {"kind": "attribution", "method": method, "removal": removal, "at": label, "events": ids},
    )
    return Attribution(method, label, contributions, _level_table(sc, len(ids), full, none), meta)


def _check_choice(sc: Scenario, chosen: list, method: str, last_day: str) -> None:
    """Some event is chosen, and no more than :data:`MAX_SHAPLEY` for Shapley values."""
    if not chosen:
        raise ArgumentError("events", f"no event of {sc.name} on or before {last_day}")
    if method == "shapley" and len(chosen) > MAX_SHAPLEY:
        raise ArgumentError(
            "events",
            f"Shapley values need 2^n runs: choose at most {MAX_SHAPLEY} "
            f"events (got {len(chosen)}), or use leave-one-out",
        )


#: Levels ``[variant, r, k]`` of a list of scenario variants (:func:`_run_variants`).
_Runner = Callable[[list[Scenario]], np.ndarray]


def _leave_one_out(
    sc: Scenario, ids: list[str], removal: str, run: _Runner
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Contributions ``[event, r, k]`` left one out, and the levels with and without them all."""
    variants = [sc, without_events(sc, ids, removal)] + [
        without_events(sc, [i], removal) for i in ids
    ]
    levels = run(variants)
    full, none = levels[0], levels[1]
    contrib = full[None] - levels[2:]  # [event, r, k]
    return contrib, full, none


def _shapley_values(
    sc: Scenario, ids: list[str], removal: str, run: _Runner
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shapley values ``[event, r, k]`` from every subset, and the levels with and without all."""
    subsets = list(itertools.product((False, True), repeat=len(ids)))  # True: the event is present
    variants = [
        without_events(sc, [i for i, on in zip(ids, s) if not on], removal) for s in subsets
    ]
    levels = run(variants)
    contrib = _shapley(levels, subsets)
    full, none = levels[-1], levels[0]
    return contrib, full, none


#: How each method runs its variants and takes the contributions from their levels.
_METHODS = {"loo": _leave_one_out, "shapley": _shapley_values}


def _level_table(sc: Scenario, n: int, full: np.ndarray, none: np.ndarray) -> pd.DataFrame:
    """Each index's level with every event and without the ``n`` chosen ones."""
    level_rows = []
    for run, v in (("with all events", full), (f"without the {n} chosen events", none)):
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
    sc: Scenario, chosen: list, contrib: np.ndarray, total: np.ndarray, method: str, label: str
) -> pd.DataFrame:
    rows = []
    for k, name in enumerate(sc.indicators):
        for e, ev in enumerate(chosen):
            s = _stats(contrib[e, :, k])
            rows.append(
                {
                    "indicator": name,
                    "event": ev.id,
                    "title": ev.title,
                    "date": str(ev.date) if ev.date else "",
                    **s,
                    "statement": _statement(ev.title, name, label, s),
                }
            )
        rest = total[:, k] - contrib[:, :, k].sum(axis=0)
        if method == "loo":
            s = _stats(rest)
            rows.append(
                {
                    "indicator": name,
                    "event": "(interactions)",
                    "title": "the joint effect of the chosen events minus the sum of their "
                    "one-by-one effects",
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
