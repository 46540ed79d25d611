"""The page's runs: the ensemble and the quick path, kept for going back, and the outcome table.

:func:`compute` runs the page's scenario as an ensemble and :func:`compute_path`
as one replicate without noise (the quick answer to a change); both keep the
last runs. The page runs only settings :func:`~model.classroom.check` accepts.
:func:`preview_size` says how many replicates a first look may use when
incidents make the full run slow.
"""

from __future__ import annotations

import html
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass, field

import pandas as pd

from ..ensemble import simulate
from ..indices import TITLES
from ..metrics import outcome_metrics
from ..results import Result
from ..scenario import scenario_from_dict
from .settings import Settings, scenario_dict, stamp

__all__ = [
    "OUTCOME_YEARS",
    "PROJECTION_START",
    "View",
    "cached",
    "compute",
    "compute_path",
    "outcome_table",
    "preview_size",
]

OUTCOME_YEARS = (2026, 2035)
PROJECTION_START = pd.Timestamp("2026-01-01")
PREVIEW_WORK = 30  # replicates x incident rate that a quick preview may cost (about 0.4 s)


@dataclass
class View:
    """One run, ready to show: the result, its outcome table and the time it took."""

    settings: Settings
    result: Result
    outcomes: pd.DataFrame  # indicator x (mean, worst, years_in_crisis), means over replicates
    seconds: float
    crisis: dict[str, float] = field(default_factory=dict)


_CACHE_SIZE = 24
_cache: OrderedDict[tuple[tuple[int, ...], bool, Settings], View] = OrderedDict()
_cache_lock = threading.Lock()


def _run(settings: Settings, path: bool = False) -> View:
    """Run the page's scenario (no cache); ``path``: one replicate without noise."""
    t0 = time.perf_counter()
    data = scenario_dict(settings)
    if path:
        data["run"] = dict(data.get("run", {}), noise=False)
    sc = scenario_from_dict(data, file="page")
    res = simulate(
        sc,
        replicates=1 if path else settings.replicates,
        seed=sc.run.seed,
        trajectories=not path,
        workers=1,
    )
    crisis = {k: v.crisis for k, v in sc.indices.items()}
    if path:  # drawn, not tabled: no outcomes to compute
        empty = pd.DataFrame(columns=["mean", "worst", "years_in_crisis"], dtype=float)
        return View(settings, res, empty, time.perf_counter() - t0, crisis)
    metrics = outcome_metrics(res, crisis, *OUTCOME_YEARS)
    table = (
        metrics[metrics["metric"].isin(["mean", "worst", "years_in_crisis"])]
        .pivot(index="indicator", columns="metric", values="mean")
        .reindex(
            index=list(dict.fromkeys(metrics["indicator"])),
            columns=["mean", "worst", "years_in_crisis"],
        )
    )
    return View(settings, res, table, time.perf_counter() - t0, crisis)


def compute(settings: Settings) -> View:
    """Run the page's scenario; the last runs are kept, so going back costs nothing.

    The page runs only what :func:`~model.classroom.check` accepts (its controls' ranges);
    from Python any replicate count will do."""
    return _kept(settings, path=False)


def compute_path(settings: Settings) -> View:
    """The page's scenario as one replicate without noise: the quick answer to a change
    (a few tens of milliseconds), shown while the ensemble's bands are computed."""
    return _kept(settings, path=True)


def _kept(settings: Settings, path: bool) -> View:
    key = (stamp(), path, settings.normalised())
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    view = _run(key[2], path)
    with _cache_lock:
        _cache[key] = view
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return view


def cached(settings: Settings) -> bool:
    """Whether ``settings`` has been run already (so showing it costs nothing)."""
    with _cache_lock:
        return (stamp(), False, settings.normalised()) in _cache


def preview_size(settings: Settings) -> int | None:
    """Replicates for a quick first look, or None when the full run is quick anyway.

    Incidents are resolved to the day per replicate, so a run with them costs
    about in proportion to replicates x incident rate; without them a few
    hundred replicates take a fraction of a second.
    """
    if settings.incidents <= 0:
        return None
    n = int(max(10, min(PREVIEW_WORK, PREVIEW_WORK / settings.incidents)))
    return n if n < settings.replicates else None


def outcome_table(view: View, reference: View | None = None) -> str:
    """The outcome table as HTML: one row per index, 2026–2035."""
    years = OUTCOME_YEARS[1] - OUTCOME_YEARS[0] + 1
    head = (
        "<tr><th>index</th><th>mean level</th><th>change from the record</th>"
        f"<th>worst level</th><th>years in crisis (of {years})</th></tr>"
    )
    rows = []
    for name, row in view.outcomes.iterrows():
        delta = ""
        if reference is not None and name in reference.outcomes.index:
            d = row["mean"] - reference.outcomes.loc[name, "mean"]
            delta = "0.0" if abs(d) < 0.05 else f"{d:+.1f}"
        cells = [
            f'<td class="name">{html.escape(TITLES.get(name, name))}</td>',
            f'<td data-metric="mean">{row["mean"]:.1f}</td>',
            f'<td data-metric="change">{delta or "–"}</td>',
            f'<td data-metric="worst">{row["worst"]:.1f}</td>',
            f'<td data-metric="years_in_crisis">{row["years_in_crisis"]:.2f}</td>',
        ]
        rows.append(f'<tr data-index="{name}">' + "".join(cells) + "</tr>")
    caption = (
        f"Outcomes {OUTCOME_YEARS[0]}–{OUTCOME_YEARS[1]}, averaged over "
        f"{view.settings.replicates} replicates. Crisis: an index below "
        f"{min(view.crisis.values(), default=25):g}."
    )
    return (
        f'<table class="outcomes" id="outcomes"><caption>{caption}</caption>'
        f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>"
    )
