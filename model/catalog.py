"""Events and their effects as validated values, and the packaged historical catalog.

An event has an id, a date, a title, its source (the brief's section and an
outside reference), tags, and effects on indices: a ``jump`` (immediate change
in index points) or a ``shift`` (a change of the baseline, permanent or for a
``duration``). Any effect size may be a distribution (:class:`Dist`), drawn
once per replicate. The catalog lives in ``model/data/events.toml``.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from functools import lru_cache
from importlib import resources
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from .conditions import names, parse_condition
from .distributions import Dist, Number
from .timeaxis import check_duration

__all__ = ["Effect", "Event", "FollowUp", "load_catalog"]

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
        used = {e.indicator for e in self.effects}
        used |= {e.damped_by for e in self.effects if e.damped_by}
        if self.condition:
            used |= names(self.condition)
        return used


@lru_cache(maxsize=1)
def _catalog() -> tuple[Event, ...]:
    text = (resources.files("model") / "data" / "events.toml").read_text(encoding="utf-8")
    events = [Event.model_validate(item) for item in tomllib.loads(text)["events"]]
    return tuple(sorted(events, key=_date))


def _date(event: Event) -> dt.date:
    """An event's date (follow-ups, which have none, sort last)."""
    return event.date or dt.date.max


def load_catalog() -> dict[str, Event]:
    """The historical catalog, ``{id: Event}`` in date order (read once, then cached)."""
    return {e.id: e for e in _catalog()}
