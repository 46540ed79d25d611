"""The classroom page: switch events, pick a policy, see the ensemble at once.

``relsim app`` (or :func:`serve`) starts a local web page (Panel) with two tabs:

- **Explore**: switch catalog events off and on, move their dates, pick
  Türkiye's policy from 2026 and its settings (the balancing floors), the
  number of replicates and the rate of random incidents. The four indices are
  drawn as fan charts (median, 50% and 90% bands) with the key events
  numbered, the history as recorded as a dashed line for comparison, and an
  outcome table for 2026–2035 (mean level, worst level, years in crisis).
- **Guided history**: steps through twelve main events of the source brief,
  each with its date, the brief's section and the catalog's note, and the
  record's trajectory up to that event.

The page's scenario is plain data laid over ``scenarios/baseline.toml``: events
switched off go to ``events.drop``, moved ones to ``events.move``, a policy
other than passive to ``[policy]`` (with the other actors' reactions), and the
incident rate scales the hazards of ``scenarios/stress.toml`` (0 = none).
Every run uses the baseline's seed, so a change on the page shows what the
change does, not new noise. Runs are cached, so going back to earlier settings
is instant. With incidents on, a run costs about in proportion to replicates x
incident rate, so the page first shows a quick preview with fewer replicates
and then the full run. The computing part (:class:`Settings`,
:func:`scenario_dict`, :func:`compute`, :func:`fan_chart`) needs no web
framework; only :func:`create_app` and :func:`serve` import Panel.
"""

from __future__ import annotations

import asyncio
import copy
import datetime as dt
import html
import io
import threading
import time
import tomllib
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd

from .catalog import load_catalog
from .distributions import Dist
from .ensemble import simulate
from .errors import ModelError
from .metrics import outcome_metrics
from .policies import DEFAULT_PARAMS
from .results import Result
from .scenario import scenario_from_dict

__all__ = [
    "GUIDED_EVENTS",
    "POLICIES",
    "Settings",
    "View",
    "compute",
    "create_app",
    "fan_chart",
    "guided_text",
    "history_chart",
    "outcome_table",
    "scenario_dict",
    "serve",
]

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BASELINE = SCENARIOS / "baseline.toml"
STRESS = SCENARIOS / "stress.toml"

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
    "russia_floor": "Russia floor", "west_floor": "West floor", "west_target": "West target",
    "align_above": "Join sanctions above (security)", "security_target": "Security target",
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
COLORS = {"trade": "#0072B2", "energy": "#E69F00", "security": "#D55E00", "west": "#009E73"}
TITLES = {
    "trade": "trade (Türkiye–Russia)",
    "energy": "energy (Türkiye–Russia)",
    "security": "security (Türkiye–Russia)",
    "west": "alignment with the West",
    "russia": "Russia overall (mean of the three)",
}


# --------------------------------------------------------------------------- the scenario


@dataclass(frozen=True)
class Settings:
    """Everything the page lets a user set; hashable, so runs can be cached."""

    off: tuple[str, ...] = ()                     # catalog events switched off
    moves: tuple[tuple[str, dt.date], ...] = ()   # (event id, new date)
    policy: str = "passive"
    params: tuple[tuple[str, float], ...] = ()    # the policy's settings
    replicates: int = 200
    incidents: float = 0.0                        # multiplier of the stress scenario's hazard rates

    def normalised(self) -> Settings:
        """Sorted, deduplicated, and without settings that do nothing."""
        params = tuple(sorted(self.params)) if self.policy != "passive" else ()
        return replace(self, off=tuple(sorted(set(self.off))), moves=tuple(sorted(dict(self.moves).items())),
                       params=params, incidents=round(float(self.incidents), 4))

    def reference(self) -> Settings:
        """The record as it happened under the same replicates and incidents."""
        return Settings(replicates=self.replicates, incidents=self.incidents)

    @property
    def is_reference(self) -> bool:
        return self.normalised() == self.reference().normalised()


@lru_cache(maxsize=1)
def _base_files() -> tuple[dict, list[dict]]:
    """The raw baseline scenario and the stress scenario's hazards."""
    for path in (BASELINE, STRESS):
        if not path.exists():
            raise ModelError(f"{path}: the page builds on the repository's scenarios/ folder; "
                             "run it from a clone installed with pip install -e '.[app]'")
    base = tomllib.loads(BASELINE.read_text(encoding="utf-8"))
    hazards = tomllib.loads(STRESS.read_text(encoding="utf-8")).get("hazards", [])
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


# --------------------------------------------------------------------------- running


@dataclass
class View:
    """One run, ready to show: the result, its outcome table and the time it took."""

    settings: Settings
    result: Result
    outcomes: pd.DataFrame   # indicator x (mean, worst, years_in_crisis), means over replicates
    seconds: float
    crisis: dict[str, float] = field(default_factory=dict)


_CACHE_SIZE = 24
_cache: OrderedDict[Settings, View] = OrderedDict()
_cache_lock = threading.Lock()


def _run(settings: Settings) -> View:
    t0 = time.perf_counter()
    sc = scenario_from_dict(scenario_dict(settings), file="page")
    res = simulate(sc, replicates=settings.replicates, seed=sc.run.seed, trajectories=True, workers=1)
    crisis = {k: v.crisis for k, v in sc.indices.items()}
    metrics = outcome_metrics(res, crisis, *OUTCOME_YEARS)
    table = (metrics[metrics["metric"].isin(["mean", "worst", "years_in_crisis"])]
             .pivot(index="indicator", columns="metric", values="mean")
             .reindex(index=list(dict.fromkeys(metrics["indicator"])), columns=["mean", "worst", "years_in_crisis"]))
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
    head = ("<tr><th>index</th><th>mean level</th><th>change from the record</th>"
            f"<th>worst level</th><th>years in crisis (of {years})</th></tr>")
    rows = []
    for name, row in view.outcomes.iterrows():
        delta = ""
        if reference is not None and name in reference.outcomes.index:
            d = row["mean"] - reference.outcomes.loc[name, "mean"]
            delta = "0.0" if abs(d) < 0.05 else f"{d:+.1f}"
        cells = [f'<td class="name">{html.escape(TITLES.get(name, name))}</td>',
                 f'<td data-metric="mean">{row["mean"]:.1f}</td>',
                 f'<td data-metric="change">{delta or "–"}</td>',
                 f'<td data-metric="worst">{row["worst"]:.1f}</td>',
                 f'<td data-metric="years_in_crisis">{row["years_in_crisis"]:.2f}</td>']
        rows.append(f'<tr data-index="{name}">' + "".join(cells) + "</tr>")
    caption = (f"Outcomes {OUTCOME_YEARS[0]}–{OUTCOME_YEARS[1]}, averaged over "
               f"{view.settings.replicates} replicates. Crisis: an index below "
               f"{min(view.crisis.values(), default=25):g}.")
    return (f'<table class="outcomes" id="outcomes"><caption>{caption}</caption>'
            f"<thead>{head}</thead><tbody>{''.join(rows)}</tbody></table>")


# --------------------------------------------------------------------------- charts


def _key_events(result: Result, n: int = 8) -> pd.DataFrame:
    from .plotting import key_events

    return key_events(result, n)


def _png(fig) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def _years(dates) -> np.ndarray:
    """Dates as decimal years: plain numbers draw far faster than date axes."""
    d = pd.DatetimeIndex(pd.to_datetime(dates))
    return (d.year + (d.day_of_year - 1) / 365.25).to_numpy(dtype=float)


def _year_axis(ax, first: float, last: float, step: int = 4) -> None:
    from matplotlib.ticker import FixedLocator, NullLocator

    ticks = np.arange(np.ceil(first / step) * step, last + 1e-9, step)
    ax.xaxis.set_major_locator(FixedLocator(ticks))
    ax.xaxis.set_major_formatter(lambda x, _pos: f"{x:.0f}")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_locator(FixedLocator([0, 20, 40, 60, 80, 100]))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xlim(first, last)
    ax.set_ylim(0, 100)


def fan_chart(view: View, reference: View | None = None, dpi: int = 80) -> tuple[bytes, pd.DataFrame]:
    """Four fan charts (PNG) with the key events numbered; also the key events drawn.

    Dashed black: the median of the record as it happened (when the page's
    settings differ from it). Red dashed lines: events switched off, at their
    catalog dates; purple: moved events at their new dates.
    """
    from matplotlib.figure import Figure

    res = view.result
    s = view.settings.normalised()
    catalog = load_catalog()
    keys = _key_events(res)
    key_x = _years(keys["date"]) if len(keys) else np.array([])
    fig = Figure(figsize=(12.5, 6.6), dpi=dpi)
    fig.subplots_adjust(left=0.05, right=0.99, top=0.86, bottom=0.06, hspace=0.2, wspace=0.08)
    axes = fig.subplots(2, 2, sharex=True, sharey=True).ravel()
    q = res.quantiles
    x = _years(res.dates)
    first, last = x[0], x[-1]
    start = _years([PROJECTION_START])[0]
    off_x = _years([catalog[e].date for e in s.off if e in catalog]) if s.off else []
    moved_x = _years([d for _, d in s.moves]) if s.moves else []
    ref_q = reference.result.quantiles if reference is not None and not s.is_reference else None
    for i, (ax, name) in enumerate(zip(axes, res.indicators)):
        part = q[q["indicator"] == name]
        c = COLORS.get(name, "#555555")
        top = i < 2
        ax.axvspan(start, last, color="0.94", lw=0, zorder=0)
        ax.fill_between(x, part["q05"].to_numpy(), part["q95"].to_numpy(), color=c, alpha=0.16, lw=0,
                        label="90% band")
        ax.fill_between(x, part["q25"].to_numpy(), part["q75"].to_numpy(), color=c, alpha=0.32, lw=0,
                        label="50% band")
        ax.plot(x, part["q50"].to_numpy(), color=c, lw=2.0, label="median")
        if ref_q is not None:
            ref = ref_q[ref_q["indicator"] == name]
            ax.plot(x, ref["q50"].to_numpy(), color="black", lw=1.1, ls="--", label="record (median)")
        for d in key_x:
            ax.axvline(d, color="0.45", lw=0.7, ls=":", zorder=1)
        if top:
            for j, d in enumerate(key_x, start=1):
                ax.annotate(str(j), xy=(d, 100), xytext=(0, 2 + 9 * ((j - 1) % 3)),
                            textcoords="offset points", ha="center", va="bottom", fontsize=8,
                            color="0.25", annotation_clip=False)
        for d in off_x:
            if first <= d <= last:
                ax.axvline(d, color="#C00000", lw=1.0, ls="--", zorder=1)
        for d in moved_x:
            ax.axvline(d, color="#7B3294", lw=1.2, zorder=1)
        ax.set_title(TITLES.get(name, name), loc="left", fontsize=11, fontweight="bold", color=c,
                     y=1.0, pad=30 if top else 6)
        _year_axis(ax, first, last)
        ax.grid(True, axis="y", alpha=0.3)
        ax.tick_params(labelsize=9)
    axes[0].legend(loc="lower left", fontsize=8, frameon=False, ncol=2)
    axes[0].text(start, 3, " projection", fontsize=8, color="0.4")
    fig.suptitle(_chart_title(s), fontsize=12, x=0.05, y=0.985, ha="left")
    return _png(fig), keys


def _chart_title(s: Settings) -> str:
    parts = [f"{s.replicates} replicates"]
    if s.off:
        parts.append(f"{len(s.off)} event{'s' if len(s.off) > 1 else ''} off")
    if s.moves:
        parts.append(f"{len(s.moves)} moved")
    label = {v: k for k, v in POLICIES.items()}.get(s.policy, s.policy)
    parts.append(f"policy: {label}" + ("" if s.policy == "passive" else " from 2026"))
    parts.append(f"incidents ×{s.incidents:g}" if s.incidents else "no incidents")
    return "Cooperation indices (0–100): " + ", ".join(parts)


@lru_cache(maxsize=1)
def _history() -> View:
    return compute(Settings())


@lru_cache(maxsize=len(GUIDED_EVENTS))
def history_chart(step: int, dpi: int = 80) -> bytes:
    """The record up to guided step ``step`` (0-based): the four medians, events so far marked."""
    from matplotlib.figure import Figure

    view = _history()
    catalog = load_catalog()
    events = [catalog[e] for e in GUIDED_EVENTS]
    until = pd.Timestamp(events[step].date) + pd.Timedelta(days=120)
    q = view.result.quantiles
    x = _years(view.result.dates)
    keep = view.result.dates <= until
    fig = Figure(figsize=(12.5, 4.6), dpi=dpi)
    fig.subplots_adjust(left=0.05, right=0.99, top=0.86, bottom=0.1)
    ax = fig.subplots()
    for name in view.result.indicators:
        part = q[q["indicator"] == name]
        c = COLORS.get(name, "#555555")
        ax.fill_between(x[keep], part["q25"].to_numpy()[keep], part["q75"].to_numpy()[keep], color=c,
                        alpha=0.2, lw=0)
        ax.plot(x[keep], part["q50"].to_numpy()[keep], color=c, lw=2, label=TITLES.get(name, name))
    for j, d in enumerate(_years([e.date for e in events[: step + 1]]), start=1):
        current = j == step + 1
        ax.axvline(d, color="black" if current else "0.6", lw=1.4 if current else 0.8,
                   ls="-" if current else ":")
        ax.annotate(str(j), xy=(d, 100), xytext=(0, 2 + 10 * ((j - 1) % 2)), textcoords="offset points",
                    ha="center", va="bottom", fontsize=9, fontweight="bold" if current else "normal",
                    annotation_clip=False)
    _year_axis(ax, 2000.0, 2025.999, step=2)
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(loc="lower left", fontsize=9, frameon=False, ncol=4)
    ax.set_title(f"The record to {until:%b %Y}: medians and 50% bands of {view.settings.replicates} "
                 "replicates", fontsize=11, loc="left", y=1.0, pad=24)
    return _png(fig)


def _effects(event) -> str:
    parts = []
    for e in event.effects:
        size = e.size.center() if isinstance(e.size, Dist) else e.size
        what = "at once" if e.kind == "jump" else (f"baseline for {e.duration}" if e.duration else "baseline, lasting")
        parts.append(f"{e.indicator} {size:+g} ({what})")
    return "; ".join(parts)


def guided_text(step: int) -> str:
    """Markdown for guided step ``step`` (0-based): date, title, the brief's section, its note."""
    ev = load_catalog()[GUIDED_EVENTS[step]]
    when = f"{ev.date:%-d %B %Y}" if ev.precision == "day" else (
        f"{ev.date:%B %Y}" if ev.precision == "month" else f"{ev.date:%Y}")
    brief_date = ""
    if ev.brief_date is not None:
        brief_date = f" (the brief dates it to {ev.brief_date:%Y}" + (
            f"-{ev.brief_date:%m-%d})" if ev.brief_date.month != 1 or ev.brief_date.day != 1 else ")")
    return (f"#### {step + 1} of {len(GUIDED_EVENTS)}: {when} — {ev.title}\n\n"
            f"**In the brief:** *{ev.brief}*{brief_date}\n\n{ev.note}\n\n"
            f"**In the model:** {_effects(ev)}.")


# --------------------------------------------------------------------------- the page

_CSS = """
table.outcomes { border-collapse: collapse; font-size: 14px; margin-top: 4px; }
table.outcomes caption { caption-side: bottom; text-align: left; font-size: 12px; color: #555; padding-top: 4px; }
table.outcomes th, table.outcomes td { padding: 4px 12px; border-bottom: 1px solid #ddd; text-align: right; }
table.outcomes th { background: #f3f3f3; }
table.outcomes th:first-child { text-align: left; }
table.outcomes td.name { text-align: left; font-weight: 600; }
ol.keys { columns: 2; font-size: 13px; margin: 2px 0 0 0; padding-left: 22px; }
"""


_CHECKBOX_CSS = "label { white-space: normal; display: flex; align-items: flex-start; gap: 4px; font-size: 13px; }"


def _event_label(ev) -> str:
    return f"{ev.date:%Y-%m-%d}  {ev.title}"


class ClassroomPage:
    """One browser session's page (every visitor gets their own)."""

    def __init__(self) -> None:
        import panel as pn

        self.pn = pn
        catalog = load_catalog()
        self.labels = {_event_label(ev): ev.id for ev in catalog.values()}
        self.moves: dict[str, dt.date] = {}
        self._token = 0

        w = pn.widgets
        self.events = w.CheckBoxGroup(label="events", options=self.labels, value=list(self.labels.values()),
                                      inline=False, css_classes=["events"], width=300,
                                      stylesheets=[_CHECKBOX_CSS])
        self.all_on = w.Button(label="All events on", color="default", width=140)
        self.move_event = w.Select(label="Event to move", options=self.labels, width=300)
        self.move_date = w.DatePicker(label="New date", value=dt.date(2016, 1, 1),
                                      start=dt.date(2000, 1, 1), end=dt.date(2035, 12, 31), width=150)
        self.move_button = w.Button(label="Move", color="primary", width=80)
        self.reset_moves = w.Button(label="Reset dates", width=100)
        self.moves_note = pn.pane.Markdown("No event moved.", margin=(0, 10))
        self.policy = w.Select(label="Türkiye's policy from 2026", options=POLICIES, value="passive", width=300)
        self.policy_note = pn.pane.Markdown(POLICY_NOTES["passive"], margin=(0, 10), width=300)
        self.params = {
            (pol, key): w.FloatSlider(label=PARAM_LABELS.get(key, key), start=0, end=100, step=1,
                                      value=float(default), width=280, visible=False)
            for pol, values in DEFAULT_PARAMS.items() if pol in POLICIES.values()
            for key, default in values.items()
        }
        self.replicates = w.IntSlider(label="Replicates", start=20, end=1000, step=20, value=200, width=280)
        self.incidents = w.FloatSlider(label="Incident rate (× the stress scenario's, from 2026)",
                                       start=0.0, end=3.0, step=0.25, value=0.0, width=280)

        self.status = pn.pane.HTML("", css_classes=["status"], margin=(0, 10))
        self.chart = pn.pane.PNG(None, width=1000, css_classes=["fan-chart"], margin=(0, 10))
        self.keys = pn.pane.HTML("", css_classes=["key-events"], margin=(0, 10), width=1000)
        self.table = pn.pane.HTML("", css_classes=["outcome-table"], margin=(5, 10), width=1000,
                                  stylesheets=[_CSS])
        self.keys.stylesheets = [_CSS]

        self.step = w.IntSlider(label="Step", start=1, end=len(GUIDED_EVENTS), value=1, width=300)
        self.prev = w.Button(label="◀ Previous", width=110)
        self.next = w.Button(label="Next ▶", color="primary", width=110)
        self.guide_text = pn.pane.Markdown(guided_text(0), width=1000, css_classes=["guide-text"])
        self.guide_chart = pn.pane.PNG(history_chart(0), width=1000, css_classes=["guide-chart"])

        for widget in [self.events, self.policy]:
            widget.param.watch(self.refresh, "value")
        for widget in [self.replicates, self.incidents, *self.params.values()]:
            widget.param.watch(self.refresh, "value_throttled")  # on release, not while dragging
        self.policy.param.watch(self._policy_changed, "value")
        self.all_on.on_click(self._all_on)
        self.move_button.on_click(self._move)
        self.reset_moves.on_click(self._reset_moves)
        self.step.param.watch(self._step_changed, "value")
        self.prev.on_click(lambda _: self._go(-1))
        self.next.on_click(lambda _: self._go(+1))
        self._show(compute(self.settings()))

    # ----- layout

    def layout(self):
        pn = self.pn
        controls = pn.Column(
            pn.pane.Markdown("### Events of the record\nUntick an event to take it out of history.",
                             margin=(0, 10)),
            pn.Column(self.events, height=330, scroll=True, width=320, styles={"border": "1px solid #ddd"}),
            self.all_on,
            pn.pane.Markdown("### Move an event", margin=(0, 10)),
            self.move_event, pn.Row(self.move_date, self.move_button), self.reset_moves, self.moves_note,
            pn.pane.Markdown("### Policy", margin=(0, 10)),
            self.policy, self.policy_note, *self.params.values(),
            pn.pane.Markdown("### Ensemble", margin=(0, 10)),
            self.replicates, self.incidents,
            width=330,
        )
        explore = pn.Column(self.status, self.chart, self.keys, self.table, name="Explore")
        guide = pn.Column(
            pn.pane.Markdown("Twelve main events of the brief, one at a time, with the model's record "
                             "up to each (every event on, no policy, no incidents).", width=1000),
            pn.Row(self.prev, self.step, self.next), self.guide_text, self.guide_chart,
            name="Guided history",
        )
        header = pn.pane.Markdown(
            "## Türkiye–Russia relations: the classroom page\n"
            "Four cooperation indices (0 = rupture, 50 = ordinary working relations, 100 = closest "
            "partnership) replayed from the record of events since 2000 and projected to 2035. "
            "Change history or policy on the left; the charts and the table follow.",
            width=1350)
        return pn.Column(header, pn.Row(controls, pn.Tabs(explore, guide, dynamic=False)))

    # ----- state

    def settings(self) -> Settings:
        on = set(self.events.value)
        off = tuple(i for i in self.labels.values() if i not in on)
        policy = self.policy.value
        params = tuple((key, float(w.value)) for (pol, key), w in self.params.items() if pol == policy)
        return Settings(off=off, moves=tuple(self.moves.items()), policy=policy, params=params,
                        replicates=int(self.replicates.value), incidents=float(self.incidents.value))

    async def refresh(self, *_events) -> None:
        """Recompute after a change: a quick preview first when the full run is slow."""
        self._token += 1
        token = self._token
        settings = self.settings()
        stages = [settings]
        n = preview_size(settings)
        if n is not None and not cached(settings):
            stages.insert(0, replace(settings, replicates=n))
        loop = asyncio.get_running_loop()
        for stage in stages:
            final = stage is settings
            self.status.object = self._status_html(
                "computing…" if final and len(stages) == 1 else
                f"preview of {stage.replicates} replicates…" if not final else
                f"computing all {stage.replicates} replicates…", busy=True)
            try:
                shown = await loop.run_in_executor(_EXECUTOR, self._prepare, stage, final, token)
            except ModelError as exc:
                if token == self._token:
                    self.status.object = self._status_html(f"cannot run this: {html.escape(str(exc))}",
                                                           error=True)
                return
            if shown is None or token != self._token:
                return
            self._display(*shown, final=final)

    def _prepare(self, settings: Settings, final: bool, token: int):
        """Run and draw (on the worker thread); None when a newer change made it moot."""
        if token != self._token:
            return None
        t0 = time.perf_counter()
        view = compute(settings)
        reference = compute(settings.reference()) if final else None
        png, keys = fan_chart(view, reference)
        return view, reference, png, keys, time.perf_counter() - t0

    def _show(self, view: View) -> None:
        t0 = time.perf_counter()
        reference = compute(view.settings.reference())
        png, keys = fan_chart(view, reference)
        self._display(view, reference, png, keys, time.perf_counter() - t0, final=True)

    def _display(self, view, reference, png, keys, seconds, final) -> None:
        with self.pn.io.hold():
            self.chart.object = png
            self.keys.object = _keys_html(keys)
            self.table.object = outcome_table(view, reference)
            if final:
                text = (f"ready: {view.settings.replicates} replicates, seed of the baseline, "
                        f"updated in {seconds:.2f} s")
            else:
                text = f"preview of {view.settings.replicates} replicates; computing the rest…"
            self.status.object = self._status_html(text, busy=not final)

    @staticmethod
    def _status_html(text: str, busy: bool = False, error: bool = False) -> str:
        color = "#C00000" if error else ("#8a6d00" if busy else "#2d6a2d")
        state = "error" if error else ("busy" if busy else "ready")
        return f'<div class="status-line" data-state="{state}" style="color:{color}">{text}</div>'

    # ----- callbacks

    def _policy_changed(self, event) -> None:
        for (pol, _), widget in self.params.items():
            widget.visible = pol == event.new
        self.policy_note.object = POLICY_NOTES.get(event.new, "")

    def _all_on(self, _event) -> None:
        self.events.value = list(self.labels.values())

    async def _move(self, _event) -> None:
        ident, when = self.move_event.value, self.move_date.value
        if ident is None or when is None:
            return
        self.moves[ident] = when
        self._moves_changed()
        await self.refresh()

    async def _reset_moves(self, _event) -> None:
        self.moves.clear()
        self._moves_changed()
        await self.refresh()

    def _moves_changed(self) -> None:
        catalog = load_catalog()
        if not self.moves:
            self.moves_note.object = "No event moved."
            return
        lines = [f"- {catalog[i].title}: {catalog[i].date} → **{d}**" for i, d in sorted(self.moves.items())]
        self.moves_note.object = "Moved:\n" + "\n".join(lines)

    def _go(self, delta: int) -> None:
        self.step.value = int(min(max(self.step.value + delta, self.step.start), self.step.end))

    def _step_changed(self, event) -> None:
        i = int(event.new) - 1
        with self.pn.io.hold():
            self.guide_text.object = guided_text(i)
            self.guide_chart.object = history_chart(i)


_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relsim-page")


def _keys_html(keys: pd.DataFrame) -> str:
    if keys.empty:
        return ""
    items = "".join(f"<li>{row.date:%Y-%m} {html.escape(row.title)}</li>" for row in keys.itertuples())
    return ('<div><b>Numbered events</b> (largest effects in this run; red dashed: switched off, '
            f'purple: moved; shaded: the projection)<ol class="keys">{items}</ol></div>')


def create_app():
    """A new page for one browser session (what the server calls per visitor)."""
    return ClassroomPage().layout()


def serve(port: int = 8765, host: str = "127.0.0.1", show: bool = False) -> int:
    """Serve the page at ``http://host:port/`` until interrupted (what ``relsim app`` runs)."""
    try:
        import panel as pn
    except ImportError:
        raise ModelError("the classroom page needs Panel: pip install -e '.[app]'") from None
    _history()  # warm the cache: the first visitor sees the page at once
    loopback = host in ("127.0.0.1", "localhost", "::1")
    # on another address (a classroom network), browsers reach the page by whatever name the machine has
    origins = [f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"] if loopback else ["*"]
    print(f"relsim classroom page at http://{host}:{port}/ (Ctrl-C to stop)", flush=True)
    pn.serve({"/": create_app}, port=port, address=host, websocket_origin=origins, show=show,
             title="relsim: Türkiye–Russia relations", verbose=False, start=True)
    return 0
