"""Events and their effects as validated values, and the packaged historical catalog.

An event has an id, a date, a title, its source (the brief's section and an
outside reference), tags, and effects on indices: a ``jump`` (immediate change
in index points) or a ``shift`` (a change of the baseline, permanent or for a
``duration``). Any effect size may be a distribution (:class:`Dist`), drawn
once per replicate. The catalog lives in ``model/data/events.toml``.

An event may ``require`` earlier events (``{id: reason}``): it happens at its
date only if every one of them happened. The links are checked when the
catalog loads (:func:`check_requires`); :func:`consequences` follows them
forward and :func:`clusters` groups the linked events, whose names live in
``model/data/clusters.toml`` (:func:`load_clusters`).
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
import tomllib
from collections.abc import Iterable, Mapping
from functools import lru_cache
from importlib import resources
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from .rng import Streams

__all__ = [
    "Cluster",
    "Dist",
    "Effect",
    "Event",
    "FollowUp",
    "Number",
    "Requires",
    "add_duration",
    "check_clusters",
    "check_requires",
    "clusters",
    "consequences",
    "load_catalog",
    "load_clusters",
    "parse_condition",
    "sample",
]

_STRICT = ConfigDict(extra="forbid", frozen=True)


class Dist(BaseModel):
    """A probability distribution for an uncertain number, sampled per replicate.

    ``normal`` (mean, sd), ``uniform`` (low, high), ``triangular`` (low, mode,
    high), ``lognormal`` (median, sigma: s.d. of the log).
    """

    model_config = _STRICT
    dist: Literal["normal", "uniform", "triangular", "lognormal"]
    mean: float | None = None
    sd: float | None = None
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    median: float | None = None
    sigma: float | None = None

    @model_validator(mode="after")
    def _check(self) -> Dist:
        need = {
            "normal": ("mean", "sd"),
            "uniform": ("low", "high"),
            "triangular": ("low", "mode", "high"),
            "lognormal": ("median", "sigma"),
        }[self.dist]
        given = {k for k, v in self.model_dump().items() if v is not None and k != "dist"}
        if missing := [k for k in need if k not in given]:
            raise ValueError(f"a {self.dist} distribution needs {', '.join(missing)}")
        if extra := sorted(given - set(need)):
            raise ValueError(f"a {self.dist} distribution takes only {', '.join(need)}, not {', '.join(extra)}")
        for key in ("sd", "sigma"):
            val = getattr(self, key)
            if val is not None and val < 0:
                raise ValueError(f"'{key}' must be >= 0 (got {val})")
        if self.low is not None and self.high is not None and self.low >= self.high:
            raise ValueError(f"'low' must be below 'high' (got {self.low} >= {self.high})")
        if self.dist == "triangular" and not (self.low <= self.mode <= self.high):
            raise ValueError(f"'mode' must lie in [low, high] (got {self.mode})")
        if self.dist == "lognormal" and self.median <= 0:
            raise ValueError(f"'median' must be > 0 (got {self.median})")
        return self

    def center(self) -> float:
        """A representative value: the mean, or the median for lognormal."""
        if self.dist == "normal":
            return float(self.mean)
        if self.dist == "lognormal":
            return float(self.median)
        if self.dist == "triangular":
            return (self.low + self.mode + self.high) / 3.0
        return 0.5 * (self.low + self.high)

    def draw(self, u: np.ndarray) -> np.ndarray:
        """Inverse-CDF draw from uniforms ``u`` in (0, 1)."""
        from scipy.special import ndtri

        if self.dist == "normal":
            return self.mean + self.sd * ndtri(u)
        if self.dist == "lognormal":
            return self.median * np.exp(self.sigma * ndtri(u))
        if self.dist == "uniform":
            return self.low + (self.high - self.low) * u
        lo, mo, hi = self.low, self.mode, self.high
        cut = (mo - lo) / (hi - lo)
        left = lo + np.sqrt(u * (hi - lo) * (mo - lo))
        right = hi - np.sqrt((1.0 - u) * (hi - lo) * (hi - mo))
        return np.where(u < cut, left, right)


def _to_number(value):
    """Accept a number, or a table read as a :class:`Dist` (its own errors kept)."""
    if isinstance(value, dict):
        try:
            return Dist.model_validate(value)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            raise ValueError(f"{where + ': ' if where else ''}{msg}") from None
    return value


#: A plain number, or a distribution sampled once per replicate.
Number = Annotated[float | Dist, BeforeValidator(_to_number)]


def sample(value: Number, streams: Streams | None, name: str, n: int) -> np.ndarray:
    """``value`` as an array of ``n`` per-replicate draws (constant if a float).

    Each uncertain number draws from its own stream, named by ``name`` (its
    place in the scenario), so adding an uncertainty elsewhere never changes
    these draws. Without ``streams`` a distribution gives its centre.
    """
    if not isinstance(value, Dist):
        return np.full(n, float(value))
    if streams is None:
        return np.full(n, value.center())
    return value.draw(streams.uniform("param:" + name, 0))


_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dwmy])\s*$")


def add_duration(start: dt.date, duration: str) -> dt.date:
    """``start`` plus a duration such as ``"90d"``, ``"6w"``, ``"18m"``, ``"2y"``."""
    amount, unit = _DURATION.match(duration).groups()
    amount = float(amount)
    if unit in "dw":
        return start + dt.timedelta(days=round(amount * (7 if unit == "w" else 1)))
    months = round(amount * (12 if unit == "y" else 1))
    year, month = divmod(start.month - 1 + months, 12)
    first = dt.date(start.year + year, month + 1, 1)
    nxt = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first.replace(day=min(start.day, (nxt - first).days))


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
        if v is not None and (not _DURATION.match(v) or float(_DURATION.match(v).group(1)) <= 0):
            raise ValueError(
                f"duration must be a positive number and a unit d, w, m or y, e.g. '18m' (got {v!r})"
            )
        return v

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
    def size(self) -> Number:
        return self.jump if self.jump is not None else self.shift


_COMPARISON = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")


def parse_condition(text: str) -> list[tuple[str, str, float]]:
    """``"security < 25 and west > 40"`` -> ``[("security", "<", 25.0), ...]``."""
    parts = re.split(r"\s+and\s+", text.strip())
    out = []
    for part in parts:
        m = _COMPARISON.match(part)
        if not m:
            raise ValueError(
                f"cannot read condition {part!r}: write comparisons like 'security < 25', "
                "joined by 'and'"
            )
        out.append((m.group(1), m.group(2), float(m.group(3))))
    return out


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
    days: int = Field(ge=0)


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
    def _dump(self, handler) -> dict[str, Any]:
        """Leave an empty ``requires`` out, so events without links dump as before."""
        data = handler(self)
        if not self.requires:
            data.pop("requires", None)
        return data

    def __hash__(self) -> int:
        # the pydantic hash of a frozen model fails on the ``requires`` dict
        values = (frozenset(v.items()) if isinstance(v, dict) else v for v in vars(self).values())
        return hash((type(self), *values))

    def indicators(self) -> set[str]:
        """Every index this event reads or moves."""
        names = {e.indicator for e in self.effects}
        names |= {e.damped_by for e in self.effects if e.damped_by}
        if self.condition:
            names |= {name for name, _, _ in parse_condition(self.condition)}
        return names


def _data(name: str) -> dict[str, Any]:
    return tomllib.loads((resources.files("model") / "data" / name).read_text(encoding="utf-8"))


@lru_cache(maxsize=1)
def _catalog() -> tuple[Event, ...]:
    events = [Event.model_validate(item) for item in _data("events.toml")["events"]]
    try:
        check_requires(events)
    except ValueError as exc:
        raise ValueError(f"model/data/events.toml: {exc}") from None
    return tuple(sorted(events, key=lambda e: e.date))


def load_catalog() -> dict[str, Event]:
    """The historical catalog, ``{id: Event}`` in date order (read once, then cached)."""
    return {e.id: e for e in _catalog()}


# --------------------------------------------------------------------------- requires

#: Events as ``{id: Event}`` or as any iterable of :class:`Event`.
Events = Mapping[str, Event] | Iterable[Event]


def _listed(events: Events) -> list[Event]:
    return list(events.values()) if isinstance(events, Mapping) else list(events)


def _suggest(word: str, choices: Iterable[str]) -> str:
    close = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""


def check_requires(events: Events) -> None:
    """Refuse links to unknown events, cycles of links, and causes dated after their consequence.

    Raises ``ValueError`` with a one-line message naming the events concerned.
    """
    listed = _listed(events)
    by_id = {e.id: e for e in listed}
    for e in listed:
        for cause in e.requires:
            if cause not in by_id:
                hint = _suggest(cause, by_id)
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
                return path[path.index(cause):] + [cause]
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
        if event.id in seen or event.after.event not in by_id:
            return None
        seen.add(event.id)
        days += event.after.days
        event = by_id[event.after.event]
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
        return f"{where} names unknown event {unknown[0]!r}{_suggest(unknown[0], known)}"
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
