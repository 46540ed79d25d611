"""The events of a run: what a scenario's catalog control keeps, and what goes with a drop.

An event may ``require`` others (``requires``, docs/CAUSAL_LINKS.md): it
happens at its date only if every event it requires has happened by then. So
removing an event removes everything that requires it, directly or through
other events, and :func:`resolve_events` works out the whole cascade:

- ``events.drop`` removes the events it names and everything that requires
  them (catalog and added events alike);
- ``events.only`` leaves out the catalog events it does not select, and an
  event it selects goes too if it requires one it leaves out;
- ``events.move`` can put a cause after an event that requires it: that event
  goes (its cause has not happened by its date);
- a follow-up (``after``) of a removed event goes with its parent;
- ``events.keep`` keeps a named consequence on purpose, and whatever it
  needs (the events it requires, its parent), unless they are dropped by
  name: the links to what is gone are waived for it.

``events.scale = 0`` is no removal: the event happens with no effect and its
consequences stay. The result, a :class:`Resolution`, holds the timeline (in
date order, a cause before its consequence on a shared day, follow-ups last)
and every removal with its reason, for ``relsim run``, ``show`` and
``validate`` to report and for ``metadata.json`` and ``scenario.resolved.toml``
to record.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from ..catalog import Event

__all__ = ["Removed", "Resolution", "resolve_events"]

#: How a removal started: by name (``drop``), by ``only``, by a ``move``.
_HOW = {"drop": "dropped", "only": "left out by events.only", "move": "moved"}


@dataclass(frozen=True)
class Removed:
    """An event taken out of a run: why, and which removal or move started it.

    ``how`` is ``"drop"``, ``"only"`` or ``"move"``; ``root`` the event whose
    removal or move started it (the event itself when ``drop`` names it, when
    ``only`` leaves it out, or when it is moved before an event it requires);
    ``reason`` one line for a reader.
    """

    id: str
    how: str
    root: str
    reason: str

    @property
    def by_name(self) -> bool:
        """Whether ``drop`` names it or ``only`` leaves it out (not a consequence of either)."""
        return self.how != "move" and self.root == self.id


@dataclass(frozen=True)
class Resolution:
    """The timeline of a run and every event removed from it, with the reason."""

    events: tuple[Event, ...]
    removed: dict[str, Removed] = field(default_factory=dict)
    #: moved events' new dates (to say where a move put a cause)
    moves: Mapping[str, dt.date] = field(default_factory=dict)
    #: events kept on purpose (events.keep and what they need) whose links were waived:
    #: ``{id: the events it requires that are gone or now come after it}``
    waived: dict[str, tuple[str, ...]] = field(default_factory=dict)

    def dropped(self) -> dict[str, str]:
        """Every event removed other than by name: ``{id: reason}``, in the order found."""
        return {r.id: r.reason for r in self.removed.values() if not r.by_name}

    def cascades(self) -> dict[tuple[str, str], list[Removed]]:
        """``{(how, root): [what went with it]}``, one entry per removal or move that started
        a cascade."""
        out: dict[tuple[str, str], list[Removed]] = {}
        for r in self.removed.values():
            if not r.by_name:
                out.setdefault((r.how, r.root), []).append(r)
        return out

    def lines(self) -> list[str]:
        """One line per cascade and per kept consequence, as the command line prints them."""
        lines = []
        for (how, root), gone in self.cascades().items():
            ids = ", ".join(r.id for r in gone)
            if how == "drop":
                lines.append(f"dropping {root} also drops {_count(gone)} that {_verb(gone)}: {ids}")
            elif how == "only":
                lines.append(
                    f"events.only leaves out {root}, so it also drops {_count(gone)} "
                    f"that {_verb(gone)}: {ids}"
                )
            else:
                why = "; ".join(f"{r.id} ({r.reason})" for r in gone)
                lines.append(f"moving {root} to {self.moves[root]} drops {_count(gone)}: {why}")
        for ident, links in self.waived.items():
            if links:
                lines.append(f"keeping {ident} although it requires {', '.join(links)}")
        return lines


def _count(items: Sequence[object]) -> str:
    return f"{len(items)} event{'' if len(items) == 1 else 's'}"


def _verb(items: Sequence[object]) -> str:
    return "requires it" if len(items) == 1 else "require it"


def resolve_events(
    catalog: Sequence[Event],
    added: Sequence[Event],
    drop: Iterable[str] = (),
    only: Iterable[str] | None = None,
    keep: Iterable[str] = (),
    move: Mapping[str, dt.date] | None = None,
) -> Resolution:
    """The run's events after ``only``, ``drop``, ``move`` and ``keep``, and the cascade.

    ``catalog`` and ``added`` are the catalog's and the scenario's events (in
    that order; ``only`` selects among the catalog's: an id, a tag or a
    category). Unknown ids are ignored here (the scenario checks refuse them).
    """
    move = dict(move or {})
    pool = [_moved(e, move) for e in [*catalog, *added]]
    by_id = {e.id: e for e in pool}
    removed = _named(catalog, drop, only)
    kept = _needs(keep, by_id, removed)
    when = {e.id: _acts_on(e, by_id) for e in pool}
    while True:  # until nothing more goes (one pass in the order events act, usually)
        more = {}
        for e in _in_order(pool, when):
            if e.id not in removed and e.id not in kept:
                why = _why_not(e, by_id, removed, when, move)
                if why is not None:
                    removed[e.id] = more[e.id] = why
        if not more:
            break
    live = {e.id: _trimmed(e, removed, when) if e.id in kept else e for e in pool}
    waived = {
        i: tuple(c for c in by_id[i].requires if c not in live[i].requires)
        for i in sorted(kept, key=list(by_id).index)
    }
    timeline = _ordered([live[e.id] for e in pool if e.id not in removed])
    return Resolution(tuple(timeline), removed, move, {i: w for i, w in waived.items() if w})


def _moved(event: Event, move: Mapping[str, dt.date]) -> Event:
    if event.id not in move:
        return event
    return event.model_copy(update={"date": move[event.id], "after": None})


def _named(
    catalog: Sequence[Event], drop: Iterable[str], only: Iterable[str] | None
) -> dict[str, Removed]:
    """The events removed by name: those ``only`` does not select, and those in ``drop``."""
    removed: dict[str, Removed] = {}
    if only is not None:
        wanted = set(only)
        for e in catalog:
            if not (e.id in wanted or wanted & set(e.tags) or e.category in wanted):
                removed[e.id] = Removed(e.id, "only", e.id, _HOW["only"])
    for ident in drop:
        removed.setdefault(ident, Removed(ident, "drop", ident, "events.drop"))
    return removed


def _needs(
    keep: Iterable[str], by_id: Mapping[str, Event], removed: Mapping[str, Removed]
) -> set[str]:
    """``keep`` and whatever its events need (what they require, their parents), transitively,
    short of what is removed by name."""
    kept: set[str] = set()
    todo = [i for i in keep if i in by_id]
    while todo:
        ident = todo.pop()
        if ident in kept or ident in removed:
            continue
        kept.add(ident)
        e = by_id[ident]
        todo += [c for c in e.requires if c in by_id]
        if e.after is not None and e.after.event in by_id:
            todo.append(e.after.event)
    return kept


#: When an event acts: its day, then 0 for a dated event and 1 for a follow-up (which
#: fires after the dated events of its day).
_When = tuple[dt.date, int] | None


def _acts_on(event: Event, by_id: Mapping[str, Event]) -> _When:
    """The day ``event`` acts on (a follow-up: its parent's plus ``days``); None if its chain
    of parents is broken."""
    days, seen, rank = 0, set(), 0
    while event.date is None:
        after = event.after
        if after is None or event.id in seen or after.event not in by_id:
            return None
        seen.add(event.id)
        days, rank = days + after.days, 1
        event = by_id[after.event]
    return event.date + dt.timedelta(days=days), rank


def _in_order(pool: list[Event], when: Mapping[str, _When]) -> list[Event]:
    """``pool`` in the order events act (so causes come before what requires them)."""
    never = (dt.date.max, 2)
    return sorted(pool, key=lambda e: when[e.id] or never)


def _why_not(
    e: Event,
    by_id: Mapping[str, Event],
    removed: Mapping[str, Removed],
    when: Mapping[str, _When],
    move: Mapping[str, dt.date],
) -> Removed | None:
    """Why ``e`` cannot happen (a removed cause or parent, a cause that now comes after it),
    or None."""
    for cause in e.requires:
        if cause in removed:
            return _with(e.id, f"requires {cause}", removed[cause])
    if e.after is not None and e.after.event in removed:
        return _with(e.id, f"follows {e.after.event}", removed[e.after.event])
    here = when[e.id]
    for cause in e.requires:
        then = when.get(cause)
        if cause not in by_id or here is None or then is None or then <= here:
            continue
        if cause in move:
            return Removed(e.id, "move", cause, f"requires {cause}, which now comes after it")
        if e.id in move:
            return Removed(e.id, "move", e.id, f"now comes before {cause}, which it requires")
        return Removed(e.id, "move", e.id, f"comes before {cause}, which it requires")
    return None


def _with(ident: str, link: str, cause: Removed) -> Removed:
    """``ident`` removed through ``link`` to a removed ``cause``: the cause's root and how."""
    if cause.by_name:
        return Removed(ident, cause.how, cause.root, f"{link} ({_HOW[cause.how]})")
    if cause.root == cause.id:
        return Removed(ident, cause.how, cause.root, f"{link}, which goes ({cause.reason})")
    started = f"{cause.root} ({_HOW[cause.how]})"
    return Removed(ident, cause.how, cause.root, f"{link}, which goes with {started}")


def _trimmed(e: Event, removed: Mapping[str, Removed], when: Mapping[str, _When]) -> Event:
    """A kept event without its links to causes that are gone or come after it."""
    here = when[e.id]
    live = {
        c: why
        for c, why in e.requires.items()
        if c not in removed and not (here is not None and (when.get(c) or here) > here)
    }
    return e if len(live) == len(e.requires) else e.model_copy(update={"requires": live})


def _ordered(events: list[Event]) -> list[Event]:
    """Dated events by date (a cause before what requires it on a shared day, otherwise in the
    given order), then the follow-ups in the given order."""
    dated = sorted((e for e in events if e.date is not None), key=lambda e: e.date or dt.date.max)
    out: list[Event] = []
    i = 0
    while i < len(dated):
        j = i
        while j < len(dated) and dated[j].date == dated[i].date:
            j += 1
        out += _causes_first(dated[i:j])
        i = j
    return out + [e for e in events if e.date is None]


def _causes_first(day: list[Event]) -> list[Event]:
    """The events of one day, each after the ones it requires, otherwise in the given order."""
    if len(day) < 2:
        return day
    ids = {e.id for e in day}
    done: list[Event] = []
    left = list(day)
    while left:
        placed = {e.id for e in done}
        nxt = next(
            (e for e in left if not (set(e.requires) & ids) - placed), left[0]
        )  # left[0] only on a cycle, which the checks refuse
        done.append(nxt)
        left.remove(nxt)
    return done
