"""The scores: against closed forms, hand computations and the project's own sample CRPS."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from scipy import stats

from model.calibrate.scores import (
    abs_error_median,
    coverage,
    crps_ensemble,
    crps_normal,
    crps_sample,
    diebold_mariano,
    direction_ok,
    skill,
)

values = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
draws_by_cases = hnp.arrays(
    float, st.tuples(st.integers(1, 30), st.integers(1, 6)), elements=values
)


def normal_crps_by_hand(y, mu, sigma):
    """Gneiting et al. (2005): sigma * (w (2 Phi(w) - 1) + 2 phi(w) - 1 / sqrt(pi))."""
    w = (y - mu) / sigma
    return sigma * (w * (2 * stats.norm.cdf(w) - 1) + 2 * stats.norm.pdf(w) - 1 / np.sqrt(np.pi))


# --------------------------------------------------------------------------- CRPS


@given(draws_by_cases, st.data())
def test_crps_ensemble_is_the_exact_sample_crps(samples, data):
    obs = data.draw(hnp.arrays(float, samples.shape[1], elements=values))
    np.testing.assert_allclose(
        crps_ensemble(obs, samples), crps_sample(samples, obs), rtol=1e-9, atol=1e-9
    )


def test_crps_ensemble_on_a_small_case_by_hand():
    # draws 0, 1, 3 and y = 2: E|X - y| = 4/3; E|X - X'| = (2 * (1 + 3 + 2)) / 9 = 4/3
    assert crps_ensemble(np.array([2.0]), np.array([[0.0], [1.0], [3.0]]))[0] == pytest.approx(
        4 / 3 - 2 / 3
    )


@given(values, values, st.integers(1, 20))
def test_crps_of_a_point_mass_is_the_absolute_error(y, x, m):
    got = crps_ensemble(np.array([y]), np.full((m, 1), x))[0]
    assert got == pytest.approx(abs(x - y), rel=1e-12, abs=1e-12)


@given(draws_by_cases, st.data())
def test_crps_is_non_negative_and_at_most_the_mean_absolute_error(samples, data):
    obs = data.draw(hnp.arrays(float, samples.shape[1], elements=values))
    got = crps_ensemble(obs, samples)
    assert (got >= -1e-9).all()
    assert (got <= np.mean(np.abs(samples - obs), axis=0) + 1e-9).all()


def test_crps_normal_matches_the_closed_form():
    assert crps_normal(0.0, 0.0, 1.0) == pytest.approx((np.sqrt(2) - 1) / np.sqrt(np.pi))
    y, mu, sigma = np.array([-2.0, 0.3, 1.2, 5.0]), np.array([0.0, 0.3, -1.0, 4.0]), 1.7
    np.testing.assert_allclose(
        crps_normal(y, mu, sigma), normal_crps_by_hand(y, mu, sigma), rtol=1e-12
    )
    with pytest.raises(ValueError, match="sigma"):
        crps_normal(0.0, 0.0, 0.0)


def test_crps_of_a_large_normal_ensemble_tends_to_the_closed_form():
    y, mu, sigma = np.array([-1.0, 0.5, 2.5]), np.array([0.0, 0.0, 1.0]), np.array([1.0, 2.0, 0.5])
    probs = (np.arange(20_000) + 0.5) / 20_000
    samples = mu + sigma * stats.norm.ppf(probs)[:, None]
    np.testing.assert_allclose(
        crps_ensemble(y, samples), normal_crps_by_hand(y, mu, sigma), rtol=1e-3
    )


def test_shapes_follow_the_axis_convention():
    with pytest.raises(ValueError, match="n_draws"):
        crps_ensemble(np.zeros(3), np.zeros((3, 4)))
    assert crps_ensemble(np.zeros((2, 3)), np.zeros((5, 2, 3))).shape == (2, 3)


# --------------------------------------------------------------------------- the other scores


def test_coverage_of_the_true_distribution_is_near_nominal():
    rng = np.random.default_rng(0)
    obs = rng.standard_normal(4000)
    samples = rng.standard_normal((1000, 4000))
    for level in (0.5, 0.9):
        assert coverage(obs, samples, level).mean() == pytest.approx(level, abs=0.03)


def test_coverage_interval_includes_its_ends_and_checks_the_level():
    samples = np.arange(11.0)[:, None]  # quantiles 0.05 and 0.95 are 0.5 and 9.5
    assert coverage(np.array([0.5]), samples, 0.9)[0]
    assert not coverage(np.array([0.4]), samples, 0.9)[0]
    with pytest.raises(ValueError, match="level"):
        coverage(np.zeros(1), samples, 1.0)


def test_abs_error_of_the_median():
    samples = np.array([[0.0, 10.0], [1.0, 20.0], [5.0, 30.0]])
    np.testing.assert_allclose(abs_error_median(np.array([3.0, 5.0]), samples), [2.0, 15.0])


def test_direction_compares_signs_of_change_with_ties_as_no_change():
    last = 1.0
    obs = np.array([2.0, 0.0, 2.0, 1.0, 1.0, 2.0, 1.05, np.nan])
    med = np.array([3.0, 0.5, 0.0, 1.0, 2.0, 1.0, 1.0, 2.0])
    np.testing.assert_array_equal(
        direction_ok(obs, last, med), [True, True, False, True, False, False, False, False]
    )
    # a tolerance turns small changes into no change
    assert direction_ok(np.array([1.05]), last, np.array([1.0]), tol=0.1)[0]


# --------------------------------------------------------------------------- Diebold–Mariano

LOSS_A = np.array([1.0, 2.0, 0.5, 1.5, 3.0])
LOSS_B = np.array([2.0, 2.5, 1.0, 1.0, 4.0])
# d = a - b = (-1, -0.5, -0.5, 0.5, -1); n = 5; mean -0.5; deviations (-0.5, 0, 0, 1, -0.5)
# gamma_0 = (0.25 + 1 + 0.25) / 5 = 0.3;  gamma_1 = (-0.5 * 1) / 5 = -0.1
# h = 1: V = 0.3; DM = -0.5 / sqrt(0.3 / 5); HLN factor sqrt((5 + 1 - 2) / 5) = sqrt(0.8)
#        -> -0.5 * sqrt(0.8 / 0.06) = -1.8257418583505538; p = 2 P(t_4 > 1.8257) = 0.1419274
# h = 2: V = 0.3 - 2 * 0.1 = 0.1; factor (5 + 1 - 4 + 2 / 5) / 5 = 0.48
#        -> -0.5 / sqrt(0.02) * sqrt(0.48) = -sqrt(6) = -2.449489742783178; p = 0.0704840
# h = 2, Bartlett weights (1 - 1/2): V = 0.3 - 0.1 = 0.2
#        -> -0.5 / sqrt(0.04) * sqrt(0.48) = -sqrt(3)


@pytest.mark.parametrize(
    ("h", "kernel", "stat", "pvalue"),
    [
        (1, "rectangular", -1.8257418583505538, 0.14192744777405542),
        (2, "rectangular", -2.449489742783178, 0.07048399691021992),
        (2, "bartlett", -1.7320508075688772, 0.15830242337545788),
    ],
)
def test_diebold_mariano_matches_the_hand_computation(h, kernel, stat, pvalue):
    got = diebold_mariano(LOSS_A, LOSS_B, h, kernel)
    assert got.statistic == pytest.approx(stat, rel=1e-12)
    assert got.pvalue == pytest.approx(pvalue, rel=1e-9)


@pytest.mark.parametrize(
    ("h", "kernel"), [(1, "rectangular"), (1, "bartlett"), (2, "bartlett"), (3, "bartlett")]
)
def test_diebold_mariano_agrees_with_statsmodels(h, kernel):
    stattools = pytest.importorskip("statsmodels.tsa.stattools")
    if not hasattr(stattools, "diebold_mariano_test"):
        pytest.skip("this statsmodels has no Diebold–Mariano test")
    rng = np.random.default_rng(h)
    a, b = rng.gamma(2.0, size=14), rng.gamma(2.5, size=14)
    # with y = 0 and forecasts sqrt(loss), the squared error is the loss itself
    ref = stattools.diebold_mariano_test(
        np.zeros(14), np.sqrt(a), np.sqrt(b), lags=h - 1, harvey_adj=True, horizon=h
    )
    got = diebold_mariano(a, b, h, kernel)
    assert got.statistic == pytest.approx(ref.statistic, rel=1e-9)
    assert got.pvalue == pytest.approx(ref.pvalue, rel=1e-9)


@given(
    hnp.arrays(float, st.integers(3, 20), elements=st.floats(0, 10)), st.data(), st.integers(1, 3)
)
def test_diebold_mariano_is_antisymmetric(a, data, h):
    b = data.draw(hnp.arrays(float, a.size, elements=st.floats(0, 10)))
    ab, ba = diebold_mariano(a, b, h), diebold_mariano(b, a, h)
    if np.isnan(ab.statistic):
        assert np.isnan(ba.statistic)
    else:
        assert ab.statistic == pytest.approx(-ba.statistic, rel=1e-9, abs=1e-12)
        assert ab.pvalue == pytest.approx(ba.pvalue, rel=1e-9)
        assert 0 <= ab.pvalue <= 1


def test_diebold_mariano_is_nan_when_it_cannot_be_computed():
    assert np.isnan(diebold_mariano([1.0, 2.0], [2.0, 3.0], 1).statistic)  # n < 3
    assert np.isnan(diebold_mariano([1.0, 2.0, 3.0], [2.0, 3.0, 4.0], 1).pvalue)  # constant d
    assert np.isnan(diebold_mariano(np.ones(4), np.ones(4), 1).statistic)  # d = 0
    alternating = np.array([1.0, -1.0, 1.0, -1.0, 1.0])  # gamma_0 + 2 gamma_1 < 0
    assert np.isnan(diebold_mariano(alternating, np.zeros(5), 2).statistic)
    assert np.isfinite(diebold_mariano(alternating, np.zeros(5), 2, "bartlett").statistic)
    assert np.isnan(diebold_mariano(LOSS_A[:4], LOSS_B[:4], 5).statistic)  # HLN factor <= 0


def test_diebold_mariano_rejects_bad_input():
    with pytest.raises(ValueError, match="paired"):
        diebold_mariano([1.0, 2.0, 3.0], [1.0, 2.0], 1)
    with pytest.raises(ValueError, match="'h'"):
        diebold_mariano(LOSS_A, LOSS_B, 0)
    with pytest.raises(ValueError, match="kernel"):
        diebold_mariano(LOSS_A, LOSS_B, 1, "parzen")
    with pytest.raises(ValueError, match="finite"):
        diebold_mariano([1.0, np.nan, 3.0], [1.0, 2.0, 3.0], 1)


# --------------------------------------------------------------------------- skill


def test_skill_sign_and_value():
    assert skill([1.0, 1.0], [2.0, 2.0]) == pytest.approx(0.5)
    assert skill([3.0, 3.0], [2.0, 2.0]) == pytest.approx(-0.5)
    assert np.isnan(skill([1.0], [0.0]))
    with pytest.raises(ValueError, match="paired"):
        skill([1.0], [1.0, 2.0])


@given(hnp.arrays(float, st.integers(1, 20), elements=st.floats(0.01, 10)))
def test_a_forecaster_has_no_skill_over_itself(losses):
    assert skill(losses, losses) == pytest.approx(0.0, abs=1e-12)
