"""The guided history: the main events of the brief one at a time, then its balancing question."""

from __future__ import annotations

from ..catalog import load_catalog
from ..distributions import Dist

__all__ = ["BALANCING_QUESTION", "GUIDED_EVENTS", "GUIDED_STEPS", "guided_intro", "guided_text"]

#: The main events of the brief for the guided history, in date order.
GUIDED_EVENTS = (
    "blue-stream-deliveries-2003",
    "akkuyu-agreement-2010",
    "syria-civil-war-2011",
    "turkstream-announced-2014",
    "su24-downing-2015",
    "russian-sanctions-2015",
    "coup-attempt-2016",
    "astana-process-2017",
    "s400-delivery-2019",
    "karabakh-war-2020",
    "ukraine-invasion-2022",
    "ukraine-war-trade-2022",
    "black-sea-grain-initiative-2022",
)

#: Guided steps: the main events, then the balancing question the brief ends with.
GUIDED_STEPS = len(GUIDED_EVENTS) + 1


def _effects(event) -> str:
    parts = []
    for e in event.effects:
        size = e.size.center() if isinstance(e.size, Dist) else e.size
        what = (
            "at once"
            if e.kind == "jump"
            else (f"baseline for {e.duration}" if e.duration else "baseline, lasting")
        )
        parts.append(f"{e.indicator} {size:+g} ({what})")
    return "; ".join(parts)


BALANCING_QUESTION = (
    "The brief ends on strategy: *“The future of their relationship is shrouded in "
    "uncertainty, which underscores the need for Ankara to prioritize strengthening its Western "
    "alliances while maintaining cooperation with Russia. A balanced policy by Türkiye that takes "
    "into account the changes in the global security architecture is crucial to reduce the "
    "fragility of future relations.”*\n\n"
    "**The question:** does a balancing policy make *both* relations less fragile, the one with "
    "Russia and the one with the West? The chart runs the record on to 2035 with no new events "
    "(the shaded years). Go to the *Explore* tab, pick *balancing* as Türkiye's policy from "
    "2026, then *West first* and *Russia pivot*, raise the incident rate, and compare the worst "
    "levels and the years in crisis of the outcome table."
)


def guided_intro() -> str:
    """The guided history's first line, with its count of steps."""
    return (
        f"{len(GUIDED_EVENTS)} main events of the brief, one at a time, with the model's record "
        "up to each (every event on, no policy, no incidents), and the question the brief ends "
        f"with: {GUIDED_STEPS} steps."
    )


def guided_text(step: int) -> str:
    """Markdown for guided step ``step`` (0-based): date, title, the brief's section, its note;
    the last step is the balancing question."""
    if step == len(GUIDED_EVENTS):
        return f"#### {step + 1} of {GUIDED_STEPS}: 2026–2035 — Balancing\n\n{BALANCING_QUESTION}"
    ev = load_catalog()[GUIDED_EVENTS[step]]
    when = (
        f"{ev.date:%-d %B %Y}"
        if ev.precision == "day"
        else (f"{ev.date:%B %Y}" if ev.precision == "month" else f"{ev.date:%Y}")
    )
    brief_date = ""
    if ev.brief_date is not None:
        brief_date = f" (the brief dates it to {ev.brief_date:%Y}" + (
            f"-{ev.brief_date:%m-%d})"
            if ev.brief_date.month != 1 or ev.brief_date.day != 1
            else ")"
        )
    return (
        f"#### {step + 1} of {GUIDED_STEPS}: {when} — {ev.title}\n\n"
        f"**In the brief:** *{ev.brief}*{brief_date}\n\n{ev.note}\n\n"
        f"**In the model:** {_effects(ev)}."
    )
