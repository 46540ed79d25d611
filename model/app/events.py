"""The page's list of events: grouped by period, searchable, causes taking their consequences.

One tick box per catalog event, in one group per period
(:data:`model.classroom.PERIODS`), under a search box that keeps the events
whose title, id or year holds every word typed (:func:`model.classroom.matching`).
Unticking a cause unticks and greys what follows from it
(:func:`model.classroom.toggle`). Only :mod:`model.app` imports Panel.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..catalog import load_catalog
from ..classroom import event_periods, matching, toggle
from ..errors import ModelError

__all__ = ["EventList"]

_CHECKBOX_CSS = (
    "label { white-space: normal; display: flex; align-items: flex-start; gap: 4px; "
    "font-size: 14px; }"
)


def _label(ev) -> str:
    return f"{ev.date:%Y-%m-%d}  {ev.title}"


class EventList:
    """The events' tick boxes by period, the search box, and which events are off."""

    def __init__(
        self,
        pn: Any,
        width: int,
        on_change: Callable[[], None],
        on_error: Callable[[ModelError], None],
    ) -> None:
        self.pn = pn
        catalog = load_catalog()
        self.labels = {_label(ev): ev.id for ev in catalog.values()}
        self.chosen_off: tuple[str, ...] = ()  # switched off by the teacher
        self.off: tuple[str, ...] = ()  # those and what goes with them
        self._on_change = on_change
        self._on_error = on_error
        self._syncing = False
        self._query = ""
        self.search = pn.widgets.TextInput(
            label="Find an event",
            placeholder="words of its title, or its year",
            width=width - 20,
            css_classes=["event-search"],
        )
        self.groups: dict[str, Any] = {}
        self.heads: dict[str, Any] = {}
        for period, ids in event_periods().items():
            self.heads[period] = pn.pane.HTML(
                f"<b>{period}</b>", margin=(6, 5, 0, 5), css_classes=["period"]
            )
            self.groups[period] = pn.widgets.CheckBoxGroup(
                options={_label(catalog[i]): i for i in ids},
                value=list(ids),
                inline=False,
                css_classes=["events"],
                width=width - 30,
                stylesheets=[_CHECKBOX_CSS],
            )
            self.groups[period].param.watch(self._changed, "value")
        self.search.param.watch(self._searched, "value_input")
        self.found = pn.pane.HTML("", margin=(0, 10), css_classes=["search-note"])

    def panel(self, height: int, width: int) -> Any:
        """The search box and the groups, in a scrolling column."""
        pn = self.pn
        body = [x for p in self.groups for x in (self.heads[p], self.groups[p])]
        return pn.Column(
            self.search,
            self.found,
            pn.Column(
                *body,
                height=height,
                scroll=True,
                width=width,
                styles={"border": "1px solid #ddd"},
            ),
        )

    # ----- state

    def ticked(self) -> list[str]:
        """The ids ticked now, in catalog order."""
        ticked = {i for g in self.groups.values() for i in g.value}
        return [i for i in self.labels.values() if i in ticked]

    def set_ticked(self, ids: Iterable[str]) -> None:
        """Tick exactly ``ids`` (what follows from an event off stays off with it)."""
        self._apply(set(ids))

    def all_on(self) -> None:
        self.set_ticked(self.labels.values())

    # ----- callbacks

    def _changed(self, _event: Any) -> None:
        if not self._syncing:
            self._apply(set(self.ticked()))

    def _apply(self, on: set[str]) -> None:
        """Causes, not rows: what requires an event switched off goes off with it, greyed."""
        try:
            self.chosen_off, self.off = toggle(self.chosen_off, on)
        except ModelError as exc:  # an id no tick box has: refused, nothing changes
            self._on_error(exc)
            return
        self._syncing = True
        try:
            for g in self.groups.values():
                want = [i for i in g.options.values() if i not in self.off]
                if set(want) != set(g.value):
                    g.value = want
        finally:
            self._syncing = False
        self._style()
        self._on_change()

    def _searched(self, event: Any) -> None:
        self._query = str(event.new or "")
        self._style()

    def _style(self) -> None:
        """Grey what went with a cause; hide what the search does not find, and empty periods."""
        found = matching(self._query) if self._query.strip() else None
        for period, g in self.groups.items():
            ids = list(g.options.values())
            rules = []
            for n, i in enumerate(ids, start=1):
                if i in self.off and i not in self.chosen_off:
                    rules.append(f".bk-input-group label:nth-of-type({n}) {{ color: #999; }}")
                if found is not None and i not in found:
                    rules.append(f".bk-input-group label:nth-of-type({n}) {{ display: none; }}")
            sheets = [_CHECKBOX_CSS, "".join(rules)] if rules else [_CHECKBOX_CSS]
            if g.stylesheets != sheets:  # only what changed goes to the browser
                g.stylesheets = sheets
            shown = found is None or any(i in found for i in ids)
            if g.visible != shown:
                g.visible = shown
                self.heads[period].visible = shown
        if found is None:
            self.found.object = ""
        else:
            n = len(found)
            note = f"{n} event{'s' if n != 1 else ''} found" if n else "no event found"
            self.found.object = f'<span class="found">{note}</span>'
