"""Scenario files: the schema, loading with ``extends``, merging and validation.

A scenario is a TOML file (see ``docs/SCENARIOS.md``). Loading reads the file
and its ``extends`` chain, merges each child over its parent (tables by key,
``events.add`` and ``hazards`` by ``id``), lays the result over the packaged
defaults (``model/data/defaults.toml``) and validates it into a frozen
:class:`Scenario`. Every problem becomes a :class:`ScenarioError` naming the
file that holds the bad value, the field and what is wrong.
"""

from __future__ import annotations

import copy
import datetime as dt
import hashlib
import json
import os
import tomllib
from importlib import resources
from pathlib import Path
from typing import Any, Literal

import numpy as np
import tomli_w
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from .catalog import Effect, Event, load_catalog
from .conditions import names as condition_names
from .conditions import parse_condition
from .distributions import Dist, Number, centre, check_positive_support, check_range
from .dynamics import check_stable, drift_matrix
from .errors import ScenarioError, SimulationError, did_you_mean
from .timeaxis import check_duration, record_dates

__all__ = [
    "SHIPPED",
    "Hazard",
    "IndexSpec",
    "PolicyRule",
    "PolicySpec",
    "RunSettings",
    "Scenario",
    "find_scenario",
    "load_scenario",
    "read_shipped",
    "scenario_from_dict",
    "shipped_scenarios",
]

_STRICT = ConfigDict(extra="forbid", frozen=True)
_MERGE_BY_ID = {("events", "add"), ("hazards",)}


class RunSettings(BaseModel):
    """When to run, how often to record, how many replicates, which seed."""

    model_config = _STRICT
    start: dt.date = dt.date(2000, 1, 1)
    end: dt.date = dt.date(2035, 12, 31)
    record: Literal["monthly", "quarterly", "yearly"] = "monthly"
    replicates: int = Field(default=100, ge=1, le=100_000_000)
    seed: int = Field(default=0, ge=0)
    noise: bool = True

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
        return self


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


class EventsControl(BaseModel):
    """Which catalog events to keep, re-time or scale, and which to add."""

    model_config = _STRICT
    drop: tuple[str, ...] = ()
    only: tuple[str, ...] | None = None
    move: dict[str, dt.date] = {}
    scale: dict[str, Number] = {}
    add: tuple[Event, ...] = ()


class Scenario(BaseModel):
    """A fully resolved, validated scenario (after ``extends`` and defaults)."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    description: str = ""
    extends: str | None = None
    run: RunSettings = RunSettings()
    events: EventsControl = EventsControl()
    indices: dict[str, IndexSpec]
    spillover: dict[str, dict[str, Number]] = {}
    damping: Number = 0.6
    hazards: tuple[Hazard, ...] = ()
    policy: PolicySpec = PolicySpec()

    @field_validator("damping")
    @classmethod
    def _damping(cls, v: Number) -> Number:
        x = centre(v)
        if not 0.0 <= x <= 1.0:
            raise ValueError(f"'damping' must be between 0 and 1 (got {x})")
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
        so it can be loaded back from an output folder.
        """
        return _drop_none(self.model_dump(mode="json", exclude={"extends"}))

    def to_toml(self) -> str:
        return tomli_w.dumps(self.to_dict())

    def digest(self) -> str:
        """SHA-256 of the resolved scenario's canonical JSON."""
        text = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(text.encode()).hexdigest()

    def record_dates(self) -> list[dt.date]:
        """Record dates of the run: its start, then the first day of each period."""
        return record_dates(self.run.start, self.run.end, self.run.record)

    def timeline(self) -> list[Event]:
        """The events of this run: catalog (kept, moved) plus added, in date order.

        Scaling is left to the engine (a scale may be uncertain). Follow-ups
        (events with ``after``) come last.
        """
        catalog = load_catalog()
        keep = list(catalog.values())
        if self.events.only is not None:
            wanted = set(self.events.only)
            keep = [
                e for e in keep if e.id in wanted or wanted & set(e.tags) or e.category in wanted
            ]
        events = [e for e in keep + list(self.events.add) if e.id not in set(self.events.drop)]
        events = [
            e.model_copy(update={"date": self.events.move[e.id], "after": None})
            if e.id in self.events.move
            else e
            for e in events
        ]
        dated = sorted(
            (e for e in events if e.date is not None), key=lambda e: e.date or dt.date.max
        )
        return dated + [e for e in events if e.date is None]


# --------------------------------------------------------------------------- loading

#: The folder of the scenarios shipped with the package.
SHIPPED = resources.files("model") / "scenarios"


def shipped_scenarios() -> dict[str, Path]:
    """The shipped scenarios by name (the file's stem), in name order."""
    return {
        Path(f.name).stem: Path(str(f))
        for f in sorted(SHIPPED.iterdir(), key=lambda f: f.name)
        if f.name.endswith(".toml")
    }


def find_scenario(name_or_path: str | Path) -> Path:
    """A scenario file: the path if it exists, else the shipped scenario of that name."""
    path = Path(name_or_path)
    if path.exists() or path.suffix == ".toml" or len(path.parts) > 1:
        return path
    shipped = shipped_scenarios()
    if str(name_or_path) in shipped:
        return shipped[str(name_or_path)]
    raise ScenarioError(
        path,
        "(file)",
        "no such file, and no shipped scenario of that name"
        f"{did_you_mean(path.name, shipped)}; shipped: {', '.join(shipped)}",
    )


def read_shipped(name: str) -> dict[str, Any]:
    """The plain data of a shipped scenario file (not resolved)."""
    return _read_toml(shipped_scenarios()[name])


def load_scenario(path: str | Path) -> Scenario:
    """Read, resolve and validate a scenario file (a path, or the name of a shipped scenario)."""
    path = find_scenario(path)
    merged, origins = _resolve(path, ())
    return scenario_from_dict(merged, origins, str(path))


def scenario_from_dict(
    data: dict[str, Any], origins: dict[tuple, str] | None = None, file: str = "<scenario>"
) -> Scenario:
    """Validate a scenario given as plain data (laid over the package defaults)."""
    origins = dict(origins or {})
    merged = _merge(_defaults(), data, None, file)
    try:
        scenario = Scenario.model_validate(merged)
    except ValidationError as exc:
        raise _as_scenario_error(exc, merged, origins, file) from None
    _check_semantics(scenario, merged, origins, file)
    return scenario


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ScenarioError(path, "(file)", "no such file") from None
    except (IsADirectoryError, PermissionError, UnicodeDecodeError) as exc:
        raise ScenarioError(path, "(file)", f"cannot read: {exc}") from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ScenarioError(path, "(syntax)", f"not valid TOML: {exc}") from None


def _resolve(path: Path, chain: tuple[Path, ...]) -> tuple[dict[str, Any], dict[tuple, str]]:
    """Load ``path`` and its ``extends`` chain into one dict plus leaf origins."""
    here = path.resolve()
    if here in chain:
        loop = " -> ".join(p.name for p in chain + (here,))
        raise ScenarioError(os.path.relpath(chain[-1]), "extends", f"cycle in 'extends': {loop}")
    data = _read_toml(path)
    parent = data.get("extends")
    if parent is None:
        origins: dict[tuple, str] = {}
        return _merge({}, data, origins, str(path)), origins
    if not isinstance(parent, str):
        raise ScenarioError(path, "extends", f"must be a file name (got {parent!r})")
    parent_path = path.parent / parent
    if not parent_path.exists():
        raise ScenarioError(
            path, "extends", f"parent scenario {parent!r} not found next to the file"
        )
    merged, origins = _resolve(parent_path, chain + (here,))
    merged.pop("description", None)
    return _merge(merged, data, origins, str(path)), origins


def _merge(base: Any, over: Any, origins: dict | None, file: str, path: tuple = ()) -> Any:
    """Deep-merge ``over`` onto ``base``; record in ``origins`` which file set each leaf."""
    if isinstance(base, dict) and isinstance(over, dict):
        out = dict(base)
        for key, value in over.items():
            sub = path + (key,)
            if key in out:
                out[key] = _merge(out[key], value, origins, file, sub)
            else:
                out[key] = copy.deepcopy(value)
                _mark(origins, sub, value, file)
        return out
    if path in _MERGE_BY_ID and isinstance(base, list) and isinstance(over, list):
        return _merge_by_id(base, over, origins, file, path)
    _mark(origins, path, over, file)
    return copy.deepcopy(over)


def _merge_by_id(base: list, over: list, origins: dict | None, file: str, path: tuple) -> list:
    out = list(base)
    where = {item.get("id"): i for i, item in enumerate(out) if isinstance(item, dict)}
    for item in over:
        key = item.get("id") if isinstance(item, dict) else None
        if key is not None and key in where:
            i = where[key]
            out[i] = _merge(out[i], item, origins, file, path + (i,))
        else:
            out.append(copy.deepcopy(item))
            _mark(origins, path + (len(out) - 1,), item, file)
    return out


def _mark(origins: dict | None, path: tuple, value: Any, file: str) -> None:
    if origins is None:
        return
    origins[path] = file
    if isinstance(value, dict):
        for key, sub in value.items():
            _mark(origins, path + (key,), sub, file)
    elif isinstance(value, list):
        for i, sub in enumerate(value):
            _mark(origins, path + (i,), sub, file)


def _defaults() -> dict[str, Any]:
    text = (resources.files("model") / "data" / "defaults.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


# --------------------------------------------------------------------------- errors


def _origin(origins: dict, loc: tuple, file: str) -> str:
    for n in range(len(loc), 0, -1):
        found = origins.get(tuple(loc[:n]))
        if found:
            return found
    return file


def _field_name(loc: tuple, data: dict) -> str:
    """``('events', 'add', 1, 'date')`` -> ``events.add[grain-2027].date``."""
    parts: list[str] = []
    node: Any = data
    for key in loc:
        if isinstance(key, int):
            ident = (
                node[key].get("id")
                if isinstance(node, list) and key < len(node) and isinstance(node[key], dict)
                else None
            )
            parts[-1] += f"[{ident or key}]"
        else:
            parts.append(str(key))
        try:
            node = node[key]
        except (KeyError, IndexError, TypeError):
            node = None
    return ".".join(parts)


def _known_fields() -> set[str]:
    names: set[str] = set()
    for model in (Scenario, RunSettings, IndexSpec, Hazard, EventsControl, Event, Effect, Dist):
        names |= set(model.model_fields)
    return names


_PYDANTIC_NOISE = ("Value error, ", "Assertion failed, ")


def _as_scenario_error(exc: ValidationError, data: dict, origins: dict, file: str) -> ScenarioError:
    err = exc.errors()[0]
    loc = tuple(
        p for p in err["loc"] if p not in ("float", "Dist", "function-after[_check(), Dist]")
    )
    loc = tuple(
        p for p in loc if not (isinstance(p, str) and p.startswith(("function-", "union[")))
    )
    msg = err["msg"]
    for noise in _PYDANTIC_NOISE:
        msg = msg.replace(noise, "")
    if err["type"] == "extra_forbidden":
        msg = f"unknown key {loc[-1]!r}{did_you_mean(loc[-1], _known_fields())}"
    elif err["type"] == "missing":
        msg = f"required key {loc[-1]!r} is missing"
    elif "input" in err and not isinstance(err["input"], (dict, list)) and "(got" not in msg:
        msg = f"{msg} (got {err['input']!r})"
    return ScenarioError(_origin(origins, loc, file), _field_name(loc, data), msg)


# --------------------------------------------------------------------------- semantics


def _check_semantics(sc: Scenario, data: dict, origins: dict, file: str) -> None:
    """Cross-field checks: ids, indicators, dates inside the run."""

    def fail(loc: tuple, problem: str) -> None:
        raise ScenarioError(_origin(origins, loc, file), _field_name(loc, data), problem)

    catalog = load_catalog()
    known_ids = set(catalog) | {e.id for e in sc.events.add}
    tags = {t for e in catalog.values() for t in e.tags} | {e.category for e in catalog.values()}
    names = set(sc.indicators)
    for key in ("drop", "move", "scale"):
        for ident in getattr(sc.events, key):
            if ident not in known_ids:
                fail(("events", key), f"unknown event id {ident!r}{did_you_mean(ident, known_ids)}")
    for ident in sc.events.only or ():
        if ident not in known_ids and ident not in tags:
            fail(
                ("events", "only"),
                f"{ident!r} is neither an event id, a tag nor a category"
                f"{did_you_mean(ident, known_ids | tags)}",
            )
    for ident, when in sc.events.move.items():
        if not sc.run.start <= when <= sc.run.end:
            fail(
                ("events", "move", ident),
                f"new date {when} is outside the run {sc.run.start}..{sc.run.end}",
            )
    catalog_ids = set(catalog)
    seen: set[str] = set()
    for i, ev in enumerate(sc.events.add):
        loc: tuple = ("events", "add", i)
        if ev.id in seen:
            fail(loc + ("id",), f"{ev.id!r} is added twice")
        seen.add(ev.id)
        if ev.id in catalog_ids:
            fail(
                loc + ("id",),
                f"{ev.id!r} is already a catalog event: pick a new id, or use events.move/scale",
            )
        if ev.date is not None and not sc.run.start <= ev.date <= sc.run.end:
            fail(loc + ("date",), f"{ev.date} is outside the run {sc.run.start}..{sc.run.end}")
        if ev.after is not None and ev.after.event not in known_ids:
            fail(
                loc + ("after", "event"),
                f"unknown event id {ev.after.event!r}{did_you_mean(ev.after.event, known_ids)}",
            )
        _check_indicators(ev.indicators(), names, lambda p, loc=loc: fail(loc, p))
    for i, hz in enumerate(sc.hazards):
        loc = ("hazards", i)
        used = {e.indicator for e in hz.effects} | {e.damped_by for e in hz.effects if e.damped_by}
        used |= {hz.indicator} if hz.indicator else set()
        _check_indicators(used, names, lambda p, loc=loc: fail(loc, p))
        for key in ("start", "end"):
            when = getattr(hz, key)
            if when is not None and not sc.run.start <= when <= sc.run.end:
                fail(loc + (key,), f"{when} is outside the run {sc.run.start}..{sc.run.end}")
    for target, row in sc.spillover.items():
        if target not in names:
            fail(("spillover", target), f"unknown index {target!r}{did_you_mean(target, names)}")
        for source, value in row.items():
            if source not in names:
                fail(
                    ("spillover", target, source),
                    f"unknown index {source!r}{did_you_mean(source, names)}",
                )
            if source == target:
                fail(
                    ("spillover", target, source),
                    "an index cannot spill over onto itself (use half_life)",
                )
            if centre(value) < 0:
                fail(
                    ("spillover", target, source),
                    f"spill-over rates must be >= 0 (got {value}): a negative one would let a "
                    "crisis lift another index",
                )
    used_by_catalog = set().union(*(e.indicators() for e in sc.timeline()))
    _check_indicators(
        used_by_catalog, names, lambda p: fail(("indices",), p + " (used by a catalog event)")
    )
    _check_policy(sc, names, fail)
    _check_stability(sc, fail)
    for name, spec in sc.indices.items():
        for key in ("initial", "baseline"):
            value = getattr(spec, key)
            if isinstance(value, float) and not 0 < value < 100:
                fail(("indices", name, key), f"must be between 0 and 100 (got {value})")


def _check_policy(sc: Scenario, names: set[str], fail) -> None:
    from .policies import DEFAULT_PARAMS, actions, policy_names

    pol = sc.policy
    known = policy_names()
    if pol.name not in known:
        fail(
            ("policy", "name"),
            f"unknown policy {pol.name!r}{did_you_mean(pol.name, known)}; "
            f"known: {', '.join(known)}",
        )
    allowed = DEFAULT_PARAMS.get(pol.name)
    for key in pol.params:
        if allowed is not None and key not in allowed:
            fail(
                ("policy", "params", key),
                f"policy {pol.name!r} has no setting {key!r}{did_you_mean(key, allowed)}"
                + (f"; its settings: {', '.join(allowed)}" if allowed else ""),
            )
    menu = actions()
    for i, rule in enumerate(pol.rules):
        if rule.action not in menu:
            fail(
                ("policy", "rules", i, "action"),
                f"unknown action {rule.action!r}{did_you_mean(rule.action, menu)}; "
                f"actions: {', '.join(menu)}",
            )
        _check_indicators(
            condition_names(rule.when),
            names,
            lambda p, i=i: fail(("policy", "rules", i, "when"), p),
        )
    if pol.rules and pol.name != "rules":
        fail(("policy", "rules"), 'rules apply only with name = "rules"')
    if (pol.name != "passive" or pol.reactions) and not sc.run.start <= pol.start <= sc.run.end:
        fail(("policy", "start"), f"{pol.start} is outside the run {sc.run.start}..{sc.run.end}")
    if pol.name != "passive" or pol.reactions:
        missing = {"trade", "energy", "security", "west"} - names
        if missing:
            fail(("policy",), f"policies need the indices {', '.join(sorted(missing))}")


def _check_stability(sc: Scenario, fail) -> None:
    """The drift matrix at the parameters' central values must be stable."""
    names = list(sc.indicators)

    spill = np.zeros((len(names), len(names)))
    for target, row in sc.spillover.items():
        for source, value in row.items():
            spill[names.index(target), names.index(source)] = centre(value)
    half = np.array([centre(sc.indices[k].half_life) for k in names])
    try:
        check_stable(drift_matrix(half, spill))
    except SimulationError as exc:
        fail(("spillover",), str(exc))


def _check_indicators(used: set[str], names: set[str], fail) -> None:
    for name in sorted(used - names):
        fail(
            f"unknown index {name!r}{did_you_mean(name, names)}; known: {', '.join(sorted(names))}"
        )


def _drop_none(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _drop_none(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_drop_none(v) for v in value]
    return value
