"""Events on the page: causes, not rows (what goes with an event switched off), periods, search.

:func:`toggle` and :func:`causal_note` make switching the Su-24 downing off take
the sanctions and their lifting with it; :func:`event_periods` groups the
record by period and :func:`matching` finds events by words of their title or
their year.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable

from ..catalog import consequences, load_catalog
from ..errors import ArgumentError
from ..scenario import scenario_from_dict
from .settings import Settings, scenario_dict

__all__ = ["PERIODS", "causal_note", "event_periods", "matching", "toggle", "went_with"]

#: The periods the page groups the events of the record by: (first year, last year, name).
PERIODS = (
    (1997, 2008, "1997–2008: gas, pipelines and a new partnership"),
    (2009, 2014, "2009–2014: high-level council, Akkuyu and the war in Syria"),
    (2015, 2016, "2015–2016: the aviation crisis and the thaw"),
    (2017, 2021, "2017–2021: Astana, the S-400, Idlib and Karabakh"),
    (2022, 9999, "2022 onward: the war in Ukraine"),
)


def event_periods() -> dict[str, list[str]]:
    """The catalog's event ids by period (:data:`PERIODS`), in date order within each."""
    groups: dict[str, list[str]] = {name: [] for _, _, name in PERIODS}
    for ev in load_catalog().values():
        year = ev.date.year if ev.date is not None else PERIODS[-1][0]
        name = next(n for first, last, n in PERIODS if first <= year <= last)
        groups[name].append(ev.id)
    return {k: v for k, v in groups.items() if v}


def _fold(text: str) -> str:
    """Lower case without accents: 'Erdoğan' is found by 'erdogan'."""
    plain = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in plain if not unicodedata.combining(c)).replace("ı", "i")


def matching(query: str) -> set[str]:
    """The ids of the events whose title, id or date contains every word of ``query``
    (case and accents ignored: ``"su-24"``, ``"2016"``, ``"erdogan 2016"``)."""
    words = _fold(query).split()
    found = set()
    for ev in load_catalog().values():
        hay = _fold(f"{ev.title} {ev.id} {ev.date or ''}")
        if all(w in hay for w in words):
            found.add(ev.id)
    return found


def toggle(chosen: Iterable[str], on: Iterable[str]) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """The page's events after the teacher ticked and unticked some.

    ``chosen``: the events the teacher had switched off; ``on``: the events
    ticked now. An event unticked now is switched off; one ticked again is
    back on; an event that requires one switched off stays off however it is
    ticked (it goes with its cause). Returns the events switched off by choice
    and every event off (those and what goes with them), in date order.
    """
    catalog = load_catalog()
    chosen, on = set(chosen), set(on)
    unknown = sorted((chosen | on) - set(catalog))
    if unknown:
        raise ArgumentError("events", f"unknown event id {unknown[0]!r}")
    implied = consequences(catalog, chosen)
    chosen |= {i for i in set(catalog) - on if i not in implied}  # unticked now
    chosen -= on  # ticked again
    off = chosen | consequences(catalog, chosen)
    order = list(catalog)
    return tuple(sorted(chosen, key=order.index)), tuple(sorted(off, key=order.index))


def went_with(settings: Settings) -> dict[str, tuple[str, ...]]:
    """For each event switched off or moved, the events that go with it in the page's
    scenario (those that require it, directly or not; after a move, those it now comes after)."""
    sc = scenario_from_dict(scenario_dict(settings), file="page")
    return {
        root: tuple(r.id for r in gone) for (_, root), gone in sc.resolution().cascades().items()
    }


def causal_note(settings: Settings) -> str:
    """Markdown: what went with each event switched off or moved ("the sanctions and their
    lifting go with it"), or an empty string."""
    catalog = load_catalog()
    moves = dict(settings.moves)
    lines = []
    for root, gone in went_with(settings).items():
        what = catalog[root].title
        n = f"{len(gone)} event{'s' if len(gone) > 1 else ''}"
        if root in moves:
            head = f"**{what}** moved to {moves[root]}: {n} that require it go"
        else:
            head = f"**{what}** is off, and {n} that follow from it go with it"
        lines.append(f"- {head}: {_gone_text(root, gone)}")
    return "" if not lines else "Events go with their causes:\n" + "\n".join(lines)


def _gone_text(root: str, gone: tuple[str, ...]) -> str:
    """The events that went with ``root``: each direct consequence, with how many follow it."""
    catalog = load_catalog()
    parts, told = [], set()
    for ident in gone:
        if ident in told or root not in catalog[ident].requires:
            continue
        later = [i for i in gone if i in consequences(catalog, ident) and i not in told]
        told |= {ident, *later}
        tail = f" (and the {len(later)} events that follow from it)" if len(later) > 1 else ""
        tail = f" (and {catalog[later[0]].title})" if len(later) == 1 else tail
        parts.append(catalog[ident].title + tail)
    parts += [catalog[i].title for i in gone if i not in told]
    return " · ".join(parts)
