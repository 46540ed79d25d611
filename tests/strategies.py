"""Hypothesis strategies shared by the tests."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st

INDICES = ("trade", "energy", "security", "west")

levels = st.floats(min_value=0.5, max_value=99.5)
changes = st.floats(min_value=-150.0, max_value=150.0)
half_lives = st.floats(min_value=0.2, max_value=10.0)
steps_years = st.floats(min_value=1e-3, max_value=5.0)


@st.composite
def added_events(draw, start=dt.date(2001, 1, 1), end=dt.date(2034, 12, 31), max_events=4):
    """Hypothetical events: dates in the run, jumps and shifts of any sign."""
    n = draw(st.integers(0, max_events))
    events = []
    for i in range(n):
        day = draw(st.integers(0, (end - start).days))
        effects = draw(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "indicator": st.sampled_from(INDICES),
                        draw(st.sampled_from(["jump", "shift"])): st.floats(-80, 80),
                    }
                ),
                min_size=1,
                max_size=3,
            )
        )
        events.append(
            {
                "id": f"h{i}",
                "date": start + dt.timedelta(days=day),
                "title": f"event {i}",
                "effects": effects,
            }
        )
    return events
