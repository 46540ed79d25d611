"""Checks of a scenario as a whole: ids, indices, dates inside the run, stability.

:func:`check_semantics` runs the checks across fields, in a fixed order
(catalog control, added events, follow-ups, hazards, spill-overs, indices,
the policy, stability, levels), and the first problem becomes a
:class:`~model.errors.ScenarioError` naming the file that set the value and
the field (:mod:`.blame`).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from functools import partial
from typing import Protocol

import numpy as np

from ..catalog import SCOPES, check_requires, load_events
from ..conditions import names as condition_names
from ..distributions import centre
from ..dynamics import check_stable, drift_matrix
from ..errors import SimulationError, did_you_mean
from ..indices import STANDARD
from ..policies import DEFAULT_PARAMS, actions, is_python_policy, policy_names, python_policy
from ..timeaxis import MAX_DAYS
from .blame import outside_run, scenario_error
from .schema import Scenario

__all__ = ["check_semantics"]


class Fail(Protocol):
    """Raise the error of the value at ``loc``; with ``when``, of a date outside the run."""

    def __call__(self, loc: tuple, problem: str = "", when: dt.date | None = None) -> None: ...


def check_semantics(
    sc: Scenario, data: dict, origins: dict, file: str, chain: Sequence[str] = ()
) -> None:
    """Cross-field checks: ids, indicators, dates inside the run; the first problem is raised.

    ``origins`` and ``chain`` say which file set each value (:mod:`.blame`).
    """

    def fail(loc: tuple, problem: str = "", when: dt.date | None = None) -> None:
        if when is not None:
            raise outside_run(loc, when, sc.run, data, origins, file, chain)
        raise scenario_error(loc, problem, data, origins, file)

    names = set(sc.indicators)
    _check_control(sc, fail)
    _check_added(sc, names, fail)
    _check_followups(sc, fail)
    _check_requires(sc, fail)
    _check_keep(sc, fail)
    _check_scale(sc, fail)
    _check_hazards(sc, names, fail)
    _check_spillover(sc, names, fail)
    used_by_catalog = set().union(*(e.indicators() for e in sc.timeline()))
    _check_indicators(
        used_by_catalog, names, lambda p: fail(("indices",), p + " (used by a catalog event)")
    )
    _check_policy(sc, names, fail)
    _check_stability(sc, fail)
    _check_levels(sc, fail)


def _known_ids(sc: Scenario) -> set[str]:
    return set(sc.catalog()) | {e.id for e in sc.events.add}


def _unknown(sc: Scenario, ident: str) -> str:
    """Why ``ident`` is no event of the run: unknown (with a did-you-mean), or an event of a
    scope ``events.scopes`` does not select (with the scope to add)."""
    known = _known_ids(sc)
    for scope in (s for s in SCOPES if s not in sc.events.scopes):
        other = load_events((scope,))
        add = f'add "{scope}" to events.scopes to use it'
        if ident in other:
            left_out = f"is an event of scope {scope!r}, which this scenario leaves out"
            return f"{ident!r} {left_out}: {add}"
        if not did_you_mean(ident, known) and (hint := did_you_mean(ident, other)):
            return f"unknown event id {ident!r}{hint}: an event of scope {scope!r}; {add}"
    return f"unknown event id {ident!r}{did_you_mean(ident, known)}"


def _check_control(sc: Scenario, fail: Fail) -> None:
    """``events.drop``, ``move``, ``scale`` and ``only`` name known events (or tags)."""
    catalog = sc.catalog()
    known_ids = _known_ids(sc)
    tags = {t for e in catalog.values() for t in e.tags} | {e.category for e in catalog.values()}
    for key in ("drop", "keep", "move", "scale"):
        for ident in getattr(sc.events, key):
            if ident not in known_ids:  # a table's key names the file that set it
                loc = ("events", key, ident) if key in ("move", "scale") else ("events", key)
                fail(loc, _unknown(sc, ident))
    for ident in sc.events.only or ():
        if ident not in known_ids and ident not in tags:
            why = _unknown(sc, ident)
            if "events.scopes" not in why:
                why = (
                    f"{ident!r} is neither an event id, a tag nor a category"
                    f"{did_you_mean(ident, known_ids | tags)}"
                )
            fail(("events", "only"), why)
    for ident, when in sc.events.move.items():
        if not sc.run.start <= when <= sc.run.end:
            fail(("events", "move", ident), when=when)


def _check_added(sc: Scenario, names: set[str], fail: Fail) -> None:
    """Added events: new ids, dates inside the run, known parents, known indices."""
    catalog_ids = set(sc.catalog())
    known_ids = _known_ids(sc)
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
            fail(loc + ("date",), when=ev.date)
        if ev.after is not None and ev.after.event not in known_ids:
            fail(loc + ("after", "event"), _unknown(sc, ev.after.event))
        _check_indicators(ev.indicators(), names, partial(fail, loc))


def _check_followups(sc: Scenario, fail: Fail) -> None:
    """Follow-ups form no cycle (none of its events could ever fire), and each acts at most
    :data:`~model.timeaxis.MAX_DAYS` after the dated event that starts its chain.

    Each chain is walked once: an event's start and delay are kept for those that follow it.
    """
    events = {e.id: e for e in (*sc.catalog().values(), *sc.events.add)}
    reach: dict[str, tuple[str, int]] = {}  # id -> (the event starting its chain, days after)
    for i, ev in enumerate(sc.events.add):
        path: list[str] = []
        on_path: set[str] = set()
        node = ev
        while node.id not in reach and node.after is not None and node.after.event in events:
            if node.id in on_path:
                loop = path[path.index(node.id) :] + [node.id]
                fail(
                    ("events", "add", i, "after", "event"),
                    f"follow-ups form a cycle: {' -> '.join(loop)} (each follows the next, "
                    "so none of them can ever fire)",
                )
            path.append(node.id)
            on_path.add(node.id)
            node = events[node.after.event]
        root, days = reach.get(node.id, (node.id, 0))
        for ident in reversed(path):
            after = events[ident].after
            days += after.days if after is not None else 0
            reach[ident] = (root, days)
        root, days = reach.get(ev.id, (ev.id, 0))
        if days > MAX_DAYS:
            fail(
                ("events", "add", i, "after", "days"),
                f"{ev.id!r} would act {days} days after {root!r}, more than "
                f"{MAX_DAYS} days (300 years, the supported calendar's span)",
            )


def _check_requires(sc: Scenario, fail: Fail) -> None:
    """Added events require known events, without a cycle, none dated after the event."""
    known_ids = _known_ids(sc)
    where = {ev.id: ("events", "add", i, "requires") for i, ev in enumerate(sc.events.add)}
    for ev in sc.events.add:
        for cause in ev.requires:
            if cause not in known_ids:
                fail(where[ev.id], _unknown(sc, cause))
    try:
        check_requires([*sc.catalog().values(), *sc.events.add])
    except ValueError as exc:
        named = [i for i in where if f"'{i}'" in str(exc) or f" {i} " in f" {exc} "]
        fail(where[named[0]] if named else ("events", "add"), str(exc))


def _check_keep(sc: Scenario, fail: Fail) -> None:
    """``keep`` names events that a drop would take with it, and none that ``drop`` names."""
    gone = sc.events.model_copy(update={"keep": ()})
    removed = sc.model_copy(update={"events": gone}).resolution().removed
    for ident in sc.events.keep:
        if ident in sc.events.drop:
            fail(("events", "keep"), f"{ident!r} is also in events.drop: keep it or drop it")
        why = removed.get(ident)
        if why is None or why.by_name:
            fail(
                ("events", "keep"),
                f"{ident!r} does not go with any dropped or moved event: nothing to keep "
                "(keep names an event that requires a dropped one)",
            )
    resolution = sc.resolution()
    for ident in sc.events.keep:
        after = resolution.removed.get(_parent(sc, ident) or "")
        if after is not None:
            fail(
                ("events", "keep"),
                f"{ident!r} follows {after.id!r}, which is removed: a follow-up cannot happen "
                "without its parent (keep the parent instead)",
            )
    dropped = resolution.dropped()
    if sc.events.dropped and sc.events.dropped != dropped:
        listed = ", ".join(list(dropped)[:3]) + (", ..." if len(dropped) > 3 else "")
        fail(
            ("events", "dropped"),
            "records what the drops take with them and does not match this scenario "
            f"(it drops {len(dropped)} events with them{': ' + listed if dropped else ''}): "
            "delete the table, relsim writes it",
        )


def _parent(sc: Scenario, ident: str) -> str | None:
    """The parent of ``ident`` if it is a follow-up (catalog or added)."""
    found = sc.catalog().get(ident) or next((e for e in sc.events.add if e.id == ident), None)
    return found.after.event if found is not None and found.after is not None else None


def _check_scale(sc: Scenario, fail: Fail) -> None:
    """A scale by index names indices the event has effects on."""
    events = {e.id: e for e in (*sc.catalog().values(), *sc.events.add)}
    for ident, factor in sc.events.scale.items():
        if not isinstance(factor, dict) or ident not in events:
            continue
        moved = sorted({e.indicator for e in events[ident].effects})
        for name in factor:
            if name not in moved:
                fail(
                    ("events", "scale", ident, name),
                    f"event {ident!r} has no effect on {name!r}{did_you_mean(name, moved)}; "
                    f"its effects move {', '.join(moved)}",
                )
        if not factor:
            fail(("events", "scale", ident), "an empty table scales nothing: name an index")


def _check_hazards(sc: Scenario, names: set[str], fail: Fail) -> None:
    """Hazards: known indices, start and end inside the run."""
    for i, hz in enumerate(sc.hazards):
        loc = ("hazards", i)
        used = {e.indicator for e in hz.effects} | {e.damped_by for e in hz.effects if e.damped_by}
        used |= {hz.indicator} if hz.indicator else set()
        _check_indicators(used, names, partial(fail, loc))
        for key in ("start", "end"):
            when = getattr(hz, key)
            if when is not None and not sc.run.start <= when <= sc.run.end:
                fail(loc + (key,), when=when)


def _check_spillover(sc: Scenario, names: set[str], fail: Fail) -> None:
    """Spill-overs: between two different known indices, never negative."""
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


def _check_levels(sc: Scenario, fail: Fail) -> None:
    """Initial levels and baselines inside the scale."""
    for name, spec in sc.indices.items():
        for key in ("initial", "baseline"):
            value = getattr(spec, key)
            if isinstance(value, float) and not 0 < value < 100:
                fail(("indices", name, key), f"must be between 0 and 100 (got {value})")


def _check_policy(sc: Scenario, names: set[str], fail: Fail) -> None:
    """The policy: a built-in or an importable function, its settings, its rules, its start."""
    pol = sc.policy
    known = policy_names()
    if is_python_policy(pol.name):
        try:
            python_policy(pol.name)
        except (ValueError, TypeError) as exc:
            fail(("policy", "name"), str(exc))
    elif pol.name not in known:
        fail(
            ("policy", "name"),
            f"unknown policy {pol.name!r}{did_you_mean(pol.name, known)}; "
            f"known: {', '.join(known)}, or a function written as 'module:function'",
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
            partial(fail, ("policy", "rules", i, "when")),
        )
    if pol.rules and pol.name != "rules":
        fail(("policy", "rules"), 'rules apply only with name = "rules"')
    if (pol.name != "passive" or pol.reactions) and not sc.run.start <= pol.start <= sc.run.end:
        fail(("policy", "start"), when=pol.start)
    if pol.name != "passive" or pol.reactions:
        missing = set(STANDARD) - names
        if missing:
            fail(("policy",), f"policies need the indices {', '.join(sorted(missing))}")


def _check_stability(sc: Scenario, fail: Fail) -> None:
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


def _check_indicators(used: set[str], names: set[str], fail: Callable[[str], None]) -> None:
    for name in sorted(used - names):
        fail(
            f"unknown index {name!r}{did_you_mean(name, names)}; known: {', '.join(sorted(names))}"
        )
