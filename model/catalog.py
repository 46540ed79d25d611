"""Events and their effects as validated values, and the packaged historical catalog.

An event has an id, a date, a title, its source (the brief's section and an
outside reference), tags, and effects on indices: a ``jump`` (immediate change
in index points) or a ``shift`` (a change of the baseline, permanent or for a
``duration``). Any effect size may be a distribution (:class:`Dist`), drawn
once per replicate. The catalog lives in ``model/data/events.toml``. Events
from outside the source brief, admitted when sourced and dated (``scope =
"context"``), live apart in ``model/data/context_events.toml`` and are not
part of the catalog.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from functools import lru_cache
from importlib import resources
from typing import Annotated, Literal

import numpy as np
from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)

from .errors import ScenarioError
from .rng import Streams

__all__ = [
    "Dist",
    "Effect",
    "Event",
    "FollowUp",
    "Number",
    "add_duration",
    "load_catalog",
    "load_context_events",
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
    scope: Literal["brief", "context"] = "brief"  # "context": from outside the brief

    @model_serializer(mode="wrap")
    def _dump(self, handler: SerializerFunctionWrapHandler) -> dict:
        # the default scope is left out, so scenarios dump (and hash) as before
        data = handler(self)
        if self.scope == "brief":
            data.pop("scope", None)
        return data

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
        return self

    def indicators(self) -> set[str]:
        """Every index this event reads or moves."""
        names = {e.indicator for e in self.effects}
        names |= {e.damped_by for e in self.effects if e.damped_by}
        if self.condition:
            names |= {name for name, _, _ in parse_condition(self.condition)}
        return names


@lru_cache(maxsize=1)
def _catalog() -> tuple[Event, ...]:
    text = (resources.files("model") / "data" / "events.toml").read_text(encoding="utf-8")
    events = [Event.model_validate(item) for item in tomllib.loads(text)["events"]]
    return tuple(sorted(events, key=lambda e: e.date))


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
            raise ScenarioError(file, f"events.{e.id}.scope",
                                f"must be 'context' (got {e.scope!r}): add scope = \"context\"")
    return tuple(sorted(events, key=lambda e: e.date))


@lru_cache(maxsize=1)
def _context() -> tuple[Event, ...]:
    path = resources.files("model") / "data" / _CONTEXT_FILE
    return _context_events(path.read_text(encoding="utf-8"))


def load_context_events() -> dict[str, Event]:
    """Events outside the brief, ``{id: Event}`` in date order (read once, then cached).

    Sourced, dated events the brief does not discuss (macro shocks, the Iraq
    war), each with ``scope = "context"``. They are kept apart from
    :func:`load_catalog`: no run uses them unless a scenario adds them.
    """
    return {e.id: e for e in _context()}
