"""One visitor's classroom page: the controls, the Explore tab and the Guided history tab.

Every value the page receives is checked on the server
(:func:`model.classroom.check`) before anything runs: a value a browser sends
outside the controls' ranges is refused with a message in the status line.
A change is answered in two steps: the path without noise first (a few tens
of milliseconds to run and draw, at once, never queued behind another
visitor's run), then the ensemble's bands on the worker thread, one run at a
time per server (and, with incidents, a quick preview before them).
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import html
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pandas as pd

from ..catalog import load_catalog
from ..classroom import (
    GUIDED_STEPS,
    INCIDENTS,
    PARAM_LABELS,
    PARAM_RANGE,
    POLICIES,
    POLICY_NOTES,
    REPLICATES,
    Settings,
    View,
    cached,
    causal_note,
    check,
    compute,
    compute_path,
    guided_intro,
    guided_text,
    outcome_table,
    preview_size,
    run_period,
)
from ..errors import ArgumentError, ModelError
from ..plotting.classroom import WIDTH, fan_chart, history_chart, path_chart
from ..policies import DEFAULT_PARAMS
from .events import EventList

__all__ = ["CONTROLS", "ClassroomPage"]

#: Pixels of the column of controls; the charts (:data:`WIDTH`) go beside it.
CONTROLS = 320

_CSS = """
table.outcomes { border-collapse: collapse; font-size: 15px; margin-top: 4px; }
table.outcomes caption { caption-side: bottom; text-align: left; font-size: 14px; color: #555;
                         padding-top: 4px; }
table.outcomes th, table.outcomes td { padding: 4px 10px; border-bottom: 1px solid #ddd;
                                       text-align: right; }
table.outcomes th { background: #f3f3f3; }
table.outcomes th:first-child { text-align: left; }
table.outcomes td.name { text-align: left; font-weight: 600; }
ol.keys { columns: 2; font-size: 15px; margin: 2px 0 0 0; padding-left: 24px; }
"""

_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relsim-page")


class ClassroomPage:
    """One browser session's page (every visitor gets their own)."""

    def __init__(self) -> None:
        import panel as pn

        self.pn = pn
        self.moves: dict[str, dt.date] = {}
        self._token = 0
        self.event_list = EventList(pn, CONTROLS, self._events_changed, self._error)
        self.labels = self.event_list.labels
        self._event_controls()
        self._policy_controls()
        self._ensemble_controls()
        self._explore_panes()
        self._guide_controls()
        self._wire()
        self._show(compute(self.settings()))

    # ----- widgets

    def _event_controls(self) -> None:
        """Switching the events of the record back on, and moving them."""
        w = self.pn.widgets
        start, end = run_period()
        self.all_on = w.Button(label="All events on", color="default", width=140)
        self.move_event = w.Select(label="Event to move", options=self.labels, width=CONTROLS - 20)
        self.move_date = w.DatePicker(
            label="New date", value=dt.date(2016, 1, 1), start=start, end=end, width=150
        )
        self.move_button = w.Button(label="Move", color="primary", width=80)
        self.reset_moves = w.Button(label="Reset dates", width=100)
        self.moves_note = self.pn.pane.Markdown("No event moved.", margin=(0, 10))
        self.causal = self.pn.pane.Markdown(
            "", margin=(0, 10), width=CONTROLS - 10, css_classes=["causal"]
        )

    def _policy_controls(self) -> None:
        """Türkiye's policy from 2026, its note, and a slider per setting of each policy."""
        w = self.pn.widgets
        self.policy = w.Select(
            label="Türkiye's policy from 2026",
            options=POLICIES,
            value="passive",
            width=CONTROLS - 20,
        )
        self.policy_note = self.pn.pane.Markdown(
            POLICY_NOTES["passive"], margin=(0, 10), width=CONTROLS - 20
        )
        self.params = {
            (pol, key): w.FloatSlider(
                label=PARAM_LABELS.get(key, key),
                start=PARAM_RANGE[0],
                end=PARAM_RANGE[1],
                step=1,
                value=float(default),
                width=CONTROLS - 40,
                visible=False,
            )
            for pol, values in DEFAULT_PARAMS.items()
            if pol in POLICIES.values()
            for key, default in values.items()
        }

    def _ensemble_controls(self) -> None:
        """The number of replicates and the rate of random incidents."""
        w = self.pn.widgets
        low, high, step = REPLICATES
        self.replicates = w.IntSlider(
            label="Replicates", start=low, end=high, step=step, value=200, width=CONTROLS - 40
        )
        self.incidents = w.FloatSlider(
            label="Incident rate (× the stress scenario's, from 2026)",
            start=INCIDENTS[0],
            end=INCIDENTS[1],
            step=0.25,
            value=0.0,
            width=CONTROLS - 40,
        )

    def _explore_panes(self) -> None:
        """What the Explore tab shows: the status line, the chart, its key events, the table."""
        pane = self.pn.pane
        self.status = pane.HTML("", css_classes=["status"], margin=(0, 10), width=WIDTH)
        self.chart = pane.HTML("", width=WIDTH, css_classes=["fan-chart"], margin=(0, 10))
        self.keys = pane.HTML("", css_classes=["key-events"], margin=(0, 10), width=WIDTH)
        self.table = pane.HTML(
            "", css_classes=["outcome-table"], margin=(5, 10), width=WIDTH, stylesheets=[_CSS]
        )
        self.keys.stylesheets = [_CSS]

    def _guide_controls(self) -> None:
        """The guided history's step controls, its text and its chart (at the first step)."""
        w = self.pn.widgets
        self.step = w.IntSlider(label="Step", start=1, end=GUIDED_STEPS, value=1, width=300)
        self.prev = w.Button(label="◀ Previous", width=110)
        self.next = w.Button(label="Next ▶", color="primary", width=110)
        self.guide_text = self.pn.pane.Markdown(
            guided_text(0), width=WIDTH, css_classes=["guide-text"], styles={"font-size": "15px"}
        )
        self.guide_chart = self.pn.pane.PNG(
            history_chart(0), width=WIDTH, css_classes=["guide-chart"]
        )

    def _wire(self) -> None:
        """Each control to what it changes."""
        self.policy.param.watch(self.refresh, "value")
        for widget in [self.replicates, self.incidents, *self.params.values()]:
            widget.param.watch(self.refresh, "value_throttled")  # on release, not while dragging
        self.policy.param.watch(self._policy_changed, "value")
        self.all_on.on_click(self._all_on)
        self.move_button.on_click(self._move)
        self.reset_moves.on_click(self._reset_moves)
        self.step.param.watch(self._step_changed, "value")
        self.prev.on_click(lambda _: self._go(-1))
        self.next.on_click(lambda _: self._go(+1))

    # ----- layout

    def layout(self) -> Any:
        pn = self.pn
        explore = pn.Column(self.status, self.chart, self.keys, self.table, name="Explore")
        header = pn.pane.Markdown(
            "## Türkiye–Russia relations: the classroom page\n"
            "Four cooperation indices (0 = rupture, 50 = ordinary working relations, 100 = closest "
            "partnership) replayed from the record of events since 2000 and projected to 2035. "
            "Change history or policy on the left; the charts and the table follow.",
            width=CONTROLS + WIDTH + 20,
            styles={"font-size": "15px"},
        )
        tabs = pn.Tabs(explore, self._guide_tab(), dynamic=False, width=WIDTH + 20)
        return pn.Column(header, pn.Row(self._controls(), tabs), width=CONTROLS + WIDTH + 40)

    def _controls(self) -> Any:
        """The column of controls on the left."""
        pn = self.pn
        head = {"margin": (0, 10), "styles": {"font-size": "14px"}}
        return pn.Column(
            pn.pane.Markdown(
                "### Events of the record\nUntick an event to take it out of history.", **head
            ),
            self.event_list.panel(height=300, width=CONTROLS - 10),
            self.causal,
            self.all_on,
            pn.pane.Markdown("### Move an event", **head),
            self.move_event,
            pn.Row(self.move_date, self.move_button),
            self.reset_moves,
            self.moves_note,
            pn.pane.Markdown("### Policy", **head),
            self.policy,
            self.policy_note,
            *self.params.values(),
            pn.pane.Markdown("### Ensemble", **head),
            self.replicates,
            self.incidents,
            width=CONTROLS,
        )

    def _guide_tab(self) -> Any:
        """The Guided history tab."""
        pn = self.pn
        return pn.Column(
            pn.pane.Markdown(
                guided_intro(),
                width=WIDTH,
                css_classes=["guide-intro"],
                styles={"font-size": "15px"},
            ),
            pn.Row(self.prev, self.step, self.next),
            self.guide_text,
            self.guide_chart,
            name="Guided history",
        )

    # ----- state

    def settings(self) -> Settings:
        """The page's settings as the widgets hold them (checked when run, not here)."""
        policy = self.policy.value
        params = tuple((key, w.value) for (pol, key), w in self.params.items() if pol == policy)
        return Settings(
            off=self.event_list.chosen_off,
            moves=tuple(self.moves.items()),
            policy=policy,
            params=params,
            replicates=self.replicates.value,
            incidents=self.incidents.value,
        )

    async def refresh(self, *_events: Any) -> None:
        """Recompute after a change: the path without noise at once, then the bands (after a
        quick preview when incidents make the full run slow)."""
        self._token += 1
        token = self._token
        try:
            settings = check(self.settings())
        except ModelError as exc:
            self._error(exc)
            return
        loop = asyncio.get_running_loop()
        stages: list[tuple[str, Settings]] = [("full", settings)]
        n = preview_size(settings)
        if not cached(settings):
            if n is not None:
                stages.insert(0, ("preview", replace(settings, replicates=n)))
            stages.insert(0, ("path", settings))
        for kind, stage in stages:
            if kind != "path":  # the path comes at once: no need to say it is coming
                self.status.object = self._status_html(self._busy_text(kind, stage), busy=True)
            try:
                if kind == "path":  # here, at once: never queued behind another visitor's run
                    shown = self._prepare(stage, kind, token)
                else:
                    shown = await loop.run_in_executor(_EXECUTOR, self._prepare, stage, kind, token)
            except ModelError as exc:
                if token == self._token:
                    self._error(exc)
                return
            if shown is None or token != self._token:
                return
            view, reference, png, keys, seconds = shown
            self._display(view, reference, png, keys, seconds, kind)

    @staticmethod
    def _busy_text(kind: str, stage: Settings) -> str:
        if kind == "preview":
            return f"preview of {stage.replicates} replicates…"
        return f"computing the bands of {stage.replicates} replicates…"

    def _prepare(self, settings: Settings, kind: str, token: int):
        """Run and draw (the path here, the rest on the worker thread); None when a newer
        change made it moot."""
        if token != self._token:
            return None
        t0 = time.perf_counter()
        ref = settings.reference()
        if kind == "path":
            view = compute_path(settings)
            reference = compute(ref) if cached(ref) else None
        else:
            view = compute(settings)
            reference = compute(ref) if kind == "full" else None
        if kind == "path":
            png, keys = path_chart(view, reference), None  # the key events come with the bands
        else:
            png, keys = fan_chart(view, reference)
        return view, reference, png, keys, time.perf_counter() - t0

    def _show(self, view: View) -> None:
        t0 = time.perf_counter()
        reference = compute(view.settings.reference())
        png, keys = fan_chart(view, reference)
        self._display(view, reference, png, keys, time.perf_counter() - t0, kind="full")

    def _display(self, view, reference, png, keys, seconds, kind: str) -> None:
        with self.pn.io.hold():
            self.chart.object = _image(png, "image/jpeg" if kind == "path" else "image/png")
            if keys is not None:
                self.keys.object = _keys_html(keys)
            if kind == "full":
                self.table.object = outcome_table(view, reference)
                text = (
                    f"ready: {view.settings.replicates} replicates, seed of the baseline, "
                    f"updated in {seconds:.2f} s"
                )
            elif kind == "path":
                text = (
                    f"path without noise in {seconds:.2f} s; computing the bands of "
                    f"{view.settings.replicates} replicates…"
                )
            else:
                text = f"preview of {view.settings.replicates} replicates; computing the rest…"
            self.status.object = self._status_html(text, busy=kind != "full", stage=kind)

    def _error(self, exc: ModelError) -> None:
        self.status.object = self._status_html(
            f"cannot run this: {html.escape(str(exc))}", error=True
        )

    @staticmethod
    def _status_html(text: str, busy: bool = False, error: bool = False, stage: str = "") -> str:
        color = "#C00000" if error else ("#8a6d00" if busy else "#2d6a2d")
        state = "error" if error else ("busy" if busy else "ready")
        return (
            f'<div class="status-line" data-state="{state}" data-stage="{stage}" '
            f'style="color:{color}; font-size:15px">{text}</div>'
        )

    # ----- callbacks

    def _policy_changed(self, event) -> None:
        for (pol, _), widget in self.params.items():
            widget.visible = pol == event.new
        self.policy_note.object = POLICY_NOTES.get(event.new, "")

    def _events_changed(self) -> None:
        """After the event list changed what is off: its note, then the run."""
        self._show_causes()
        self.pn.state.execute(self.refresh)

    def _show_causes(self) -> None:
        try:
            self.causal.object = causal_note(check(self.settings()))
        except ModelError as exc:
            self._error(exc)

    def _all_on(self, _event) -> None:
        self.event_list.all_on()

    async def _move(self, _event) -> None:
        ident, when = self.move_event.value, self.move_date.value
        if ident is None or when is None:
            return
        try:
            check(Settings(moves=((ident, when),)))
        except ArgumentError as exc:  # a date outside the run, an unknown event
            self.moves_note.object = f"Not moved: {html.escape(exc.problem)}"
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
        self._show_causes()
        if not self.moves:
            self.moves_note.object = "No event moved."
            return
        lines = [
            f"- {catalog[i].title}: {catalog[i].date} → **{d}**"
            for i, d in sorted(self.moves.items())
        ]
        self.moves_note.object = "Moved:\n" + "\n".join(lines)

    def _go(self, delta: int) -> None:
        self.step.value = min(max(self._step() + delta, 1), GUIDED_STEPS)

    def _step(self) -> int:
        """The guided step (1-based), whatever a browser sent (kept within the steps)."""
        value = self.step.value
        if not isinstance(value, int) or isinstance(value, bool):
            return 1
        return min(max(value, 1), GUIDED_STEPS)

    def _step_changed(self, _event) -> None:
        i = self._step() - 1
        with self.pn.io.hold():
            self.guide_text.object = guided_text(i)
            self.guide_chart.object = history_chart(i)


def _image(data: bytes, mime: str) -> str:
    """An image shown at its own size (:data:`WIDTH` pixels: not shrunk, so its text reads)."""
    b64 = base64.b64encode(data).decode("ascii")
    return (
        f'<img src="data:{mime};base64,{b64}" width="{WIDTH}" '
        'alt="Fan charts of the four cooperation indices" style="display:block">'
    )


def _keys_html(keys: pd.DataFrame) -> str:
    if keys.empty:
        return ""
    items = "".join(
        f"<li>{row.date:%Y-%m} {html.escape(row.title)}</li>" for row in keys.itertuples()
    )
    return (
        "<div><b>Numbered events</b> (largest effects in this run; red dashed: switched off, "
        f'purple: moved; shaded: the projection)<ol class="keys">{items}</ol></div>'
    )
