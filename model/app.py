"""The classroom page: switch events, pick a policy, see the ensemble at once (Panel).

``relsim app`` (or :func:`serve`) starts a local web page with two tabs:

- **Explore**: switch catalog events off and on, move their dates, pick
  Türkiye's policy from 2026 and its settings (the balancing floors), the
  number of replicates and the rate of random incidents. The four indices are
  drawn as fan charts (median, 50% and 90% bands) with the key events
  numbered, the history as recorded as a dashed line for comparison, and an
  outcome table for 2026–2035 (mean level, worst level, years in crisis).
- **Guided history**: steps through the main events of the source brief,
  each with its date, the brief's section and the catalog's note, and the
  record's trajectory up to that event.

This module is the only one that imports Panel; what the page shows and what
each control changes is :mod:`model.classroom`, and its charts are
:mod:`model.plotting.classroom`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import html
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import Any

import pandas as pd

from .catalog import load_catalog
from .classroom import (
    GUIDED_EVENTS,
    PARAM_LABELS,
    POLICIES,
    POLICY_NOTES,
    Settings,
    View,
    cached,
    compute,
    guided_text,
    outcome_table,
    preview_size,
)
from .errors import ModelError
from .plotting.classroom import fan_chart, history_chart
from .policies import DEFAULT_PARAMS

__all__ = ["ClassroomPage", "create_app", "serve"]


_CSS = """
table.outcomes { border-collapse: collapse; font-size: 14px; margin-top: 4px; }
table.outcomes caption { caption-side: bottom; text-align: left; font-size: 12px; color: #555;
                         padding-top: 4px; }
table.outcomes th, table.outcomes td { padding: 4px 12px; border-bottom: 1px solid #ddd;
                                       text-align: right; }
table.outcomes th { background: #f3f3f3; }
table.outcomes th:first-child { text-align: left; }
table.outcomes td.name { text-align: left; font-weight: 600; }
ol.keys { columns: 2; font-size: 13px; margin: 2px 0 0 0; padding-left: 22px; }
"""


_CHECKBOX_CSS = (
    "label { white-space: normal; display: flex; align-items: flex-start; gap: 4px; "
    "font-size: 13px; }"
)


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
        self._event_controls()
        self._policy_controls()
        self._ensemble_controls()
        self._explore_panes()
        self._guide_controls()
        self._wire()
        self._show(compute(self.settings()))

    # ----- widgets

    def _event_controls(self) -> None:
        """The events of the record to switch off and on, and to move."""
        w = self.pn.widgets
        self.events = w.CheckBoxGroup(
            label="events",
            options=self.labels,
            value=list(self.labels.values()),
            inline=False,
            css_classes=["events"],
            width=300,
            stylesheets=[_CHECKBOX_CSS],
        )
        self.all_on = w.Button(label="All events on", color="default", width=140)
        self.move_event = w.Select(label="Event to move", options=self.labels, width=300)
        self.move_date = w.DatePicker(
            label="New date",
            value=dt.date(2016, 1, 1),
            start=dt.date(2000, 1, 1),
            end=dt.date(2035, 12, 31),
            width=150,
        )
        self.move_button = w.Button(label="Move", color="primary", width=80)
        self.reset_moves = w.Button(label="Reset dates", width=100)
        self.moves_note = self.pn.pane.Markdown("No event moved.", margin=(0, 10))

    def _policy_controls(self) -> None:
        """Türkiye's policy from 2026, its note, and a slider per setting of each policy."""
        w = self.pn.widgets
        self.policy = w.Select(
            label="Türkiye's policy from 2026", options=POLICIES, value="passive", width=300
        )
        self.policy_note = self.pn.pane.Markdown(POLICY_NOTES["passive"], margin=(0, 10), width=300)
        self.params = {
            (pol, key): w.FloatSlider(
                label=PARAM_LABELS.get(key, key),
                start=0,
                end=100,
                step=1,
                value=float(default),
                width=280,
                visible=False,
            )
            for pol, values in DEFAULT_PARAMS.items()
            if pol in POLICIES.values()
            for key, default in values.items()
        }

    def _ensemble_controls(self) -> None:
        """The number of replicates and the rate of random incidents."""
        w = self.pn.widgets
        self.replicates = w.IntSlider(
            label="Replicates", start=20, end=1000, step=20, value=200, width=280
        )
        self.incidents = w.FloatSlider(
            label="Incident rate (× the stress scenario's, from 2026)",
            start=0.0,
            end=3.0,
            step=0.25,
            value=0.0,
            width=280,
        )

    def _explore_panes(self) -> None:
        """What the Explore tab shows: the status line, the chart, its key events, the table."""
        pane = self.pn.pane
        self.status = pane.HTML("", css_classes=["status"], margin=(0, 10))
        self.chart = pane.PNG(None, width=1000, css_classes=["fan-chart"], margin=(0, 10))
        self.keys = pane.HTML("", css_classes=["key-events"], margin=(0, 10), width=1000)
        self.table = pane.HTML(
            "", css_classes=["outcome-table"], margin=(5, 10), width=1000, stylesheets=[_CSS]
        )
        self.keys.stylesheets = [_CSS]

    def _guide_controls(self) -> None:
        """The guided history's step controls, its text and its chart (at the first step)."""
        w = self.pn.widgets
        self.step = w.IntSlider(label="Step", start=1, end=len(GUIDED_EVENTS), value=1, width=300)
        self.prev = w.Button(label="◀ Previous", width=110)
        self.next = w.Button(label="Next ▶", color="primary", width=110)
        self.guide_text = self.pn.pane.Markdown(
            guided_text(0), width=1000, css_classes=["guide-text"]
        )
        self.guide_chart = self.pn.pane.PNG(
            history_chart(0), width=1000, css_classes=["guide-chart"]
        )

    def _wire(self) -> None:
        """Each control to what it changes."""
        chosen: list[Any] = [self.events, self.policy]
        for widget in chosen:
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

    # ----- layout

    def layout(self):
        pn = self.pn
        controls = self._controls()
        explore = pn.Column(self.status, self.chart, self.keys, self.table, name="Explore")
        guide = self._guide_tab()
        header = pn.pane.Markdown(
            "## Türkiye–Russia relations: the classroom page\n"
            "Four cooperation indices (0 = rupture, 50 = ordinary working relations, 100 = closest "
            "partnership) replayed from the record of events since 2000 and projected to 2035. "
            "Change history or policy on the left; the charts and the table follow.",
            width=1350,
        )
        return pn.Column(header, pn.Row(controls, pn.Tabs(explore, guide, dynamic=False)))

    def _controls(self):
        """The column of controls on the left."""
        pn = self.pn
        return pn.Column(
            pn.pane.Markdown(
                "### Events of the record\nUntick an event to take it out of history.",
                margin=(0, 10),
            ),
            pn.Column(
                self.events, height=330, scroll=True, width=320, styles={"border": "1px solid #ddd"}
            ),
            self.all_on,
            pn.pane.Markdown("### Move an event", margin=(0, 10)),
            self.move_event,
            pn.Row(self.move_date, self.move_button),
            self.reset_moves,
            self.moves_note,
            pn.pane.Markdown("### Policy", margin=(0, 10)),
            self.policy,
            self.policy_note,
            *self.params.values(),
            pn.pane.Markdown("### Ensemble", margin=(0, 10)),
            self.replicates,
            self.incidents,
            width=330,
        )

    def _guide_tab(self):
        """The Guided history tab."""
        pn = self.pn
        return pn.Column(
            pn.pane.Markdown(
                "Twelve main events of the brief, one at a time, with the model's record "
                "up to each (every event on, no policy, no incidents).",
                width=1000,
            ),
            pn.Row(self.prev, self.step, self.next),
            self.guide_text,
            self.guide_chart,
            name="Guided history",
        )

    # ----- state

    def settings(self) -> Settings:
        on = set(self.events.value)
        off = tuple(i for i in self.labels.values() if i not in on)
        policy = self.policy.value
        params = tuple(
            (key, _number(w.value)) for (pol, key), w in self.params.items() if pol == policy
        )
        return Settings(
            off=off,
            moves=tuple(self.moves.items()),
            policy=policy,
            params=params,
            replicates=int(_number(self.replicates.value)),
            incidents=_number(self.incidents.value),
        )

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
                "computing…"
                if final and len(stages) == 1
                else f"preview of {stage.replicates} replicates…"
                if not final
                else f"computing all {stage.replicates} replicates…",
                busy=True,
            )
            try:
                shown = await loop.run_in_executor(_EXECUTOR, self._prepare, stage, final, token)
            except ModelError as exc:
                if token == self._token:
                    self.status.object = self._status_html(
                        f"cannot run this: {html.escape(str(exc))}", error=True
                    )
                return
            if shown is None or token != self._token:
                return
            view, reference, png, keys, seconds = shown
            self._display(view, reference, png, keys, seconds, final=final)

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
                text = (
                    f"ready: {view.settings.replicates} replicates, seed of the baseline, "
                    f"updated in {seconds:.2f} s"
                )
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
        lines = [
            f"- {catalog[i].title}: {catalog[i].date} → **{d}**"
            for i, d in sorted(self.moves.items())
        ]
        self.moves_note.object = "Moved:\n" + "\n".join(lines)

    def _go(self, delta: int) -> None:
        step = int(_number(self.step.value)) + delta
        self.step.value = int(min(max(step, _number(self.step.start)), _number(self.step.end)))

    def _step_changed(self, event) -> None:
        i = int(event.new) - 1
        with self.pn.io.hold():
            self.guide_text.object = guided_text(i)
            self.guide_chart.object = history_chart(i)


def _number(value: float | None) -> float:
    """A widget's number (sliders always hold one)."""
    if value is None:
        raise ModelError("a slider of the page holds no value")
    return float(value)


_EXECUTOR = ThreadPoolExecutor(max_workers=1, thread_name_prefix="relsim-page")


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


def create_app():
    """A new page for one browser session (what the server calls per visitor)."""
    return ClassroomPage().layout()


def serve(
    port: int = 8765,
    host: str = "127.0.0.1",
    show: bool = False,
    announce: Callable[[str], object] | None = None,
) -> int:
    """Serve the page at ``http://host:port/`` until interrupted (what ``relsim app`` runs).

    ``announce`` receives the line that says where the page is.
    """
    try:
        import panel as pn
    except ImportError:
        raise ModelError("the classroom page needs Panel: pip install -e '.[app]'") from None
    history_chart(0)  # warm the cache: the first visitor sees the page at once
    loopback = host in ("127.0.0.1", "localhost", "::1")
    # on another address (a classroom network), browsers reach the page by whatever name
    # the machine has
    origins = [f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"] if loopback else ["*"]
    if announce is not None:
        announce(f"relsim classroom page at http://{host}:{port}/ (Ctrl-C to stop)")
    pn.serve(
        {"/": create_app},
        port=port,
        address=host,
        websocket_origin=origins,
        show=show,
        title="relsim: Türkiye–Russia relations",
        verbose=False,
        start=True,
    )
    return 0
