"""Scenarios at a glance: for each file, its question (the first sentence of its description)
and what it changes in the scenario it extends, read from the file's own keys.

>>> from model.scenario.overview import overview
>>> [o.name for o in overview()][:2]                                  # doctest: +SKIP
['akkuyu-online', 'baseline']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .files import read_toml
from .loading import load_scenario, shipped_scenarios

__all__ = ["Overview", "describe", "overview"]

#: Keys that say what a file is, not what it changes, or are described on their own.
_ABOUT = ("name", "description", "extends", "events", "hazards")
#: "Counterfactual: what if ...?" -> the kind ("counterfactual") and the question.
_KIND = re.compile(r"^([A-Z][a-z]+(?: [a-z]+)?):\s+(.*)$", re.DOTALL)
_SENTENCE = re.compile(r"^(.*?[.?!])(?=\s|$)", re.DOTALL)


@dataclass(frozen=True)
class Overview:
    """One scenario file at a glance."""

    name: str  #: what ``relsim run NAME`` takes (the file's stem for a shipped scenario)
    path: Path
    kind: str  #: "counterfactual", "future", "stress test", ... or "" when unlabelled
    question: str
    extends: str  #: the parent file, or "" for a scenario that extends nothing
    changes: tuple[str, ...]


def overview(paths: Iterable[str | Path] | None = None) -> list[Overview]:
    """:func:`describe` each file of ``paths``, or each shipped scenario; raises
    :class:`~model.errors.ScenarioError` for the first file that does not load."""
    if paths is None:
        return [describe(path, name) for name, path in shipped_scenarios().items()]
    return [describe(Path(p)) for p in paths]


def describe(path: str | Path, name: str | None = None) -> Overview:
    """The question of the scenario file at ``path`` and what it changes."""
    path = Path(path)
    scenario = load_scenario(path)
    raw = read_toml(path)
    kind, question = _question(str(raw.get("description", "")))
    changes = [*_event_changes(raw.get("events", {}), scenario)]
    changes += _hazard_changes(raw.get("hazards", []))
    own = {k: v for k, v in raw.items() if k not in _ABOUT}
    if not raw.get("extends"):  # its run settings are the reference line
        own.pop("run", None)
        run = scenario.run
        changes.insert(
            0,
            f"the reference: {len(scenario.timeline())} events of the catalog, "
            f"{run.start}..{run.end}, {run.replicates} replicates",
        )
    changes += _value_changes(own)
    return Overview(
        name=name or path.stem,
        path=path,
        kind=kind,
        question=question,
        extends=str(raw.get("extends") or ""),
        changes=tuple(changes) or ("nothing: the same run as its parent",),
    )


def _question(description: str) -> tuple[str, str]:
    """The kind label and the first sentence of a description, on one line."""
    text = " ".join(description.split())
    if not text:
        return "", "(no description)"
    kind = ""
    labelled = _KIND.match(text)
    if labelled:
        kind, text = labelled.group(1).lower(), labelled.group(2)
    first = _SENTENCE.match(text)
    return kind, first.group(1) if first else text


def _event_changes(events: Mapping[str, Any], scenario: Any) -> list[str]:
    out = []
    if events.get("scopes") is not None:
        scopes = list(events["scopes"])
        counts = {s: sum(e.scope == s for e in scenario.timeline()) for s in scopes}
        out.append(
            f"draws its events from the scopes {', '.join(scopes)} "
            f"({', '.join(f'{n} {s}' for s, n in counts.items())} in the run)"
        )
    if events.get("drop"):
        gone = sum(
            len(v) for (how, _), v in scenario.resolution().cascades().items() if how == "drop"
        )
        them = "it" if len(events["drop"]) == 1 else "them"
        also = f", and the {gone} events that require {them}" if gone else ""
        out.append(f"drops {', '.join(events['drop'])}{also}")
    if events.get("only") is not None:
        out.append(f"runs only {len(events['only'])} events of the catalog")
    for event, date in events.get("move", {}).items():
        out.append(f"moves {event} to {date}")
    scales = [f"{e} x{_short(v)}" for e, v in events.get("scale", {}).items()]
    if scales:
        out.append(f"scales {', '.join(scales)}")
    if events.get("keep"):
        out.append(f"keeps {', '.join(events['keep'])} whatever they require")
    added = scenario.events.add if events.get("add") else ()
    if added:
        items = [
            f"{e.id} ({e.date or f'{e.after.days} days after {e.after.event}'})" for e in added
        ]
        out.append(f"adds {len(added)} event{'s' if len(added) > 1 else ''}: {', '.join(items)}")
    return out


def _hazard_changes(hazards: list[Any]) -> list[str]:
    if not hazards:
        return []
    starts = sorted({str(h["start"]) for h in hazards if h.get("start")})
    since = f" from {starts[0]}" if starts else ""
    ids = ", ".join(str(h.get("id")) for h in hazards)
    return [f"adds {len(hazards)} random hazard{'s' if len(hazards) > 1 else ''}{since}: {ids}"]


def _value_changes(values: Mapping[str, Any]) -> list[str]:
    """``sets a.b = v`` for fixed values and ``makes a.b uncertain`` for distributions."""
    fixed, uncertain = [], []
    for key, value in _leaves(values, ""):
        if isinstance(value, dict):
            uncertain.append(f"{key} ({value.get('dist', 'a distribution')})")
        else:
            fixed.append(f"{key} = {_short(value)}")
    out = []
    if fixed:
        out.append("sets " + ", ".join(fixed))
    if uncertain:
        out.append("makes uncertain " + ", ".join(uncertain))
    return out


def _leaves(values: Mapping[str, Any], prefix: str) -> Iterable[tuple[str, Any]]:
    """Dotted paths and values; a table with ``dist`` is one (uncertain) value."""
    for key, value in values.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict) and "dist" not in value:
            yield from _leaves(value, path + ".")
        else:
            yield path, value


def _short(value: Any) -> str:
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dict):
        return "(per index)" if "dist" not in value else f"({value['dist']})"
    if isinstance(value, list):
        return f"[{len(value)} items]"
    return str(value)
