"""Parameters: one dotted-path language to name, read, bound, range and set them.

A parameter is a path into a scenario's plain data (:meth:`Scenario.to_dict`):
table keys by name, list items (``hazards``, ``events.add``, ``effects``) by
``id`` or position; a path into a distribution names one of its numbers
(``indices.trade.half_life.median``). Short forms are accepted:
``trade.half_life`` for ``indices.trade.half_life`` and ``scale.<id>`` for
``events.scale.<id>``. ``events.scale.<id>.<index>`` scales one index's
effects of an event. ``clusters.<id>`` (or ``cluster.<id>``) names a causal
cluster of the scenario (:meth:`Scenario.factors`) as one factor: it
multiplies the scale of every event of the cluster, so its value is 1 unless
set. ``dummy`` (and ``dummy.<anything>``) names nothing: a control for
sensitivity analyses.

Calibration, sensitivity analysis, sweeps and the EMA Workbench adapter all
use it: :func:`resolve` names a parameter (with search bounds where the
calibration knows them), :func:`value` reads it (a distribution gives its
centre, an unset event scale is 1, an unset spill-over 0), :func:`apply` sets
values and validates the scenario again, :func:`parse_range` and
:func:`parse_grid` read the ranges and grids written on a command line.
"""

from __future__ import annotations

import copy
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from .distributions import Dist
from .errors import ArgumentError, did_you_mean
from .scenario import Scenario, scenario_from_dict
from .scenario.limits import MAX_GRID_STEPS

__all__ = [
    "DUMMY",
    "Param",
    "apply",
    "is_dummy",
    "known_names",
    "parse_grid",
    "parse_range",
    "resolve",
    "resolve_all",
    "value",
]

#: The reserved parameter that enters nothing (a control for sensitivity analyses).
DUMMY = "dummy"
#: Search bounds of the calibrated kinds of parameter.
INDEX_BOUNDS = {"half_life": (0.1, 30.0), "baseline": (1.0, 99.0), "initial": (1.0, 99.0)}
OTHER_BOUNDS = {"spillover": (0.0, 1.0), "scale": (0.0, 5.0), "damping": (0.0, 1.0)}


@dataclass(frozen=True)
class Param:
    """A parameter: its dotted name, its path in the scenario, and its search bounds."""

    name: str
    path: tuple[str, ...]
    lower: float = -math.inf
    upper: float = math.inf
    log: bool = False  # searched on the log scale (half-lives)

    def internal(self, x: float) -> float:
        return math.log(x) if self.log else float(x)

    def natural(self, x: float) -> float:
        return math.exp(x) if self.log else float(x)

    @property
    def bounds(self) -> tuple[float, float]:
        return self.internal(self.lower), self.internal(self.upper)

    @property
    def bounded(self) -> bool:
        return math.isfinite(self.lower) and math.isfinite(self.upper)

    def value(self, scenario: Scenario) -> float:
        """The parameter's value in ``scenario`` (0 where nothing is set)."""
        found = value(scenario, self.name)
        return 0.0 if found is None else found


def is_dummy(name: str) -> bool:
    return name == DUMMY or name.startswith(DUMMY + ".")


def _normal_form(name: str, scenario: Scenario) -> list[str]:
    parts = name.strip().split(".")
    if parts[0] in scenario.indices and len(parts) == 2:
        parts = ["indices", *parts]
    if parts[0] == "scale" and len(parts) >= 2:
        parts = ["events", *parts]
    if parts[0] == "cluster":
        parts = ["clusters", *parts[1:]]
    return parts


def resolve(
    name: str, scenario: Scenario, argument: str = "params", calibrated: bool = False
) -> Param:
    """The parameter ``name`` names in ``scenario``.

    With ``calibrated``, only the kinds the calibration can fit are accepted
    (``indices.<index>.half_life|baseline|initial``, ``spillover.<i>.<j>``,
    ``events.scale.<id>``, ``damping``), each with its search bounds;
    otherwise any path whose index or event exists. ``argument`` names the
    caller's argument in errors.
    """
    parts = _normal_form(name, scenario)
    indices, events = set(scenario.indicators), {e.id for e in scenario.timeline()}
    key = ".".join(parts)
    if (
        len(parts) == 3
        and parts[0] == "indices"
        and parts[1] in indices
        and parts[2] in INDEX_BOUNDS
    ):
        return Param(key, tuple(parts), *INDEX_BOUNDS[parts[2]], log=parts[2] == "half_life")
    if (
        len(parts) == 3
        and parts[0] == "spillover"
        and parts[1] in indices
        and parts[2] in indices
        and parts[1] != parts[2]
    ):
        return Param(key, tuple(parts), *OTHER_BOUNDS["spillover"])
    if len(parts) in (3, 4) and parts[:2] == ["events", "scale"] and parts[2] in events:
        if len(parts) == 4:
            _check_moved(parts[2], parts[3], scenario, name, argument)
        return Param(key, tuple(parts), *OTHER_BOUNDS["scale"])
    if parts[0] == "clusters" and not calibrated:
        return Param(key, ("clusters", _cluster(parts, scenario, name, argument)[0]))
    if parts == ["damping"]:
        return Param(key, ("damping",), *OTHER_BOUNDS["damping"])
    if calibrated:
        raise ArgumentError(
            argument,
            f"unknown parameter {name!r}"
            f"{did_you_mean(name, known_names(scenario))}; use "
            "indices.<index>.half_life|baseline|initial, spillover.<index>.<index>, "
            "events.scale.<event id>[.<index>] or damping",
        )
    if parts[0] in ("indices", "spillover") and len(parts) > 1 and parts[1] not in indices:
        raise ArgumentError(
            argument,
            f"{name}: unknown index {parts[1]!r}{did_you_mean(parts[1], indices, cutoff=0.5)}",
        )
    return Param(key, tuple(parts))


def resolve_all(
    names: str | Iterable[str],
    scenario: Scenario,
    argument: str = "params",
    calibrated: bool = False,
) -> list[Param]:
    """Several parameters (comma-separated text or names), each once."""
    items = (
        [s.strip() for s in names.split(",")]
        if isinstance(names, str)
        else [str(s).strip() for s in names]
    )
    out: list[Param] = []
    for item in (i for i in items if i):
        param = resolve(item, scenario, argument, calibrated)
        if param.name in {p.name for p in out}:
            raise ArgumentError(argument, f"parameter {param.name!r} given twice")
        out.append(param)
    return out


def _check_moved(event: str, index: str, scenario: Scenario, name: str, argument: str) -> None:
    """``index`` is an index the effects of ``event`` move."""
    moved = sorted({e.indicator for e in _event(scenario, event).effects})
    if index not in moved:
        raise ArgumentError(
            argument,
            f"{name}: event {event!r} has no effect on {index!r}"
            f"{did_you_mean(index, moved)}; its effects move {', '.join(moved)}",
        )


def _event(scenario: Scenario, ident: str) -> Any:
    return next(e for e in scenario.timeline() if e.id == ident)


def _cluster(parts: list[str], scenario: Scenario, name: str, argument: str) -> tuple[str, ...]:
    """``[clusters, id]`` -> the id and the members of that causal cluster of ``scenario``."""
    found = {f.id: f.members for f in scenario.factors() if f.is_cluster}
    if len(parts) != 2 or parts[1] not in found:
        ident = parts[1] if len(parts) > 1 else ""
        raise ArgumentError(
            argument,
            f"{name}: unknown cluster {ident!r}{did_you_mean(ident, found)}; "
            f"the clusters of {scenario.name}: {', '.join(found)}",
        )
    return (parts[1], *found[parts[1]])


def known_names(scenario: Scenario) -> list[str]:
    """Every parameter the calibration can fit in ``scenario``."""
    names = [f"indices.{k}.{a}" for k in scenario.indicators for a in INDEX_BOUNDS]
    names += [
        f"spillover.{i}.{j}" for i in scenario.indicators for j in scenario.indicators if i != j
    ]
    names += [f"events.scale.{e.id}" for e in scenario.timeline()]
    return names + ["damping"]


def value(scenario: Scenario, name: str) -> float | None:
    """The value at a dotted path: a distribution's centre, 1 for an unset event scale, 0 for an
    unset spill-over, ``None`` for anything else unset (and for ``dummy``)."""
    if is_dummy(name):
        return None
    parts = _normal_form(name, scenario)
    if parts[0] == "clusters":
        return 1.0  # a multiplier of its events' own scales
    node: Any = scenario.to_dict()
    for i, key in enumerate(parts):
        parent, node = node, _child(node, key)
        if node is None:
            if parts[:2] == ["events", "scale"] and i == 3 and not _by_index(parent):
                return _centre(parent)  # one factor for the whole event: this index's too
            if parts[:2] == ["events", "scale"] and i in (2, 3):
                return 1.0
            return 0.0 if parts[0] == "spillover" and len(parts) == 3 else None
    return _centre(node)


def _by_index(scale: Any) -> bool:
    """Whether an event's scale (plain data) is a table of factors by index."""
    return isinstance(scale, dict) and "dist" not in scale


def _centre(node: Any) -> float | None:
    """A number, or a distribution's centre (plain data)."""
    if isinstance(node, dict) and "dist" in node:
        return Dist.model_validate(node).center()
    return float(node) if isinstance(node, int | float) and not isinstance(node, bool) else None


def _child(node: Any, key: str) -> Any:
    if isinstance(node, list):
        ids = [item.get("id") for item in node if isinstance(item, dict)]
        if key in ids:
            return node[ids.index(key)]
        return node[int(key)] if key.isdigit() and int(key) < len(node) else None
    return node.get(key) if isinstance(node, dict) else None


def apply(
    scenario: Scenario, params: Mapping[str, Any], argument: str = "params", **run: Any
) -> Scenario:
    """``scenario`` with each parameter set to its value (and ``run`` settings changed), validated.

    A value replaces what is there, also a distribution; missing tables are
    created (``events.scale.<id>``); ``dummy`` parameters are ignored.
    """
    real = {k: v for k, v in params.items() if not is_dummy(k)}
    if not real and not run:
        return scenario
    data = scenario.to_dict()
    paths = {name: resolve(name, scenario, argument).path for name in real}
    # clusters last: they multiply the scales as the other parameters leave them
    for name in sorted(real, key=lambda n: paths[n][0] == "clusters"):
        v = real[name]
        v = v.item() if isinstance(v, np.generic) else v
        parts = list(paths[name])
        if parts[0] == "clusters":
            members = _cluster(parts, scenario, name, argument)[1:]
            scale = data.setdefault("events", {}).setdefault("scale", {})
            for ident in members:
                scale[ident] = _times(scale.get(ident, 1.0), v, name, argument)
        elif parts[:2] == ["events", "scale"] and len(parts) == 4:
            _set_index_scale(data, scenario, parts[2], parts[3], v)
        else:
            _set(data, parts, v, name, argument)
    for key, v in run.items():
        data.setdefault("run", {})[key] = copy.deepcopy(v)
    where = ", ".join(
        f"{k}={v:.6g}" if isinstance(v, (float, np.floating)) else f"{k}={v}"
        for k, v in real.items()
    )
    return scenario_from_dict(
        data, file=f"{scenario.name} with {where}" if where else scenario.name
    )


def _times(scale: Any, factor: Any, name: str, argument: str) -> Any:
    """An event's scale (a number or a table by index, as plain data) times ``factor``."""
    if isinstance(scale, dict) and "dist" in scale or isinstance(factor, dict):
        raise ArgumentError(
            argument,
            f"{name}: a cluster multiplies plain numbers; an event of it has an uncertain "
            "scale (set that event's scale instead)",
        )
    if isinstance(scale, dict):
        return {k: _times(x, factor, name, argument) for k, x in scale.items()}
    return float(scale) * float(factor)


def _set_index_scale(data: dict, scenario: Scenario, event: str, index: str, new: Any) -> None:
    """Set the factor on ``event``'s effects on ``index``; a whole-event factor becomes a table
    (the other indices keep it)."""
    scale = data.setdefault("events", {}).setdefault("scale", {})
    old = scale.get(event)
    if not isinstance(old, dict) or "dist" in old:
        moved = dict.fromkeys(e.indicator for e in _event(scenario, event).effects)
        old = {} if old is None else {k: copy.deepcopy(old) for k in moved}
    scale[event] = {**old, index: new}


def _set(node: Any, parts: list[str], new: Any, name: str, argument: str) -> None:
    """Set ``new`` at ``parts`` inside the nested dicts and lists of ``node``."""
    key, rest = parts[0], parts[1:]
    if isinstance(node, list):
        slot: Any = _list_slot(node, key, name, argument)
    elif isinstance(node, dict):
        slot = key
    else:
        raise ArgumentError(argument, f"{name}: cannot descend into {node!r} at '{key}'")
    if not rest:
        node[slot] = new
        return
    if isinstance(node, dict) and not isinstance(node.get(slot), (dict, list)):
        node[slot] = {}
    _set(node[slot], rest, new, name, argument)


def _list_slot(items: list, key: str, name: str, argument: str) -> int:
    ids = [item.get("id") for item in items if isinstance(item, dict)]
    if key in ids:
        return ids.index(key)
    if key.isdigit() and int(key) < len(items):
        return int(key)
    raise ArgumentError(
        argument, f"{name}: no item {key!r} in this list{did_you_mean(key, [i for i in ids if i])}"
    )


# --------------------------------------------------------------------------- ranges and grids


def parse_range(
    spec: str, scenario: Scenario | None = None, argument: str = "params"
) -> tuple[str, tuple[float, float]]:
    """``"name=low:high"`` -> ``(name, (low, high))``.

    ``"name*=low:high"`` ranges over multiples of the scenario's value
    (``"damping*=0.5:1.5"`` is 0.3 to 0.9 at a damping of 0.6). A bare
    ``name`` is ``name*=0.5:1.5`` (``dummy``: 0 to 1).
    """
    name, sep, text = spec.partition("=")
    name = name.strip()
    relative = name.endswith("*")
    name = name.rstrip("*").strip()
    if not name:
        raise ArgumentError(argument, f"empty parameter name in {spec!r}")
    if not sep:
        if is_dummy(name):
            return name, (0.0, 1.0)
        relative, low, high = True, 0.5, 1.5
    else:
        low, high = _numbers(text, 2, spec, argument, "name=LOW:HIGH or name*=LOW:HIGH")
    if relative:
        centre = value(scenario, name) if scenario is not None else None
        if not centre:
            raise ArgumentError(
                argument, f"{name!r} has no value to range around: give it as {name}=LOW:HIGH"
            )
        low, high = sorted((round(low * centre, 12), round(high * centre, 12)))
    if not low < high:
        raise ArgumentError(argument, f"{name}: LOW must be below HIGH (got {low}:{high})")
    return name, (low, high)


def parse_grid(spec: str, argument: str = "grid") -> tuple[str, np.ndarray]:
    """``"name=start:stop:steps"`` -> ``(name, linspace(start, stop, steps))``."""
    name, sep, text = spec.partition("=")
    if not sep or not name.strip():
        raise ArgumentError(argument, f"expected name=START:STOP:STEPS (got {spec!r})")
    start, stop, steps = _numbers(text, 3, spec, argument, "name=START:STOP:STEPS")
    if not 2 <= steps <= MAX_GRID_STEPS or steps != int(steps):
        raise ArgumentError(
            argument,
            f"{name}: STEPS must be a whole number from 2 to {MAX_GRID_STEPS} (got {steps:g})",
        )
    return name.strip(), np.linspace(start, stop, int(steps))


def _numbers(text: str, n: int, spec: str, argument: str, form: str) -> list[float]:
    try:
        values = [float(p) for p in text.split(":")]
    except ValueError:
        values = []
    if len(values) != n:
        raise ArgumentError(argument, f"expected {form} (got {spec!r})")
    if not all(math.isfinite(v) for v in values):
        raise ArgumentError(argument, f"the numbers must be finite (got {spec!r})")
    return values
