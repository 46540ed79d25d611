"""The limits of a scenario as properties: what each bound promises holds for any input."""

from __future__ import annotations

import datetime as dt
import math

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from model.distributions import Dist, extremes, upper
from model.scenario.limits import MAX_DEPTH, MAX_NUMBER, number_problem, walk_problem
from model.timeaxis import FIRST_DATE, LAST_DATE, MAX_DAYS, add_duration, check_duration

calendar = st.dates(min_value=FIRST_DATE, max_value=LAST_DATE)
durations = st.builds(
    lambda amount, unit: f"{amount:g}{unit}",
    st.floats(min_value=0, max_value=200_000, allow_nan=False),
    st.sampled_from("dwmy"),
)


@given(calendar, durations)
def test_an_accepted_duration_moves_a_calendar_date_forward_to_a_representable_date(day, text):
    try:
        check_duration(text, "duration")
    except ValueError as exc:
        assert "must be" in str(exc)
        return
    later = add_duration(day, text)  # no OverflowError, no "year out of range"
    assert later > day
    assert (later - day).days <= MAX_DAYS + 31  # a month's rounding at most


@given(st.integers(min_value=MAX_DEPTH + 1, max_value=20_000), st.booleans())
def test_any_depth_is_walked_without_recursion(depth, arrays):
    data: object = 1.0
    for _ in range(depth):
        data = [data] if arrays else {"a": data}
    found = walk_problem({"name": "x", "deep": data})
    assert found is not None
    loc, problem = found
    assert len(loc) == MAX_DEPTH and "levels deep" in problem


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_a_number_passes_exactly_when_it_is_finite_and_within_the_bound(x):
    assert (number_problem("jump", x) is None) == (math.isfinite(x) and abs(x) <= MAX_NUMBER)


@given(st.integers(min_value=-(2**80), max_value=2**80))
def test_counts_keep_their_own_bounds(n):
    assert number_problem("seed", n) is None and number_problem("replicates", n) is None
    assert (number_problem("jump", n) is None) == (abs(n) <= MAX_NUMBER)


dists = st.one_of(
    st.builds(
        lambda m, s: Dist(dist="normal", mean=m, sd=s),
        st.floats(-100, 100),
        st.floats(0, 50),
    ),
    st.builds(
        lambda lo, w: Dist(dist="uniform", low=lo, high=lo + w),
        st.floats(-100, 100),
        st.floats(0.01, 100),
    ),
    st.builds(
        lambda m, s: Dist(dist="lognormal", median=m, sigma=s),
        st.floats(0.01, 100),
        st.floats(0, 10),
    ),
)


@given(dists)
def test_no_draw_leaves_the_extremes(d):
    # the smallest and largest uniforms the random streams give (rng._uniforms)
    u = np.array([0.5 * 2.0**-53, 0.5, 1 - 2.0**-53])
    lo, hi = extremes(d)
    draws = d.draw(u)
    assert np.all(np.isfinite(draws))
    tol = 1e-12 * (1 + max(abs(lo), abs(hi)))  # rounding, whatever the sign of the bounds
    assert np.all(draws >= lo - tol) and np.all(draws <= hi + tol)
    assert lo <= upper(d) <= hi


def test_the_calendar_and_the_longest_duration_stay_inside_python_dates():
    assert add_duration(LAST_DATE, "300y") < dt.date.max
    assert LAST_DATE + dt.timedelta(days=MAX_DAYS) < dt.date.max
