"""The baselines: their rules, their limits, and that each wins where it should."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy import stats

from model.calibrate.baselines import (
    METHODS,
    MIN_OBS,
    Forecast,
    ar1,
    fit_ar1,
    fit_baselines,
    fit_oil_regression,
    fit_rw_drift,
    frozen_oil_path,
    known_oil_path,
    oil_regression,
    persistence,
    rw_drift,
)
from model.calibrate.scores import crps_ensemble

YEARS = np.arange(2000, 2025)
ORIGIN = 2019


def walk(seed: int, sd: float = 0.2, drift: float = 0.0) -> pd.Series:
    rng = np.random.default_rng(seed)
    return pd.Series(np.cumsum(drift + sd * rng.standard_normal(YEARS.size)), index=YEARS)


def mean_reverting_after_shock(seed: int, phi: float = 0.3, shock: float = 1.0) -> pd.Series:
    """AR(1) around 2 that takes a large innovation in the origin year, then reverts."""
    rng = np.random.default_rng(seed)
    e = rng.normal(0.0, 0.1, YEARS.size)
    e[YEARS == ORIGIN] += shock
    y = np.zeros(YEARS.size)
    for i in range(1, YEARS.size):
        y[i] = phi * y[i - 1] + e[i]
    return pd.Series(2.0 + y, index=YEARS)


def oil_world(seed: int, a: float = 1.0, b: float = 0.8) -> tuple[pd.Series, pd.Series]:
    """An oil price path and ``y = a + b log(oil) + noise``."""
    rng = np.random.default_rng(seed)
    oil = pd.Series(np.exp(rng.normal(4.0, 0.4, YEARS.size)), index=YEARS)
    return a + b * np.log(oil) + rng.normal(0.0, 0.1, YEARS.size), oil


def mean_crps(f: Forecast, y: pd.Series) -> float:
    return float(crps_ensemble(y.reindex(list(f.years)).to_numpy(), f.samples).mean())


# --------------------------------------------------------------------------- Forecast


def test_forecast_is_validated_and_read_only():
    f = Forecast("x", 2010, (1, 2), np.zeros((3, 2)), np.zeros(2), np.ones(2))
    assert f.years == (2011, 2012)
    with pytest.raises(ValueError):
        f.samples[0, 0] = 1.0
    with pytest.raises(ValueError, match="shape"):
        Forecast("x", 2010, (1, 2), np.zeros((3, 3)))
    with pytest.raises(ValueError, match="together"):
        Forecast("x", 2010, (1, 2), np.zeros((3, 2)), mean=np.zeros(2))
    with pytest.raises(ValueError, match="sd"):
        Forecast("x", 2010, (1, 2), np.zeros((3, 2)), np.zeros(2), np.array([1.0, 0.0]))
    with pytest.raises(ValueError, match="horizons"):
        Forecast("x", 2010, (0, 1), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="horizon"):
        f.draws_at(3)


def test_history_must_be_indexed_by_distinct_integer_years():
    y = walk(0)
    with pytest.raises(ValueError, match="integer years"):
        persistence(y.set_axis(y.index.astype(float)), ORIGIN, 1)
    with pytest.raises(ValueError, match="duplicate"):
        persistence(pd.concat([y, y.iloc[:1]]), ORIGIN, 1)
    with pytest.raises(TypeError, match="Series"):
        persistence(y.to_numpy(), ORIGIN, 1)


# --------------------------------------------------------------------------- persistence


def test_uncentred_persistence_is_the_last_value_plus_past_changes_at_the_lead():
    y = walk(1, drift=0.1)
    f = persistence(y, ORIGIN, 3, draws=2000, centred=False)
    hist = y.loc[:ORIGIN]
    last = hist.iloc[-1]
    for h in (1, 2, 3):
        changes = (hist.shift(-h) - hist).dropna()  # 19 changes: used as they are
        assert np.median(f.draws_at(h)) == pytest.approx(last + changes.median(), abs=2e-3)
        assert f.draws_at(h).min() >= last + changes.min() - 1e-12
        assert f.draws_at(h).max() <= last + changes.max() + 1e-12
    assert f.mean is None and f.sd is None


def test_persistence_rescales_one_year_changes_when_the_lead_has_too_few():
    y = walk(2).loc[2012:ORIGIN]  # 8 years: 3 changes 5 years apart (< 5), 7 one year apart
    d1 = y.diff().dropna().to_numpy()
    f = persistence(y, ORIGIN, 5, draws=4000, centred=False)
    q = np.quantile(f.draws_at(5) - y.iloc[-1], [0.25, 0.5, 0.75])
    q1 = np.quantile(d1, [0.25, 0.5, 0.75])
    assert q[1] == pytest.approx(5 * q1[1], abs=1e-3)
    assert q[2] - q[0] == pytest.approx(np.sqrt(5) * (q1[2] - q1[0]), rel=1e-2)


def test_persistence_has_the_last_value_as_median_and_the_spread_of_past_changes():
    y = walk(3, drift=0.3)
    f = persistence(y, ORIGIN, 5, draws=1001)
    np.testing.assert_allclose(f.median, y.loc[ORIGIN], atol=1e-12)
    np.testing.assert_allclose(
        f.samples - f.median,
        persistence(y, ORIGIN, 5, draws=1001, centred=False).samples
        - persistence(y, ORIGIN, 5, draws=1001, centred=False).median,
        atol=1e-12,
    )


def test_persistence_measures_the_lead_from_the_last_observation():
    y = walk(4).loc[:ORIGIN].drop([ORIGIN - 1, ORIGIN])  # last observed two years before
    f = persistence(y, ORIGIN, 1, draws=2000, centred=False)
    three = y.reindex(y.index + 3).to_numpy() - y.to_numpy()
    three = three[np.isfinite(three)]
    assert np.median(f.draws_at(1)) == pytest.approx(y.iloc[-1] + np.median(three), abs=2e-3)


def test_persistence_is_deterministic_and_needs_no_seed():
    y = walk(5)
    np.testing.assert_array_equal(
        persistence(y, ORIGIN, 4).samples, persistence(y, ORIGIN, 4).samples
    )


# --------------------------------------------------------------------------- the fitted models


def test_rw_drift_estimates_the_drift_as_the_mean_change():
    y = walk(6, drift=0.15)
    res = fit_rw_drift(y, ORIGIN)
    hist = y.loc[:ORIGIN]
    assert res.params[0] == pytest.approx(hist.diff().mean(), abs=1e-4)
    f = rw_drift(y, ORIGIN, 3)
    np.testing.assert_allclose(f.mean, hist.iloc[-1] + res.params[0] * np.arange(1, 4), atol=1e-8)
    np.testing.assert_allclose(f.sd, np.sqrt(res.params[1] * np.arange(1, 4)), rtol=1e-6)


def test_ar1_reverts_toward_its_mean():
    y = mean_reverting_after_shock(7)
    res = fit_ar1(y, ORIGIN)
    assert abs(res.params[1]) < 0.8
    f = ar1(y, ORIGIN, 5)
    assert np.all(np.diff(np.abs(f.mean - res.params[0])) < 0)
    assert np.all(np.diff(f.sd) > 0)


def test_gaussian_samples_match_mean_and_sd_and_follow_the_seed():
    y = walk(8)
    f = ar1(y, ORIGIN, 2, draws=20000, seed=1)
    np.testing.assert_allclose(f.samples.mean(axis=0), f.mean, atol=4 * f.sd.max() / np.sqrt(20000))
    np.testing.assert_allclose(f.samples.std(axis=0), f.sd, rtol=0.03)
    np.testing.assert_array_equal(f.samples, ar1(y, ORIGIN, 2, draws=20000, seed=1).samples)
    assert not np.array_equal(f.samples, ar1(y, ORIGIN, 2, draws=20000, seed=2).samples)


def test_state_space_models_fit_through_missing_years():
    y = walk(9, drift=0.1).loc[:ORIGIN].drop([2003, 2004, 2011, ORIGIN])
    for fit in (rw_drift, ar1):
        f = fit(y, ORIGIN, 2)
        assert f is not None and np.isfinite(f.mean).all()
    res = fit_rw_drift(y, ORIGIN)
    f = rw_drift(y, ORIGIN, 2)
    # the origin year is missing: year T + h is h + 1 steps past the last observation
    np.testing.assert_allclose(f.mean, y.iloc[-1] + res.params[0] * np.array([2, 3]), atol=1e-8)


def test_oil_regression_recovers_the_slope_and_carries_parameter_uncertainty():
    y, oil = oil_world(10)
    res = fit_oil_regression(y, ORIGIN, oil)
    assert abs(res.params["log_oil"] - 0.8) < 3 * res.bse["log_oil"]
    future = known_oil_path(oil, ORIGIN, 3)
    f = oil_regression(y, ORIGIN, 3, oil, future)
    x = np.log(future.to_numpy())
    np.testing.assert_allclose(f.mean, res.params["const"] + res.params["log_oil"] * x)
    assert np.all(f.sd > np.sqrt(res.scale))
    frame = res.get_prediction(np.column_stack([np.ones(3), x])).summary_frame(alpha=0.1)
    # statsmodels' interval takes the Student t quantile, the Gaussian predictive the normal one
    t95 = stats.t.ppf(0.95, res.df_resid)
    np.testing.assert_allclose(f.mean + t95 * f.sd, frame["obs_ci_upper"], rtol=1e-9)


def test_oil_regression_uses_no_oil_or_history_after_the_origin():
    y, oil = oil_world(11)
    later = oil.index > ORIGIN
    f = oil_regression(y, ORIGIN, 2, oil, frozen_oil_path(oil, ORIGIN, 2))
    g = oil_regression(
        y.mask(later, 99.0), ORIGIN, 2, oil.mask(later, 500.0), frozen_oil_path(oil, ORIGIN, 2)
    )
    np.testing.assert_array_equal(f.samples, g.samples)


def test_oil_paths():
    oil = pd.Series([50.0, 60.0, 70.0, 80.0], index=[2017, 2018, 2019, 2020])
    frozen = frozen_oil_path(oil.drop(2019), 2019, 2)
    assert frozen.to_dict() == {2020: 60.0, 2021: 60.0}
    assert known_oil_path(oil, 2018, 2).to_dict() == {2019: 70.0, 2020: 80.0}
    with pytest.raises(ValueError, match="2021"):
        known_oil_path(oil, 2019, 2)
    with pytest.raises(ValueError, match="2015"):
        frozen_oil_path(oil, 2015, 1)
    y, world = oil_world(12)
    with pytest.raises(ValueError, match="oil_future"):
        oil_regression(y, ORIGIN, 3, world, frozen_oil_path(world, ORIGIN, 2))
    with pytest.raises(ValueError, match="positive"):
        fit_oil_regression(y, ORIGIN, world - 100.0)


# --------------------------------------------------------------------------- limits


def test_short_histories_give_none_below_each_minimum():
    y, oil = oil_world(13)
    for n in range(2, 8):
        out = fit_baselines(y.loc[: 2000 + n - 1], ORIGIN, 2, oil=oil)
        for method in METHODS:
            assert (out[method] is None) == (n < MIN_OBS[method]), (method, n)


def test_no_variation_gives_none():
    flat = pd.Series(1.5, index=YEARS)
    assert all(f is None for f in fit_baselines(flat, ORIGIN, 3, oil=flat + 60).values())
    y, _ = oil_world(14)
    assert (
        oil_regression(y, ORIGIN, 1, pd.Series(60.0, index=YEARS), pd.Series(60.0, index=YEARS))
        is None
    )


def test_a_survey_every_other_year_still_gets_a_persistence_forecast():
    y = walk(15).loc[2001::2]  # odd years only: no one-year changes
    f = persistence(y, ORIGIN, 1)
    assert f is not None and np.isfinite(f.samples).all()


@given(st.integers(0, 10_000), st.integers(2003, 2023))
def test_persistence_ignores_everything_after_the_origin(seed, origin):
    y = walk(seed)
    junk = y.mask(y.index > origin, 1e6)
    np.testing.assert_array_equal(
        persistence(y, origin, 3, draws=50).samples, persistence(junk, origin, 3, draws=50).samples
    )


@pytest.mark.parametrize("fit", [rw_drift, ar1])
def test_fitted_models_ignore_everything_after_the_origin(fit):
    y = walk(17)
    junk = y.mask(y.index > 2012, 1e6)
    np.testing.assert_array_equal(
        fit(y, 2012, 2, draws=50).samples, fit(junk, 2012, 2, draws=50).samples
    )


def test_fit_baselines_is_deterministic_and_each_method_has_its_own_stream():
    y, oil = oil_world(16)
    a = fit_baselines(y, ORIGIN, 3, oil=oil, seed=5)
    b = fit_baselines(y, ORIGIN, 3, oil=oil, seed=5)
    c = fit_baselines(y, ORIGIN, 3, seed=5)
    assert set(a) == set(METHODS) and set(c) == set(METHODS) - {"oil_regression"}
    for method in c:
        np.testing.assert_array_equal(a[method].samples, b[method].samples)
        np.testing.assert_array_equal(a[method].samples, c[method].samples)
    # without a future path, oil is frozen at its origin value
    frozen = oil_regression(y, ORIGIN, 3, oil, frozen_oil_path(oil, ORIGIN, 3))
    np.testing.assert_allclose(a["oil_regression"].mean, frozen.mean)


# --------------------------------------------------------------------------- each wins at home


def test_on_a_random_walk_persistence_does_at_least_as_well_as_ar1():
    scores = {"persistence": [], "ar1": []}
    for seed in range(12):
        y = walk(100 + seed)
        out = fit_baselines(y, ORIGIN, 5, seed=seed)
        for method, got in scores.items():
            got.append(mean_crps(out[method], y))
    assert np.mean(scores["persistence"]) <= 1.05 * np.mean(scores["ar1"])


def test_far_from_its_mean_a_mean_reverting_series_is_better_forecast_by_ar1():
    scores = {"persistence": [], "ar1": []}
    for seed in range(8):
        y = mean_reverting_after_shock(200 + seed)
        out = fit_baselines(y, ORIGIN, 5, seed=seed)
        for method, got in scores.items():
            got.append(mean_crps(out[method], y))
    assert np.mean(scores["ar1"]) < 0.5 * np.mean(scores["persistence"])


def test_when_oil_drives_the_series_oil_regression_wins():
    scores: dict[str, list[float]] = {m: [] for m in METHODS}
    for seed in range(8):
        y, oil = oil_world(300 + seed)
        out = fit_baselines(
            y, ORIGIN, 5, oil=oil, oil_future=known_oil_path(oil, ORIGIN, 5), seed=seed
        )
        for method in METHODS:
            scores[method].append(mean_crps(out[method], y))
    means = {m: np.mean(v) for m, v in scores.items()}
    assert means["oil_regression"] < 0.5 * min(v for m, v in means.items() if m != "oil_regression")
