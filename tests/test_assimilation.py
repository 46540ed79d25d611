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


#: An AR(1) deviation's persistence, noise variances and a seed for its data.
AR1_CASES = {
    "rho": st.floats(0.0, 0.95),
    "q": st.floats(0.01, 2.0),
    "r": st.floats(0.01, 2.0),
    "seed": st.integers(0, 2**16),
}


@given(**AR1_CASES)
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


@given(**AR1_CASES)
def test_a_deviation_shared_by_several_series_agrees_with_statsmodels(rho, q, r, seed):
    """Three series observing one AR(1) state, with gaps: statsmodels' general state space."""
    from statsmodels.tsa.statespace.mlemodel import MLEModel

    rng = np.random.default_rng(seed)
    Z = rng.normal(size=(20, 3))
    Z[rng.random((20, 3)) < 0.4] = np.nan
    mod = MLEModel(Z, k_states=1)
    mod["design"] = np.ones((3, 1))
    mod["obs_cov"] = np.eye(3) * r
    mod["transition"] = np.array([[rho]])
    mod["selection"] = np.array([[1.0]])
    mod["state_cov"] = np.array([[q]])
    mod.ssm.initialize_stationary()
    mine = kalman_filter(Z, rho, q, r)
    assert mine.loglik == pytest.approx(mod.ssm.loglike(), rel=1e-9, abs=1e-9)
    res = mod.ssm.filter()
    assert mine.mean == pytest.approx(res.filtered_state[0, -1], abs=1e-9)
    assert mine.var == pytest.approx(res.filtered_state_cov[0, 0, -1], rel=1e-9)
    one, alone = kalman_filter(Z[:, :1], rho, q, r), kalman_filter(Z[:, 0], rho, q, r)
    assert (one.loglik, one.mean, one.var) == (alone.loglik, alone.mean, alone.var)


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
    shared = assim.autocorrelation.set_index("key").loc["trade:log"]
    assert 0.5 <= shared["rho"] <= 0.97  # the deviation common to the trade series persists
    assert {k for k, _, _ in assim.state.values()} >= {"trade:log", "energy:log"}
    trade = {g: v for g, v in assim.state.items() if v[0] == "trade:log"}
    assert len(trade) > 3 and len(set(trade.values())) == 1  # one deviation shared by the series
    apart = assimilate(cal, 2024, shared=False)
    assert len({v for v in apart.state.values() if v[0] == "trade:log"}) > 1
    row = apart.autocorrelation.set_index("key").loc["trade:log"]
    assert abs(row["acf1_after"]) < abs(row["acf1_before"]) / 3


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


def test_parameter_draws_follow_the_fit_covariance(baseline):
    from model.calibrate.uncertainty import measurement_shifts, model_parameter_draws

    cal = calibrate(baseline, None, until=2016, prices=True, priors=True)
    rng = np.random.default_rng(0)
    draws = model_parameter_draws(cal, 4000, rng)
    est = cal.estimates[cal.estimates["fitted"]].set_index("parameter")
    half = est.loc["indices.trade.half_life"]
    j = [p.name for p in cal.params].index("indices.trade.half_life")
    assert np.median(draws[:, j]) == pytest.approx(half["estimate"], rel=0.05)
    assert (draws[:, j] >= half["ci_low"] * 0.999).mean() > 0.95  # inside the bounds and interval
    sanction = [p.name for p in cal.params].index("events.scale.russian-sanctions-2015")
    se = est.loc["events.scale.russian-sanctions-2015", "se"]
    assert draws[:, sanction].std() == pytest.approx(se, rel=0.1)
    # measurement: the shift of an offset-only row has the offset's s.e. as its s.d.
    row = cal.obs.frame[cal.obs.frame["group"] == "trade_total|ru_fcs"].iloc[[0]]
    x = np.full((4000, 1), 50.0)  # at the centre, the slope adds nothing
    shifts = measurement_shifts(cal, row, x, np.zeros(1), rng)
    m = cal.measurement.set_index("parameter").loc["offset:trade_total|ru_fcs"]
    assert shifts.std() == pytest.approx(m["se"], rel=0.1)
    assert shifts.mean() == pytest.approx(0.0, abs=4 * m["se"] / np.sqrt(4000) * 3)


def test_the_calibrated_scenario_can_carry_the_parameters_uncertainty(baseline):
    import tomllib

    import model

    from .conftest import SCENARIOS

    cal = calibrate(baseline, None, prices=True, priors=True)
    data = tomllib.loads(cal.to_toml(extends="baseline.toml", uncertain=True))
    half = data["indices"]["trade"]["half_life"]
    cov = cal.info["covariance"]
    assert half["dist"] == "lognormal"
    name = "indices.trade.half_life"
    assert half["sigma"] == pytest.approx(np.sqrt(cov.loc[name, name]), rel=1e-3)
    scale = data["events"]["scale"]["russian-sanctions-2015"]
    est = cal.estimates.set_index("parameter").loc["events.scale.russian-sanctions-2015"]
    assert scale["median"] == pytest.approx(est["estimate"], rel=1e-3)
    assert scale["sigma"] == pytest.approx(est["se"] / est["estimate"], rel=1e-2)
    plain = tomllib.loads(cal.to_toml(extends="baseline.toml"))
    assert isinstance(plain["indices"]["trade"]["half_life"], float)

    def band(name: str) -> float:
        res = model.simulate(model.load_scenario(SCENARIOS / f"{name}.toml"), 60, seed=1)
        q = res.quantiles[res.quantiles["indicator"] == "trade"]
        q = q[q["date"].dt.year == 2023]
        return float((q["q95"] - q["q05"]).mean())

    assert band("calibrated-uncertain") > 1.5 * band("baseline")
