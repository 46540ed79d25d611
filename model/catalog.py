"""Events and their effects as validated values, and the packaged historical catalog.

An event has an id, a date, a title, its source (the brief's section and an
outside reference), tags, and effects on indices: a ``jump`` (immediate change
in index points) or a ``shift`` (a change of the baseline, permanent or for a
``duration``). Any effect size may be a distribution (:class:`Dist`), drawn
once per replicate. The catalog lives in ``model/data/events.toml``. Events
from outside the source brief, admitted when sourced and dated (``scope =
"context"``), live apart in ``model/data/context_events.toml``
(:func:`load_context_events`).

An event may ``require`` earlier events (``{id: reason}``): it happens at its
date only if every one of them happened. The links are checked when the
catalog loads (:func:`check_requires`); :func:`consequences` follows them
forward and :func:`clusters` groups the linked events, whose names live in
``model/data/clusters.toml`` (:func:`load_clusters`).
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    field_validator,
    model_serializer,
    model_validator,
)

from .conditions import names, parse_condition
from .distributions import Dist, Number
from .errors import ScenarioError, did_you_mean
from .timeaxis import MAX_DAYS, check_duration

__all__ = [
    "SCOPES",
    "Cluster",
    "Effect",
    "Event",
    "FollowUp",
    "Requires",
    "check_clusters",
    "check_requires",
    "clusters",
    "consequences",
    "load_catalog",
    "load_clusters",
    "load_context_events",
    "load_events",
]

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Effect(BaseModel):
    """One effect of an event on one index: exactly one of ``jump`` or ``shift``."""

    model_config = _STRICT
    indicator: str
    jump: Number | None = None
    shift: Number | None = None
    duration: str | None = None
    damped_by: str | None = None

    @field_validator("duration")
    @classmethod
    def _duration(cls, v: str | None) -> str | None:
        return v if v is None else check_duration(v, "duration")

    @model_validator(mode="after")
    def _one_kind(self) -> Effect:
        if (self.jump is None) == (self.shift is None):
            raise ValueError("an effect needs exactly one of 'jump' or 'shift'")
        if self.duration is not None and self.shift is None:
            raise ValueError("'duration' applies only to a 'shift'")
        return self

    @property
    def kind(self) -> str:
        return "jump" if self.jump is not None else "shift"

    @property
    def size(self) -> float | Dist:
        """The effect's size (a jump's or a shift's)."""
        if self.jump is not None:
            return self.jump
        if self.shift is not None:
            return self.shift
        raise ValueError("an effect needs exactly one of 'jump' or 'shift'")


_ID = re.compile(r"^[a-z0-9][a-z0-9-]*$")


def _to_requires(value: Any) -> Any:
    """Read the short form ``["a", "b"]`` as ``{"a": "", "b": ""}``; a table passes as it is."""
    if not isinstance(value, list | tuple):
        return value
    if bad := [v for v in value if not isinstance(v, str)]:
        raise ValueError(f"'requires' lists event ids as strings (got {bad[0]!r})")
    if twice := sorted({v for v in value if value.count(v) > 1}):
        raise ValueError(f"'requires' lists {twice[0]!r} more than once")
    return dict.fromkeys(value, "")


#: Required event id -> a one-line reason; a plain list of ids is read with empty reasons.
Requires = Annotated[dict[str, str], BeforeValidator(_to_requires)]


class FollowUp(BaseModel):
    """Fire ``days`` days after another event ``event`` fires."""

    model_config = _STRICT
    event: str
    days: int = Field(ge=0, le=MAX_DAYS)  # at most the calendar's span (300 years)


class Event(BaseModel):
    """A dated event (or a follow-up of another) with its effects and sources."""

    model_config = _STRICT
    id: Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9-]*$")]
    date: dt.date | None = None
    after: FollowUp | None = None
    title: str
    effects: tuple[Effect, ...] = Field(min_length=1)
    precision: Literal["day", "month", "year"] = "day"
    category: str = "hypothetical"
    tags: tuple[str, ...] = ()
    confidence: Literal["high", "medium", "low"] = "medium"
    effect_confidence: Literal["high", "medium", "low"] = "low"
    brief: str = "not in brief"
    reference: str = "hypothetical"
    brief_date: dt.date | None = None
    cameo: str | None = None
    goldstein: float | None = Field(default=None, ge=-10, le=10)
    note: str = ""
    condition: str | None = None
    requires: Requires = Field(default_factory=dict)
    scope: Literal["brief", "context"] = "brief"  # "context": from outside the brief

    @field_validator("requires")
    @classmethod
    def _requires(cls, v: dict[str, str]) -> dict[str, str]:
        for ident, reason in v.items():
            if not _ID.match(ident):
                raise ValueError(
                    f"'requires' names {ident!r}, which is not an event id "
                    "(lowercase letters, digits and '-')"
                )
            if "\n" in reason:
                raise ValueError(
                    f"the reason for requiring {ident!r} must be one line (got {reason!r})"
                )
        return v

    @field_validator("condition")
    @classmethod
    def _condition(cls, v: str | None) -> str | None:
        if v is not None:
            parse_condition(v)
        return v

    @model_validator(mode="after")
    def _when(self) -> Event:
        if (self.date is None) == (self.after is None):
            raise ValueError("an event needs exactly one of 'date' or 'after'")
        if self.id in self.requires:
            raise ValueError(f"event {self.id!r} requires itself: take it out of 'requires'")
        return self

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict[str, Any]:
        """Leave an empty ``requires`` and the default scope out, so events without them dump
        (and scenarios hash) as before."""
        data = handler(self)
        if not self.requires:
            data.pop("requires", None)
        if self.scope == "brief":
            data.pop("scope", None)
        return data

    def __hash__(self) -> int:
        # the pydantic hash of a frozen model fails on the ``requires`` dict
        values = (frozenset(v.items()) if isinstance(v, dict) else v for v in vars(self).values())
        return hash((type(self), *values))

    def indicators(self) -> set[str]:
        """Every index this event reads or moves."""
        used = {e.indicator for e in self.effects}
        used |= {e.damped_by for e in self.effects if e.damped_by}
        if self.condition:
            used |= names(self.condition)
        return used


def _data(name: str) -> dict[str, Any]:
    return tomllib.loads((resources.files("model") / "data" / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _catalog() -> tuple[Event, ...]:
    events = [Event.model_validate(item) for item in _data("events.toml")["events"]]
    try:
        check_requires(events)
    except ValueError as exc:
        raise ValueError(f"model/data/events.toml: {exc}") from None
    return tuple(sorted(events, key=_date))


def _date(event: Event) -> dt.date:
    """An event's date (follow-ups, which have none, sort last)."""
    return event.date or dt.date.max


def load_catalog() -> dict[str, Event]:
    """The historical catalog, ``{id: Event}`` in date order (read once, then cached)."""
    return {e.id: e for e in _catalog()}


_CONTEXT_FILE = "context_events.toml"


def _context_events(text: str, file: str = f"model/data/{_CONTEXT_FILE}") -> tuple[Event, ...]:
    """A context file's events, in date order; each must say ``scope = "context"``."""
    events = [Event.model_validate(item) for item in tomllib.loads(text)["events"]]
    seen: set[str] = set()
    for e in events:
        if e.id in seen:
            raise ScenarioError(file, f"events.{e.id}", "id used twice: give each event its own")
        seen.add(e.id)
        if e.scope != "context":
            raise ScenarioError(
                file, f"events.{e.id}.scope", f"must be 'context' (got {e.scope!r})"
            )
    return tuple(sorted(events, key=_date))


@lru_cache(maxsize=1)
def _context() -> tuple[Event, ...]:
    events = _context_events(
        (resources.files("model") / "data" / _CONTEXT_FILE).read_text(encoding="utf-8")
    )
    try:  # a context event may require the brief's events as well as other context events
        check_requires([*_catalog(), *events])
    except ValueError as exc:
        raise ValueError(f"model/data/{_CONTEXT_FILE}: {exc}") from None
    return events


def load_context_events() -> dict[str, Event]:
    """Events outside the brief, ``{id: Event}`` in date order (read once, then cached).

    Sourced, dated events the brief does not discuss (macro shocks, the Iraq
    war), each with ``scope = "context"``. They are kept apart from
    :func:`load_catalog`: a run uses them when its scenario selects them
    (``events.scopes``, :func:`load_events`).
    """
    return {e.id: e for e in _context()}


#: The scopes of the packaged events: the brief's catalog and the context events.
SCOPES: tuple[str, ...] = ("brief", "context")


@lru_cache(maxsize=8)
def _events(scopes: frozenset[str]) -> tuple[Event, ...]:
    brief = _catalog() if "brief" in scopes else ()
    context = _context() if "context" in scopes else ()
    return tuple(sorted([*brief, *context], key=_date))  # stable: the brief's first on a day


def load_events(scopes: Iterable[str] = ("brief",)) -> dict[str, Event]:
    """The packaged events of ``scopes`` (of :data:`SCOPES`), ``{id: Event}`` in date order.

    ``("brief",)`` is :func:`load_catalog`; with ``"context"`` the context
    events join it, merged by date (on a shared day the brief's come first).
    Unknown scopes raise ``ValueError``.
    """
    chosen = frozenset(scopes)
    if unknown := sorted(chosen - set(SCOPES)):
        raise ValueError(f"unknown scope {unknown[0]!r}; scopes: {', '.join(SCOPES)}")
    return {e.id: e for e in _events(chosen)}


# --------------------------------------------------------------------------- requires

#: Events as ``{id: Event}`` or as any iterable of :class:`Event`.
Events = Mapping[str, Event] | Iterable[Event]


def _listed(events: Events) -> list[Event]:
    return list(events.values()) if isinstance(events, Mapping) else list(events)


def check_requires(events: Events) -> None:
    """Refuse links to unknown events, cycles of links, and causes dated after their consequence.

    Raises ``ValueError`` with a one-line message naming the events concerned.
    """
    listed = _listed(events)
    by_id = {e.id: e for e in listed}
    for e in listed:
        for cause in e.requires:
            if cause not in by_id:
                hint = did_you_mean(cause, by_id)
                raise ValueError(f"event {e.id!r} requires unknown event {cause!r}{hint}")
    if cycle := _cycle({e.id: tuple(e.requires) for e in listed}):
        raise ValueError(f"requires form a cycle: {' -> '.join(cycle)}")
    _check_order(listed, by_id)


def _cycle(graph: dict[str, tuple[str, ...]]) -> list[str] | None:
    """A cycle of ``graph`` (id -> required ids) as ``[a, b, ..., a]``, each requiring the next."""
    done: set[str] = set()
    for root, causes in graph.items():
        if root in done:
            continue
        path, stack = [root], [iter(causes)]
        while stack:
            cause = next(stack[-1], None)
            if cause is None:
                done.add(path.pop())
                stack.pop()
            elif cause in path:
                return path[path.index(cause) :] + [cause]
            elif cause in graph and cause not in done:
                path.append(cause)
                stack.append(iter(graph[cause]))
    return None


def _acts_on(event: Event, by_id: Mapping[str, Event]) -> dt.date | None:
    """The day ``event`` acts: its date, or its parent's plus ``days`` for a follow-up.

    None if the chain of parents is broken (an unknown parent or a loop).
    """
    days, seen = 0, set()
    while event.date is None:
        after = event.after
        if after is None or event.id in seen or after.event not in by_id:
            return None
        seen.add(event.id)
        days += after.days
        event = by_id[after.event]
    return event.date + dt.timedelta(days=days)


def _check_order(listed: list[Event], by_id: Mapping[str, Event]) -> None:
    for e in listed:
        when = _acts_on(e, by_id)
        for cause in e.requires:
            then = _acts_on(by_id[cause], by_id)
            if when is not None and then is not None and then > when:
                raise ValueError(
                    f"event {e.id!r} ({when}) requires {cause!r}, which comes later ({then}): "
                    "a cause must not be dated after its consequence"
                )


def consequences(events: Events, ids: str | Iterable[str]) -> set[str]:
    """Every event that requires one of ``ids``, directly or through other events.

    An id of ``ids`` is in the answer only if it requires another of them,
    directly or not; ids not among ``events`` have no consequences.
    """
    dependants: dict[str, list[str]] = {}
    for e in _listed(events):
        for cause in e.requires:
            dependants.setdefault(cause, []).append(e.id)
    todo = [ids] if isinstance(ids, str) else list(ids)
    found: set[str] = set()
    while todo:
        for child in dependants.get(todo.pop(), ()):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def clusters(events: Events) -> list[frozenset[str]]:
    """The groups of two or more events joined by ``requires`` (read both ways).

    In the order of each group's first event in ``events``; links to unknown
    events are ignored.
    """
    listed = _listed(events)
    linked: dict[str, set[str]] = {e.id: set() for e in listed}
    for e in listed:
        for cause in linked.keys() & e.requires.keys():
            linked[e.id].add(cause)
            linked[cause].add(e.id)
    seen: set[str] = set()
    groups = []
    for start, others in linked.items():
        if start in seen or not others:
            continue
        group, todo = {start}, [start]
        while todo:
            for other in linked[todo.pop()] - group:
                group.add(other)
                todo.append(other)
        seen |= group
        groups.append(frozenset(group))
    return groups


# --------------------------------------------------------------------------- named clusters


def _distinct(value: Any) -> Any:
    """Refuse a member listed twice (a set would hide it)."""
    if not isinstance(value, list | tuple):
        return value
    if twice := sorted({v for v in value if value.count(v) > 1}):
        raise ValueError(f"'members' lists {twice[0]!r} more than once")
    return value


class Cluster(BaseModel):
    """A named causal cluster: a group of events joined by ``requires``, read as one factor."""

    model_config = _STRICT
    id: Annotated[str, Field(pattern=_ID.pattern)]
    title: str = Field(min_length=1)
    members: Annotated[frozenset[str], BeforeValidator(_distinct), Field(min_length=2)]


def check_clusters(named: Iterable[Cluster], events: Events) -> None:
    """Each named cluster is exactly one group of :func:`clusters`, and every group is named.

    Raises ``ValueError`` with a one-line message saying what to change.
    """
    named = list(named)
    groups = clusters(events)
    known = {e.id for e in _listed(events)}
    seen: dict[frozenset[str], str] = {}
    for c in named:
        if c.id in seen.values():
            raise ValueError(f"cluster id {c.id!r} is used twice")
        if c.members in seen:
            raise ValueError(f"cluster {c.id!r} lists the same events as {seen[c.members]!r}")
        if c.members not in groups:
            raise ValueError(_mismatch(c, groups, known))
        seen[c.members] = c.id
    for group in groups:
        if group not in seen:
            raise ValueError(
                f"the events {', '.join(sorted(group))} are joined by 'requires' but no cluster "
                "names them: add a [[clusters]] entry with these members"
            )


def _mismatch(cluster: Cluster, groups: list[frozenset[str]], known: set[str]) -> str:
    """Why ``cluster`` is not one of ``groups``, measured against the group it overlaps most."""
    where = f"cluster {cluster.id!r}"
    if unknown := sorted(cluster.members - known):
        return f"{where} names unknown event {unknown[0]!r}{did_you_mean(unknown[0], known)}"
    best = max(groups, key=lambda g: len(g & cluster.members), default=frozenset())
    if not best & cluster.members:
        return f"{where}: none of its members is linked by 'requires' to another event"
    missing, extra = sorted(best - cluster.members), sorted(cluster.members - best)
    text = [f"lacks {', '.join(missing)}"] if missing else []
    text += [f"has {', '.join(extra)}, not joined to the others by 'requires'"] if extra else []
    return f"{where} must list exactly the events joined by 'requires': it {' and '.join(text)}"


@lru_cache(maxsize=1)
def _clusters() -> tuple[Cluster, ...]:
    named = tuple(Cluster.model_validate(item) for item in _data("clusters.toml")["clusters"])
    try:
        check_clusters(named, _catalog())
    except ValueError as exc:
        raise ValueError(f"model/data/clusters.toml: {exc}") from None
    return named


def load_clusters() -> dict[str, Cluster]:
    """The named causal clusters of the catalog, ``{id: Cluster}`` in file order (cached)."""
    return {c.id: c for c in _clusters()}
