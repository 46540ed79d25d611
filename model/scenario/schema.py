"""The scenario schema: run settings, indices, hazards, the policy, catalog control.

A :class:`Scenario` is a frozen, validated value: everything a run needs,
after ``extends`` and the packaged defaults have been laid over each other
(:mod:`.loading`). Fields validate themselves (ranges, distributions,
durations, conditions); the checks across fields (known ids and indices,
dates inside the run, stable dynamics) are :mod:`.checks`'.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from typing import Annotated, Any, Literal

import numpy as np
import tomli_w
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, field_validator, model_validator

from ..catalog import SCOPES, Effect, Event, load_events
from ..conditions import parse_condition
from ..distributions import (
    Dist,
    Number,
    centre,
    check_positive_support,
    check_range,
    extremes,
    to_number,
    upper,
)
from ..errors import did_you_mean
from ..timeaxis import FIRST_DATE, LAST_DATE, check_duration, record_dates
from .cascade import Resolution, resolve_events
from .factors import Factor, factors
from .limits import (
    MAX_ADDED,
    MAX_HAZARDS,
    MAX_RATE,
    MAX_REPLICATES,
    MAX_SEED,
    MAX_SIGMA,
    MIN_HALF_LIFE,
)

__all__ = [
    "DRIVERS",
    "EventsControl",
    "Hazard",
    "IndexSpec",
    "PolicyRule",
    "PolicySpec",
    "RunSettings",
    "Scenario",
]

_STRICT = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
#: The exogenous drivers a scenario may set (``[drivers]``): their level after the last
#: observed year, USD per barrel of Brent and the US CPI (1982-84 = 100).
DRIVERS: tuple[str, ...] = ("oil_price", "price_index")


class RunSettings(BaseModel):
    """When to run, how often to record, how many replicates, which seed."""

    model_config = _STRICT
    start: dt.date = dt.date(2000, 1, 1)
    end: dt.date = dt.date(2035, 12, 31)
    record: Literal["monthly", "quarterly", "yearly"] = "monthly"
    replicates: int = Field(default=100, ge=1, le=MAX_REPLICATES)
    seed: int = Field(default=0, ge=0, le=MAX_SEED)
    noise: bool = True

    @field_validator("start", "end")
    @classmethod
    def _calendar(cls, v: dt.date) -> dt.date:
        if not FIRST_DATE <= v <= LAST_DATE:
            raise ValueError(
                f"must lie in the supported calendar {FIRST_DATE}..{LAST_DATE} (got {v})"
            )
        return v

    @model_validator(mode="after")
    def _order(self) -> RunSettings:
        if self.end <= self.start:
            raise ValueError(f"'end' ({self.end}) must be after 'start' ({self.start})")
        return self


class IndexSpec(BaseModel):
    """One cooperation index: its start, baseline, persistence and noise."""

    model_config = _STRICT
    description: str = ""
    initial: Number
    baseline: Number
    half_life: Number
    sigma: Number = 0.0
    crisis: float = Field(default=25.0, gt=0, lt=100)

    @model_validator(mode="after")
    def _ranges(self) -> IndexSpec:
        check_range(self.initial, "initial", 0, 100)
        check_range(self.half_life, "half_life", 0, None)
        for key in ("half_life", "sigma"):
            value = getattr(self, key)
            if isinstance(value, Dist):
                check_positive_support(value, key)
        if isinstance(self.sigma, float) and self.sigma < 0:
            raise ValueError(f"'sigma' must be >= 0 (got {self.sigma})")
        shortest = extremes(self.half_life)[0]
        if shortest < MIN_HALF_LIFE:
            drawn = " can draw" if isinstance(self.half_life, Dist) else ""
            raise ValueError(
                f"'half_life' must be at least one day ({MIN_HALF_LIFE:.5f} years): the engine's "
                f"clock counts days (got {shortest:.3g}{drawn and ', which it' + drawn})"
            )
        if (widest := extremes(self.sigma)[1]) > MAX_SIGMA:
            raise ValueError(
                f"'sigma' must be at most {MAX_SIGMA:g}: more only pins the index at 0 or 100, and "
                "far more overflows "
                f"(got {widest:.4g}{', its largest draw' if isinstance(self.sigma, Dist) else ''})"
            )
        return self


class Hazard(BaseModel):
    """A stochastic incident: a Poisson process whose rate depends on an index.

    rate(y) = rate * exp(-elasticity * (y - reference)), y the level of
    ``indicator``: with a positive elasticity an incident is likelier when the
    index is low.
    """

    model_config = _STRICT
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9-]*$")
    title: str
    rate: Number
    indicator: str | None = None
    reference: float = Field(default=50.0, ge=0, le=100)
    elasticity: float = 0.0
    start: dt.date | None = None
    end: dt.date | None = None
    effects: tuple[Effect, ...] = Field(min_length=1)
    category: str = "incident"
    note: str = ""

    @model_validator(mode="after")
    def _rate(self) -> Hazard:
        rate = centre(self.rate)
        if rate < 0:
            raise ValueError(f"'rate' must be >= 0 (got {rate})")
        if isinstance(self.rate, Dist):
            check_positive_support(self.rate, "rate")
        if self.start is not None and self.end is not None and self.end <= self.start:
            raise ValueError(f"'end' ({self.end}) must be after 'start' ({self.start})")
        if self.elasticity != 0 and self.indicator is None:
            raise ValueError("an 'elasticity' needs the 'indicator' it depends on")
        reach = abs(self.elasticity) * max(self.reference, 100.0 - self.reference)
        if reach > np.log(1e4):
            raise ValueError(
                f"'elasticity' {self.elasticity} makes the rate vary more than 10,000-fold "
                "over the "
                "scale: keep |elasticity| x max(reference, 100 - reference) below 9.2"
            )
        for effect in self.effects:
            if effect.duration is not None and effect.shift is None:
                raise ValueError("'duration' applies only to a 'shift'")
        self._check_max_rate()
        return self

    def _check_max_rate(self) -> None:
        """The rate where incidents are likeliest (the top of a distribution's range, or its
        99.9% quantile) is at most :data:`~.limits.MAX_RATE` a year."""
        level = 0.0 if self.elasticity > 0 else 100.0
        factor = float(np.exp(-self.elasticity * (level - self.reference)))
        top = upper(self.rate)
        if top * factor > MAX_RATE:
            where = f" at {self.indicator} = {level:g}" if self.elasticity else ""
            raise ValueError(
                f"'rate' must stay at most {MAX_RATE:g} a year (one a day on average){where} "
                f"(got {top * factor:.4g}"
                + (f": {top:.4g} x {factor:.4g} from 'elasticity')" if self.elasticity else ")")
            )


class PolicyRule(BaseModel):
    """One rule of a user-written policy: take ``action`` where ``when`` holds."""

    model_config = _STRICT
    when: str
    action: str

    @field_validator("when")
    @classmethod
    def _when(cls, v: str) -> str:
        parse_condition(v)
        return v


class PolicySpec(BaseModel):
    """Which strategy Türkiye follows from ``start``, how often it reviews, its settings."""

    model_config = _STRICT
    name: str = "passive"
    start: dt.date = dt.date(2026, 1, 1)
    every: str = "3m"
    reactions: bool = False
    params: dict[str, Number] = {}
    rules: tuple[PolicyRule, ...] = ()

    @field_validator("every")
    @classmethod
    def _every(cls, v: str) -> str:
        return check_duration(v, "'every'")


def _to_scale(value: Any) -> Any:
    """A table without ``dist`` is a factor per index; anything else is a :data:`Number`."""
    if not isinstance(value, dict) or "dist" in value:
        return to_number(value)
    out = {}
    for name, factor in value.items():
        factor = to_number(factor)
        if isinstance(factor, bool) or not isinstance(factor, int | float | Dist):
            # a ValueError, which pydantic reports with the field (a TypeError it does not)
            problem = f"{name}: expected a number or a distribution (got {factor!r})"
            raise ValueError(problem)  # noqa: TRY004
        out[name] = factor
    return out


#: An event's scale: one factor for all its effects, or a table of factors by index.
EventScale = Annotated[float | Dist | dict[str, Number], BeforeValidator(_to_scale)]


class EventsControl(BaseModel):
    """Which catalog events to keep, re-time or scale, and which to add.

    ``scopes`` chooses which scopes of the packaged events the timeline draws
    from: the brief's catalog (``"brief"``, the default), the context events
    (``"context"``, ``model/data/context_events.toml``), or both.
    ``dropped`` records what the drops take with them (``{id: reason}``): it is
    written into ``scenario.resolved.toml`` for the reader, and a file read
    back must match what the scenario resolves to (it changes nothing).
    """

    model_config = _STRICT
    scopes: tuple[str, ...] = ("brief",)
    drop: tuple[str, ...] = ()
    only: tuple[str, ...] | None = None
    keep: tuple[str, ...] = ()
    move: dict[str, dt.date] = {}
    scale: dict[str, EventScale] = {}
    add: tuple[Event, ...] = Field(default=(), max_length=MAX_ADDED)
    dropped: dict[str, str] = {}

    @field_validator("scopes")
    @classmethod
    def _scopes(cls, v: tuple[str, ...]) -> tuple[str, ...]:
        if not v:
            raise ValueError(f"must name at least one scope of {', '.join(map(repr, SCOPES))}")
        for scope in v:
            if scope not in SCOPES:
                raise ValueError(
                    f"unknown scope {scope!r}{did_you_mean(scope, SCOPES, cutoff=0.5)}; "
                    f"scopes: {', '.join(map(repr, SCOPES))}"
                )
        if twice := sorted({s for s in v if v.count(s) > 1}):
            raise ValueError(f"lists {twice[0]!r} more than once")
        return v


class Scenario(BaseModel):
    """A fully resolved, validated scenario (after ``extends`` and defaults)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=100)
    description: str = ""
    extends: str | None = None
    run: RunSettings = RunSettings()
    events: EventsControl = EventsControl()
    indices: dict[str, IndexSpec]
    spillover: dict[str, dict[str, Number]] = {}
    damping: Number = 0.6
    hazards: tuple[Hazard, ...] = Field(default=(), max_length=MAX_HAZARDS)
    policy: PolicySpec = PolicySpec()
    drivers: dict[str, Number] = {}

    @field_validator("damping")
    @classmethod
    def _damping(cls, v: Number) -> Number:
        x = centre(v)
        if not 0.0 <= x <= 1.0:
            raise ValueError(f"'damping' must be between 0 and 1 (got {x})")
        return v

    @field_validator("drivers")
    @classmethod
    def _drivers(cls, v: dict[str, Number]) -> dict[str, Number]:
        for name, value in v.items():
            if name not in DRIVERS:
                raise ValueError(
                    f"unknown driver {name!r}{did_you_mean(name, DRIVERS)}; "
                    f"drivers: {', '.join(DRIVERS)}"
                )
            if isinstance(value, Dist):
                check_positive_support(value, f"drivers.{name}")
            elif value <= 0:
                raise ValueError(f"'drivers.{name}' must be > 0 (got {value})")
        return v

    @field_validator("indices")
    @classmethod
    def _names(cls, v: dict[str, IndexSpec]) -> dict[str, IndexSpec]:
        for name in v:
            if not name.isidentifier():
                raise ValueError(f"index name {name!r} must be a simple identifier")
        return v

    @property
    def indicators(self) -> tuple[str, ...]:
        return tuple(self.indices)

    def to_dict(self) -> dict[str, Any]:
        """Plain data (JSON/TOML-ready), omitting unset optional values.

        ``extends`` is left out: the resolved scenario is complete on its own,
        so it can be loaded back from an output folder. So is
        ``events.dropped``, which only records what the drops imply, and
        ``events.keep`` and ``events.scopes`` when they are the defaults.
        """
        data = self.model_dump(mode="json", exclude={"extends": True, "events": {"dropped"}})
        if not self.events.keep:
            data["events"].pop("keep", None)
        if self.events.scopes == ("brief",):  # the default: so scenarios hash as before
            data["events"].pop("scopes", None)
        if not self.drivers:
            data.pop("drivers", None)
        return _drop_none(data)

    def to_toml(self) -> str:
        """The resolved scenario as TOML, with ``events.dropped``: what went with each drop."""
        data = self.to_dict()
        if dropped := self.resolution().dropped():
            data.setdefault("events", {})["dropped"] = dropped
        return tomli_w.dumps(data)

    def digest(self) -> str:
        """SHA-256 of the resolved scenario's canonical JSON."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def record_dates(self) -> list[dt.date]:
        """Record dates of the run: its start, then the first day of each period."""
        return record_dates(self.run.start, self.run.end, self.run.record)

    def catalog(self) -> dict[str, Event]:
        """The packaged events of the scopes this scenario selects (``events.scopes``),
        ``{id: Event}`` in date order, before ``drop``, ``only`` and ``move``."""
        return load_events(self.events.scopes)

    def timeline(self) -> list[Event]:
        """The events of this run: catalog (kept, moved) plus added, in date order.

        What ``only`` and ``drop`` remove takes with it every event that
        requires it (:mod:`.cascade`), unless ``keep`` names it. Scaling is left
        to the engine (a scale may be uncertain). Follow-ups (events with
        ``after``) come last.
        """
        return list(self.resolution().events)

    def factors(self) -> list[Factor]:
        """The causal clusters of the timeline, and each other event alone (:mod:`.factors`)."""
        return factors(self.timeline())

    def resolution(self) -> Resolution:
        """The timeline and every event removed from it, with the reason (:mod:`.cascade`)."""
        ev = self.events
        return resolve_events(
            tuple(self.catalog().values()), ev.add, ev.drop, ev.only, ev.keep, ev.move
        )


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
