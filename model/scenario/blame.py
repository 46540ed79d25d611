"""Errors that name the file that set the value, the field and the problem.

Loading records which file set each value (``origins``: location -> file) and
the files of the ``extends`` chain from the first parent to the child
(``chain``). From them a :class:`~model.errors.ScenarioError` names:

- for one value, the file that set it (or that set the table holding it) and
  its field, written as a reader finds it (``events.add[grain-2027].date``);
- for a rule across fields of one table (``'end' must be after 'start'``),
  the field that the most derived file set, so a child that breaks its
  parent's rule is blamed, not the parent (:func:`as_scenario_error`);
- for a date outside the run, the run's bound instead of the date when the
  bound was set by a more derived file than the date (:func:`outside_run`).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from collections.abc import Sequence
from typing import Any

from pydantic import ValidationError

from ..catalog import Effect, Event
from ..distributions import Dist
from ..errors import ScenarioError, did_you_mean
from .schema import EventsControl, Hazard, IndexSpec, RunSettings, Scenario

__all__ = ["as_scenario_error", "field_name", "origin", "outside_run", "scenario_error"]

#: A key written bare in a field name; any other is quoted (``events."a b"``).
_BARE = re.compile(r"^[A-Za-z0-9_\-]+$")


def origin(origins: dict, loc: tuple, file: str) -> str:
    """The file that set the value at ``loc`` (or the table holding it), else ``file``."""
    for n in range(len(loc), 0, -1):
        found = origins.get(tuple(loc[:n]))
        if found:
            return found
    return file


def field_name(loc: tuple, data: dict) -> str:
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
            ident = ident if isinstance(ident, str) and ident else key
            if parts:
                parts[-1] += f"[{ident}]"
            else:
                parts.append(f"[{ident}]")
        else:
            parts.append(key if isinstance(key, str) and _BARE.match(key) else json.dumps(key))
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


def scenario_error(loc: tuple, problem: str, data: dict, origins: dict, file: str) -> ScenarioError:
    """The error of the value at ``loc``: the file that set it, its field, ``problem``."""
    return ScenarioError(origin(origins, loc, file), field_name(loc, data), problem)


def _node(data: Any, loc: tuple) -> Any:
    for key in loc:
        try:
            data = data[key]
        except (KeyError, IndexError, TypeError):
            return None
    return data


def _blamed(loc: tuple, msg: str, data: dict, origins: dict, file: str, chain: Sequence[str]):
    """For a rule across the fields of one table (``'end' must be after 'start'``): the field
    it names that the most derived file of ``chain`` set, so that file is blamed; else ``loc``."""
    node = _node(data, loc)
    if not isinstance(node, dict):
        return loc
    named = [loc + (k,) for k in node if isinstance(k, str) and f"'{k}'" in msg]
    if not named:
        return loc
    rank = {f: i for i, f in enumerate(chain)}
    return max(named, key=lambda sub: rank.get(origin(origins, sub, file), -1))


def as_scenario_error(
    exc: ValidationError, data: dict, origins: dict, file: str, chain: Sequence[str] = ()
) -> ScenarioError:
    """A field's validation error as a :class:`ScenarioError` naming the file that set it."""
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
        msg = f"{msg} (got {_short(err['input'])})"
    elif err["type"].endswith("_type") and isinstance(err.get("input"), (dict, list)):
        msg = f"{msg} (got {'a table' if isinstance(err['input'], dict) else 'an array'})"
    else:
        loc = _blamed(loc, msg, data, origins, file, chain)
    return scenario_error(loc, msg, data, origins, file)


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _setter(origins: dict, loc: tuple) -> str | None:
    """The file that set the value at ``loc`` or a table holding it; None for a default."""
    for n in range(len(loc), 0, -1):
        if found := origins.get(tuple(loc[:n])):
            return str(found)
    return None


def outside_run(
    loc: tuple,
    when: dt.date,
    run: RunSettings,
    data: dict,
    origins: dict,
    file: str,
    chain: Sequence[str] = (),
) -> ScenarioError:
    """The error of a date at ``loc`` outside the run: against the date's file and field, or
    against the run's bound when a more derived file set the bound than the date."""
    span = f"{run.start}..{run.end}"
    key = "start" if when < run.start else "end"
    mine, bound = _setter(origins, loc), _setter(origins, ("run", key))
    rank = {f: i for i, f in enumerate(chain)}
    if bound is not None and rank.get(bound, -1) > rank.get(mine or "", -1):
        where = f" (set in {mine})" if mine else ""
        problem = f"the run {span} leaves out {field_name(loc, data)} = {when}{where}"
        return ScenarioError(bound, f"run.{key}", problem)
    return scenario_error(loc, f"{when} is outside the run {span}", data, origins, file)
