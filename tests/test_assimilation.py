"""The Kalman filter on each series' deviation from the model, and the fit with priors."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from model.calibrate import calibrate
from model.calibrate.assimilation import (
    Assimilation,
    DeviationModel,
    assimilate,
    fit_deviation,
    kalman_filter,
    lag1_autocorrelation,
)


def _ar1_with_noise(rng, n, rho, q, r):
    d = np.zeros(n)
    d[0] = rng.normal(0, np.sqrt(q / (1 - rho**2)))
    for t in range(1, n):
        d[t] = rho * d[t - 1] + rng.normal(0, np.sqrt(q))
    return d + rng.normal(0, np.sqrt(r), n)


@given(
    rho=st.floats(0.0, 0.95),
    q=st.floats(0.01, 2.0),
    r=st.floats(0.01, 2.0),
    seed=st.integers(0, 2**16),
)
def test_the_filter_agrees_with_statsmodels_on_an_ar1_with_gaps(rho, q, r, seed):
    """The same model in statsmodels' SARIMAX (AR(1) plus measurement error, missing years)."""
    import statsmodels.api as sm

    rng = np.random.default_rng(seed)
    z = _ar1_with_noise(rng, 25, rho, q, r)
    z[rng.choice(25, 6, replace=False)] = np.nan
    mine = kalman_filter(z, rho, q, r)
    ss = sm.tsa.SARIMAX(z, order=(1, 0, 0), trend="n", measurement_error=True)
    params = [rho, r, q]  # ar.L1, var.measurement_error, sigma2
    assert mine.loglik == pytest.approx(ss.loglike(params), rel=1e-9, abs=1e-9)
    res = ss.filter(params)
    assert mine.mean == pytest.approx(res.filtered_state[0, -1], abs=1e-9)
    assert mine.var == pytest.approx(res.filtered_state_cov[0, 0, -1], rel=1e-9)
    assert len(mine.innovations) == np.isfinite(z).sum()


def test_persistence_and_noise_are_recovered_from_many_short_series():
    rng = np.random.default_rng(5)
    series = [_ar1_with_noise(rng, 15, 0.8, 0.04, 0.01) for _ in range(40)]
    for s in series:
        s[rng.choice(15, 3, replace=False)] = np.nan
    model = fit_deviation(series)
    assert model is not None
    assert model.rho == pytest.approx(0.8, abs=0.1)
    assert model.stationary == pytest.approx(0.04 / (1 - 0.64), rel=0.35)
    assert fit_deviation([np.array([0.1, np.nan, 0.2])]) is None  # too few years


def test_the_innovations_of_the_fitted_filter_are_far_less_autocorrelated():
    rng = np.random.default_rng(11)
    series = [_ar1_with_noise(rng, 20, 0.85, 0.05, 0.005) for _ in range(20)]
    model = fit_deviation(series)
    before = lag1_autocorrelation(series)
    after = lag1_autocorrelation(
        [kalman_filter(s, model.rho, model.q, model.r).innovations for s in series]
    )
    assert before > 0.6
    assert abs(after) < 0.2


def test_the_forecast_deviation_decays_and_its_variance_grows_to_the_stationary():
    m = DeviationModel(rho=0.5, q=0.03, r=0.01, loglik=0.0, n=10)
    assim = Assimilation(2010, {"trade:log": m}, {"g": ("trade:log", 0.4, 0.002)})
    targets = pd.DataFrame({"group": ["g", "g", "g", "other"], "year": [2011, 2012, 2030, 2011]})
    mean, sd = assim.shift(targets)
    assert mean[:3] == pytest.approx([0.2, 0.1, 0.4 * 0.5**20])
    assert sd[0] == pytest.approx(np.sqrt(0.25 * 0.002 + 0.04 * 0.75 + 0.01))
    assert sd[0] < sd[1] < sd[2] == pytest.approx(np.sqrt(0.04 + 0.01), rel=1e-6)
    assert np.isnan(mean[3]) and np.isnan(sd[3])


def test_the_packaged_trade_residuals_are_filtered_and_less_autocorrelated(baseline):
    cal = calibrate(baseline, "none", prices=True, priors=True)
    assim = assimilate(cal, 2024)
    row = assim.autocorrelation.set_index("key").loc["trade:log"]
    assert 0 <= row["rho"] <= 0.97
    assert abs(row["acf1_after"]) < abs(row["acf1_before"])
    assert {k for k, _, _ in assim.state.values()} >= {"trade:log", "energy:log"}


def test_priors_hold_the_parameters_near_the_scenario_when_the_data_are_few(baseline):
    """Up to 2006 the trade block has a handful of values: least squares runs to the bounds."""
    free = calibrate(baseline, None, until=2006, prices=True)
    held = calibrate(baseline, None, until=2006, prices=True, priors=True)
    name = "indices.trade.half_life"
    start = held.estimates.set_index("parameter").loc[name, "start"]
    est_free = free.estimates.set_index("parameter").loc[name, "estimate"]
    est_held = held.estimates.set_index("parameter").loc[name, "estimate"]
    assert abs(np.log(est_held / start)) < 0.5 < abs(np.log(est_free / start))
    price = held.measurement.set_index("parameter").loc["price:trade:log"]
    assert price["estimate"] == pytest.approx(0.7, abs=0.25)
    assert 0 < price["se"] < 0.25
