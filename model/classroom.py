"""The classroom page's model: what the page shows and what each control changes (no web framework).

The page (:mod:`model.app`) lets a teacher switch events of the record off
(a cause, not a row: switching the Su-24 downing off takes the sanctions and
their lifting with it, :func:`toggle` and :func:`causal_note`), move their
dates, pick Türkiye's policy from 2026 and its settings, the
number of replicates and the rate of random incidents. All of that is a
:class:`Settings` value; :func:`scenario_dict` lays it over the shipped
``baseline.toml`` (events switched off go to ``events.drop``, moved ones to
``events.move``, a policy other than passive to ``[policy]`` with the other
actors' reactions, and the incident rate scales the hazards of the shipped
``stress.toml``). Every run uses the baseline's seed, so a change on the page
shows what the change does, not new noise. Runs are cached
(:func:`compute`), so going back to earlier settings is instant; with
incidents on, :func:`preview_size` says how many replicates a quick first
look may use. :func:`outcome_table` and :func:`guided_text` are the page's
table and the guided history's text; the charts are in
:mod:`model.plotting.classroom`.
"""

from __future__ import annotations

import copy
import datetime as dt
import html
import threading
import time
from collections import OrderedDict
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from functools import lru_cache

import pandas as pd

from .catalog import consequences, load_catalog
from .distributions import Dist
from .ensemble import simulate
from .indices import TITLES
from .metrics import outcome_metrics
from .results import Result
from .scenario import read_shipped, scenario_from_dict

__all__ = [
    "GUIDED_EVENTS",
    "OUTCOME_YEARS",
    "PARAM_LABELS",
    "POLICIES",
    "POLICY_NOTES",
    "PROJECTION_START",
    "Settings",
    "View",
    "cached",
    "causal_note",
    "compute",
    "guided_text",
    "outcome_table",
    "preview_size",
    "scenario_dict",
    "toggle",
    "went_with",
]

#: Policies offered on the page (``rules`` needs written rules, so it is left out).
POLICIES = {
    "passive (no strategy)": "passive",
    "balancing": "balancing",
    "West first": "west_first",
    "Russia pivot": "russia_pivot",
}
POLICY_NOTES = {
    "passive": "No strategy: the status quo of the record, as in the baseline scenario.",
    "balancing": "Keep ties with Russia (the lower of trade and security) above the Russia floor "
    "and Western alignment above the West floor; repair the weaker side first.",
    "west_first": "Lift Western alignment to its target first; join sanctions when security ties "
    "with Russia run above the second setting.",
    "russia_pivot": "Deepen security and energy ties with Russia up to their targets, whatever "
    "the Western cost.",
}
PARAM_LABELS = {
    "russia_floor": "Russia floor",
    "west_floor": "West floor",
    "west_target": "West target",
    "align_above": "Join sanctions above (security)",
    "security_target": "Security target",
    "energy_target": "Energy target",
}

#: The main events of the brief for the guided history, in date order.
GUIDED_EVENTS = (
    "blue-stream-deliveries-2003",
    "akkuyu-agreement-2010",
    "syria-civil-war-2011",
    "turkstream-announced-2014",
    "su24-downing-2015",
    "russian-sanctions-2015",
    "coup-attempt-2016",
    "astana-process-2017",
    "s400-delivery-2019",
    "karabakh-war-2020",
    "ukraine-invasion-2022",
    "ukraine-war-trade-2022",
    "black-sea-grain-initiative-2022",
)

OUTCOME_YEARS = (2026, 2035)
PROJECTION_START = pd.Timestamp("2026-01-01")
PREVIEW_WORK = 30  # replicates x incident rate that a quick preview may cost (about 0.4 s)


@dataclass(frozen=True)
class Settings:
    """Everything the page lets a user set; hashable, so runs can be cached."""

    off: tuple[str, ...] = ()  # catalog events switched off
    moves: tuple[tuple[str, dt.date], ...] = ()  # (event id, new date)
    policy: str = "passive"
    params: tuple[tuple[str, float], ...] = ()  # the policy's settings
    replicates: int = 200
    incidents: float = 0.0  # multiplier of the stress scenario's hazard rates

    def normalised(self) -> Settings:
        """Sorted, deduplicated, and without settings that do nothing (an event off that
        goes with another one off anyway, a policy setting of the passive policy)."""
        params = tuple(sorted(self.params)) if self.policy != "passive" else ()
        implied = consequences(load_catalog(), self.off)
        return replace(
            self,
            off=tuple(sorted(set(self.off) - implied)),
            moves=tuple(sorted(dict(self.moves).items())),
            params=params,
            incidents=round(float(self.incidents), 4),
        )

    def reference(self) -> Settings:
        """The record as it happened under the same replicates and incidents."""
        return Settings(replicates=self.replicates, incidents=self.incidents)

    @property
    def is_reference(self) -> bool:
        return self.normalised() == self.reference().normalised()


@lru_cache(maxsize=1)
def _base_files() -> tuple[dict, list[dict]]:
    """The raw shipped baseline scenario and the shipped stress scenario's hazards."""
    base = read_shipped("baseline")
    hazards = read_shipped("stress").get("hazards", [])
    return base, hazards


def _scale(value, factor: float):
    """A hazard rate times ``factor``: a number, or a distribution's location and spread."""
    if isinstance(value, dict):
        out = dict(value)
        for key in ("mean", "sd", "low", "high", "mode", "median"):
            if key in out:
                out[key] = out[key] * factor
        return out
    if isinstance(value, Dist):
        return _scale(value.model_dump(exclude_none=True), factor)
    return float(value) * factor


def scenario_dict(settings: Settings) -> dict:
    """The page's scenario as plain data: the baseline with the page's changes laid over it."""
    s = settings.normalised()
    base, hazards = _base_files()
    data = copy.deepcopy(base)
    data.pop("extends", None)
    data["name"] = "classroom"
    data["description"] = "Scenario set on the classroom page (relsim app)."
    events = dict(data.get("events", {}))
    if s.off:
        events["drop"] = sorted(set(events.get("drop", [])) | set(s.off))
    if s.moves:
        events["move"] = dict(events.get("move", {}), **{k: v for k, v in s.moves})
    if events:
        data["events"] = events
    if s.incidents > 0:
        scaled = []
        for hz in hazards:
            hz = copy.deepcopy(hz)
            hz["rate"] = _scale(hz["rate"], s.incidents)
            scaled.append(hz)
        data["hazards"] = scaled
    if s.policy != "passive":
        data["policy"] = {"name": s.policy, "reactions": True, "params": dict(s.params)}
    return data


# --------------------------------------------------------------------------- causes, not rows


def toggle(chosen: Iterable[str], on: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The page's events after the teacher ticked and unticked some.

    ``chosen``: the events the teacher had switched off; ``on``: the events
    ticked now. An event unticked now is switched off; one ticked again is
    back on; an event that requires one switched off stays off however it is
    ticked (it goes with its cause). Returns the events switched off by choice
    and every event off (those and what goes with them), in date order.
    """
    catalog = load_catalog()
    chosen, on = set(chosen), set(on)
    implied = consequences(catalog, chosen)
    chosen |= {i for i in set(catalog) - on if i not in implied}  # unticked now
    chosen -= on  # ticked again
    off = chosen | consequences(catalog, chosen)
    order = list(catalog)
    return tuple(sorted(chosen, key=order.index)), tuple(sorted(off, key=order.index))


def went_with(settings: Settings) -> dict[str, tuple[str, ...]]:
    """For each event switched off or moved, the events that go with it in the page's
    scenario (those that require it, directly or not; after a move, those it now comes after)."""
    sc = scenario_from_dict(scenario_dict(settings), file="page")
    return {
        root: tuple(r.id for r in gone) for (_, root), gone in sc.resolution().cascades().items()
    }


def causal_note(settings: Settings) -> str:
    """Markdown: what went with each event switched off or moved ("the sanctions and their
    lifting go with it"), or an empty string."""
    catalog = load_catalog()
    moves = dict(settings.moves)
    lines = []
    for root, gone in went_with(settings).items():
        what = catalog[root].title
        n = f"{len(gone)} event{'s' if len(gone) > 1 else ''}"
        if root in moves:
            head = f"**{what}** moved to {moves[root]}: {n} that require it go"
        else:
            head = f"**{what}** is off, and {n} that follow from it go with it"
        lines.append(f"- {head}: {_gone_text(root, gone)}")
    return "" if not lines else "Events go with their causes:\n" + "\n".join(lines)


def _gone_text(root: str, gone: tuple[str, ...]) -> str:
    """The events that went with ``root``: each direct consequence, with how many follow it."""
    catalog = load_catalog()
    parts, told = [], set()
    for ident in gone:
        if ident in told or root not in catalog[ident].requires:
            continue
        later = [i for i in gone if i in consequences(catalog, ident) and i not in told]
        told |= {ident, *later}
        tail = f" (and the {len(later)} events that follow from it)" if len(later) > 1 else ""
        tail = f" (and {catalog[later[0]].title})" if len(later) == 1 else tail
        parts.append(catalog[ident].title + tail)
    parts += [catalog[i].title for i in gone if i not in told]
    return " · ".join(parts)


# --------------------------------------------------------------------------- running


@dataclass
class View:
    """One run, ready to show: the result, its outcome table and the time it took."""

    settings: Settings
    result: Result
    outcomes: pd.DataFrame  # indicator x (mean, worst, years_in_crisis), means over replicates
    seconds: float
    crisis: dict[str, float] = field(default_factory=dict)


_CACHE_SIZE = 24
_cache: OrderedDict[Settings, View] = OrderedDict()
_cache_lock = threading.Lock()


def _run(settings: Settings) -> View:
    """Run the page's scenario (no cache)."""
    t0 = time.perf_counter()
    sc = scenario_from_dict(scenario_dict(settings), file="page")
    res = simulate(
        sc, replicates=settings.replicates, seed=sc.run.seed, trajectories=True, workers=1
    )
    crisis = {k: v.crisis for k, v in sc.indices.items()}
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
    """Run the page's scenario; the last runs are kept, so going back costs nothing."""
    key = settings.normalised()
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    view = _run(key)
    with _cache_lock:
        _cache[key] = view
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return view


def cached(settings: Settings) -> bool:
    """Whether ``settings`` has been run already (so showing it costs nothing)."""
    with _cache_lock:
        return settings.normalised() in _cache


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


# --------------------------------------------------------------------------- the guided history


def _effects(event) -> str:
    parts = []
    for e in event.effects:
        size = e.size.center() if isinstance(e.size, Dist) else e.size
        what = (
            "at once"
            if e.kind == "jump"
            else (f"baseline for {e.duration}" if e.duration else "baseline, lasting")
        )
        parts.append(f"{e.indicator} {size:+g} ({what})")
    return "; ".join(parts)


def guided_text(step: int) -> str:
    """Markdown for guided step ``step`` (0-based): date, title, the brief's section, its note."""
    ev = load_catalog()[GUIDED_EVENTS[step]]
    when = (
        f"{ev.date:%-d %B %Y}"
        if ev.precision == "day"
        else (f"{ev.date:%B %Y}" if ev.precision == "month" else f"{ev.date:%Y}")
    )
    brief_date = ""
    if ev.brief_date is not None:
        brief_date = f" (the brief dates it to {ev.brief_date:%Y}" + (
            f"-{ev.brief_date:%m-%d})"
            if ev.brief_date.month != 1 or ev.brief_date.day != 1
            else ")"
        )
    return (
        f"#### {step + 1} of {len(GUIDED_EVENTS)}: {when} — {ev.title}\n\n"
        f"**In the brief:** *{ev.brief}*{brief_date}\n\n{ev.note}\n\n"
        f"**In the model:** {_effects(ev)}."
    )
