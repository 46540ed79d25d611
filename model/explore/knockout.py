"""Knock-outs: which factors an attribution removes, and a scenario without them.

A factor is a causal cluster of the scenario (its events joined by
``requires``, :meth:`Scenario.factors`) or a single event. Attribution
removes factors one by one or in subsets (:mod:`.attribution`); by default
it works on clusters, so that removing the Su-24 downing also removes the
sanctions it caused and the steps that lifted them, and on single events on
request. :func:`chosen_factors` turns the caller's choice into factors and
:func:`without_events` makes the scenario without some events.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import pandas as pd

from ..errors import ArgumentError, did_you_mean
from ..scenario import Factor, Scenario, scenario_from_dict

__all__ = ["chosen_factors", "without_events"]


def chosen_factors(
    sc: Scenario, events: Sequence[str] | str | None, last_day: str, per_event: bool = False
) -> list[Factor]:
    """The factors to attribute to, in timeline order.

    ``events`` None or ``"all"``: every cluster (and every event outside one)
    with an event dated on or before ``last_day``, or with ``per_event``
    every such event alone. Otherwise ids, each an event id (that event
    alone) or a cluster id (the whole cluster).
    """
    timeline = sc.timeline()
    by_id = {e.id: e for e in timeline}
    clusters = {f.id: f for f in sc.factors() if f.is_cluster}
    if events is None or events == "all" or events == ["all"]:
        limit = pd.Timestamp(last_day).date()
        dated = {e.id for e in timeline if e.date is not None and e.date <= limit}
        if per_event:
            return [_alone(e.id, by_id) for e in timeline if e.id in dated]
        return [f for f in sc.factors() if set(f.members) & dated]
    ids = [i.strip() for i in events.split(",")] if isinstance(events, str) else list(events)
    out = []
    for i in dict.fromkeys(ids):
        if i in clusters:
            out.append(clusters[i])
        elif i in by_id:
            out.append(_alone(i, by_id))
        else:
            known = [*by_id, *clusters]
            raise ArgumentError(
                "events",
                f"{i!r} is neither an event nor a cluster of this scenario{did_you_mean(i, known)}",
            )
    return out


def _alone(ident: str, by_id: dict) -> Factor:
    return Factor(ident, by_id[ident].title, (ident,), (ident,))


def without_events(scenario: Scenario, ids: Iterable[str], removal: str = "drop") -> Scenario:
    """``scenario`` with the events ``ids`` removed.

    ``removal="drop"``: catalog events go into ``events.drop``, so whatever
    requires them goes too (the scenario's cascade); added events leave
    ``events.add`` together with the added events that follow them or
    require them. ``removal="zero"``: every event stays on the calendar
    with its effects scaled to zero, so both runs split time at the same
    moments; nothing cascades (follow-ups and consequences still come, so a
    whole chain is removed by naming all its events, as a cluster does).
    """
    ids = list(dict.fromkeys(ids))
    if not ids:
        return scenario
    data = scenario.to_dict()
    events = data.setdefault("events", {})
    if removal == "zero":
        events.setdefault("scale", {}).update({i: 0.0 for i in ids})
    elif removal == "drop":
        _drop(events, ids)
    else:
        raise ArgumentError("removal", f"must be 'drop' or 'zero' (got {removal!r})")
    short = ", ".join(ids[:3]) + (f" and {len(ids) - 3} more" if len(ids) > 3 else "")
    return scenario_from_dict(data, file=f"{scenario.name} without {short}")


def _drop(events: dict, ids: list[str]) -> None:
    """Drop ``ids`` from the plain data of ``[events]`` (see :func:`without_events`)."""
    added = {e["id"] for e in events.get("add", [])}
    gone = {i for i in ids if i in added}
    keep = list(events.get("add", []))
    while True:
        after = [
            e
            for e in keep
            if e["id"] in gone
            or (e.get("after") or {}).get("event") in gone
            or set(e.get("requires") or ()) & gone
        ]
        if not after:
            break
        gone |= {e["id"] for e in after}
        keep = [e for e in keep if e["id"] not in gone]
    events["add"] = keep
    named = [i for i in ids if i not in added]
    events["drop"] = list(dict.fromkeys([*events.get("drop", []), *named]))
    for key in ("scale", "move"):
        events[key] = {k: v for k, v in events.get(key, {}).items() if k not in gone}
    events["keep"] = [i for i in events.get("keep", []) if i not in gone and i not in ids]
