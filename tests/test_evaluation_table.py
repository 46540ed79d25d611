"""The tidy scores and skill tables of the evaluation."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.calibrate.baselines import Forecast, persistence
from model.calibrate.evaluation_table import (
    POOLED_COLUMNS,
    SCORE_COLUMNS,
    SKILL_COLUMNS,
    Prediction,
    forecast_predictions,
    pooled_skill_table,
    scores_table,
    skill_table,
)
from model.calibrate.scores import crps_ensemble, diebold_mariano


def prediction(
    origin: int,
    method: str,
    centre: float,
    obs: float = 0.0,
    *,
    horizon: int = 1,
    draws: int = 200,
    series: str = "s",
    mode: str = "frozen",
) -> Prediction:
    """Draws spread evenly around ``centre`` with sd about 1."""
    grid = np.linspace(-1.7, 1.7, draws)
    return Prediction("trade", series, origin, horizon, mode, method, centre + grid, obs, 0.5)


def test_scores_table_has_its_columns_and_the_scores_of_each_prediction():
    preds = [
        prediction(2005, "model", 0.2, 0.1),
        prediction(2005, "persistence", 1.0, 0.1, draws=51),
    ]
    table = scores_table(preds)
    assert tuple(table.columns) == SCORE_COLUMNS
    assert list(table["method"]) == ["model", "persistence"]
    for p, row in zip(preds, table.itertuples(), strict=True):
        assert row.crps == pytest.approx(crps_ensemble(np.array([p.obs]), p.samples[:, None])[0])
        assert row.abs_error == pytest.approx(abs(np.median(p.samples) - p.obs))
    assert list(table["covered50"]) == [True, False]
    assert list(table["covered90"]) == [True, True]
    # last = 0.5, obs = 0.1 went down; the model's median 0.2 went down, persistence's 1.0 up
    assert list(table["direction_ok"]) == [True, False]


def test_scores_table_refuses_a_cell_twice_and_is_empty_without_predictions():
    with pytest.raises(ValueError, match="more than one row"):
        scores_table([prediction(2005, "model", 0.0), prediction(2005, "model", 1.0)])
    empty = scores_table([])
    assert tuple(empty.columns) == SCORE_COLUMNS and empty.empty


def test_prediction_is_validated():
    with pytest.raises(ValueError, match="samples"):
        Prediction("trade", "s", 2005, 1, "frozen", "model", np.array([]), 0.0, 0.0)
    with pytest.raises(ValueError, match="obs"):
        Prediction("trade", "s", 2005, 1, "frozen", "model", np.zeros(3), np.nan, 0.0)


def test_forecast_predictions_take_last_and_observations_from_the_series():
    observed = pd.Series([1.0, 2.0, np.nan, 4.0, 5.0], index=[2008, 2010, 2011, 2012, 2014])
    f = Forecast("ar1", 2011, (1, 2, 3), np.arange(12.0).reshape(4, 3))
    preds = forecast_predictions(f, observed, index="trade", series="s", mode="known")
    assert [(p.horizon, p.obs, p.last) for p in preds] == [(1, 4.0, 2.0), (3, 5.0, 2.0)]
    np.testing.assert_array_equal(preds[1].samples, [2.0, 5.0, 8.0, 11.0])
    with pytest.raises(ValueError, match="no observation up to"):
        forecast_predictions(f, observed.loc[2012:], index="trade", series="s", mode="known")


def scores_for_skill() -> pd.DataFrame:
    rng = np.random.default_rng(0)
    preds = []
    for origin in rng.permutation(np.arange(2005, 2013)):  # any order in, time order used
        obs = float(rng.normal())
        preds.append(prediction(origin, "model", obs + 0.3 * rng.normal(), obs, horizon=2))
        if origin != 2008:  # the baseline could not be fitted at one origin
            preds.append(prediction(origin, "rw_drift", obs + 1.5 * rng.normal(), obs, horizon=2))
        if origin < 2007:  # and this one only twice
            preds.append(prediction(origin, "ar1", obs, obs, horizon=2))
    return scores_table(preds)


def test_skill_table_pairs_the_model_with_each_baseline_on_common_origins():
    scores = scores_for_skill()
    table = skill_table(scores)
    assert tuple(table.columns) == SKILL_COLUMNS
    assert list(table["baseline"]) == ["rw_drift", "ar1"]
    rw = table.iloc[0]
    mine = scores[scores["method"] == "model"].set_index("origin")["crps"].drop(2008)
    base = scores[scores["method"] == "rw_drift"].set_index("origin")["crps"]
    assert rw["n"] == 7
    assert rw["skill"] == pytest.approx(1 - mine.mean() / base.mean())
    dm = diebold_mariano(mine.sort_index(), base.sort_index(), 2)
    assert rw["dm_stat"] == pytest.approx(dm.statistic) and rw["dm_pvalue"] == pytest.approx(
        dm.pvalue
    )
    assert rw["skill"] > 0 and rw["dm_stat"] < 0  # the model is closer, and the test says so
    ar = table.iloc[1]
    assert ar["n"] == 2 and np.isnan(ar["dm_stat"]) and ar["skill"] < 0


def test_skill_table_needs_the_model_and_unique_cells():
    scores = scores_for_skill()
    with pytest.raises(ValueError, match="relsim"):
        skill_table(scores, model="relsim")
    with pytest.raises(ValueError, match="more than one row"):
        skill_table(pd.concat([scores, scores.iloc[:1]]))
    with pytest.raises(ValueError, match="columns"):
        skill_table(scores.drop(columns="crps"))


def test_a_no_change_forecast_gets_the_direction_right_only_when_nothing_changed():
    y = pd.Series(np.cumsum(np.random.default_rng(1).normal(0, 0.2, 20)), index=range(2000, 2020))
    f = persistence(y, 2014, 2, draws=1000)
    moved = scores_table(forecast_predictions(f, y, index="trade", series="s", mode="known"))
    assert not moved["direction_ok"].any()
    still = y.copy()
    still.loc[2015:] = y.loc[2014]
    stayed = scores_table(forecast_predictions(f, still, index="trade", series="s", mode="known"))
    assert stayed["direction_ok"].all()


def test_pooled_skill_pairs_cells_across_series_and_tests_the_mean_of_each_origin():
    rng = np.random.default_rng(4)
    preds = []
    for series, spread in (("a", 0.3), ("b", 0.6), ("c", 0.2)):
        for origin in range(2005, 2013):
            obs = float(rng.normal())
            preds.append(
                prediction(origin, "model", obs + spread * rng.normal(), obs, series=series)
            )
            if not (series == "b" and origin == 2006):  # one baseline forecast missing
                preds.append(
                    prediction(origin, "persistence", obs + rng.normal(), obs, series=series)
                )
    scores = scores_table(preds)
    table = pooled_skill_table(scores, {"a": "trade:log", "b": "trade:log"})  # c in no pool
    assert tuple(table.columns) == POOLED_COLUMNS
    row = table.iloc[0]
    assert (row["key"], row["baseline"], row["n"], row["n_series"]) == (
        "trade:log",
        "persistence",
        15,
        2,
    )
    s = scores[scores["series"].isin(["a", "b"])].set_index(["series", "origin", "method"])["crps"]
    both = s.unstack("method").dropna()
    assert row["skill"] == pytest.approx(1 - both["model"].mean() / both["persistence"].mean())
    by_origin = both.groupby(level="origin").mean()
    dm = diebold_mariano(by_origin["model"], by_origin["persistence"], 1)
    assert row["dm_stat"] == pytest.approx(dm.statistic)
    assert row["dm_pvalue"] == pytest.approx(dm.pvalue)
    assert row["skill"] > 0 and row["dm_stat"] < 0
