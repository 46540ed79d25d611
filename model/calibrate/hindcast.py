"""Hindcasts: the model fitted on the years up to a cut-off and scored on the years after it.

:func:`hindcast` fits on the observations up to a year (:func:`.fit.calibrate`)
and scores the observations after it: per series RMSE, correlation,
direction of change, and, from an ensemble with noise, the coverage of the
50 % and 90 % predictive intervals and the CRPS.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError
from ..indices import STANDARD
from ..results import Result
from ..scenario import Scenario
from .fit import Calibration, calibrate
from .observations import FAMILIES, TABLE_COLUMNS, Observations, averaging_matrix, for_scenario
from .scores import crps_sample, point_prediction, predictive_draws

__all__ = ["Hindcast", "hindcast"]


@dataclass
class Hindcast:
    """The outcome of :func:`hindcast`: the fit on the early years and the scores on the later ones.

    ``scores``: one row per series (``level = "series"``) and per index and
    family (``level = "key"``): ``n, rmse, rmse_start, rmse_persistence,
    corr, direction, n_direction, cover50, cover90, crps``. ``predictions``:
    one row per scored observation with the point prediction and the
    predictive quantiles. ``unscored``: later observations of series with no
    observation up to the cut-off (their offset cannot be fitted).
    """

    until: int
    calibration: Calibration
    start: Calibration
    ensemble: Result
    scores: pd.DataFrame
    predictions: pd.DataFrame
    unscored: pd.DataFrame


def hindcast(
    scenario: Scenario,
    until: int,
    fit: str | Iterable[str] | None = None,
    *,
    observed: pd.DataFrame | Observations | None = None,
    replicates: int = 100,
    seed: int | None = None,
    trend: Sequence[str] | None = None,
    draws: int = 20,
) -> Hindcast:
    """Fit on the observations up to ``until`` and score those after it.

    The model parameters ``fit`` and the measurement parameters are fitted on
    the early years (:func:`calibrate`); the calibrated scenario then replays
    the whole record, so the later years' events are known: the hindcast
    tests the dynamics and the measurement model, not the forecasting of
    events. The same measurement fit with the scenario's own values, nothing
    fitted (``rmse_start``), and carrying each series' last observed value forward
    (``rmse_persistence``) are the benchmarks.
    """
    obs = for_scenario(observed, scenario)
    later = _later(obs, until)
    cal = calibrate(scenario, fit, observed=obs, until=until, trend=trend)
    start = (
        calibrate(scenario, "none", observed=obs, until=until, trend=trend) if cal.params else cal
    )
    test, unscored = _scored(later, cal, until)
    # the ensemble: the calibrated scenario with its noise, over the same record dates
    ens = cal.ensemble(replicates, seed)
    sample = _predictive_sample(ens, cal, test, seed, draws)
    pred = _predictions(test, cal, start, sample)
    scores = _scores(pred, cal)
    return Hindcast(until, cal, start, ens, scores, pred, unscored)


def _later(obs: Observations, until: int) -> Observations:
    """The observations after ``until``; none is an error of ``until``."""
    later = obs.after(until)
    if len(later) == 0:
        raise ArgumentError(
            "until",
            f"no observations after {until} to score (the data end in "
            f"{int(obs.frame['year'].max())})",
        )
    return later


def _scored(later: Observations, cal: Calibration, until: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The later observations that can be scored, and the count of those that cannot by series.

    A later observation can be scored when its series (its group) was
    observed up to the cut-off, so its offset was fitted.
    """
    seen = set(cal.fit.offsets)
    test = later.frame[
        later.frame["group"].isin(seen) & later.frame["key"].isin(cal.fit.slopes)
    ].reset_index(drop=True)
    unscored = (
        later.frame[~later.frame.index.isin(later.frame.index[later.frame["group"].isin(seen)])]
        .groupby(["series", "indicator", "family"], as_index=False)
        .size()
        .rename(columns={"size": "n"})
    )
    if test.empty:
        raise ArgumentError(
            "until", f"none of the series observed after {until} was observed up to it"
        )
    return test, unscored


def _predictive_sample(
    ens: Result, cal: Calibration, test: pd.DataFrame, seed: int | None, draws: int
) -> np.ndarray:
    """Draws of the ``test`` observations from the ensemble through the fitted measurement model."""
    M = averaging_matrix(test, ens.dates)
    col = np.array([ens.indicators.index(k) for k in test["indicator"]], dtype=int)
    x_ens = np.einsum("it,rti->ri", M, ens.all_paths()[:, :, col])
    meas = cal.model_fit
    eta_ens = np.vstack([meas.linear_predictor(cal.fit, test, xr) for xr in x_ens])
    rng = np.random.default_rng(0 if seed is None else seed)
    return predictive_draws(test, eta_ens, cal.fit.sigma, draws=draws, rng=rng)


def _predictions(
    test: pd.DataFrame, cal: Calibration, start: Calibration, sample: np.ndarray
) -> pd.DataFrame:
    """One row per scored observation: the point predictions, quantiles and CRPS.

    The point predictions come from the deterministic replays (calibrated and
    as given), the quantiles and the CRPS from the predictive ``sample``.
    """
    M_det = averaging_matrix(test, cal.replay.dates)
    col_det = np.array([cal.replay.indicators.index(k) for k in test["indicator"]], dtype=int)
    x_det = np.einsum("it,ti->i", M_det, cal.replay.all_paths()[0][:, col_det])
    eta = cal.model_fit.linear_predictor(cal.fit, test, x_det)
    x_start = np.einsum("it,ti->i", M_det, start.replay.all_paths()[0][:, col_det])
    eta_start = start.model_fit.linear_predictor(start.fit, test, x_start)
    pred = test[list(TABLE_COLUMNS)].copy()
    pred["x"] = x_det
    pred["predicted"] = point_prediction(test, eta)
    pred["start"] = point_prediction(test, eta_start)
    pred["persistence"] = _persistence(cal, test)
    qs = np.quantile(sample, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    for name, q in zip(["q05", "q25", "q50", "q75", "q95"], qs):
        pred[name] = q
    pred["crps"] = crps_sample(sample, test["y"].to_numpy(float))
    return pred


def _persistence(cal: Calibration, test: pd.DataFrame) -> np.ndarray:
    """Each series' last value up to the cut-off carried forward (same frequency if any)."""
    last: dict[tuple, tuple[float, float]] = {}
    for row in cal.residuals.sort_values("date", kind="stable").itertuples(index=False):
        last[(row.group, row.frequency)] = last[(row.group, None)] = (row.y, row.exposure)
    out = np.full(len(test), np.nan)
    for i, row in enumerate(test.itertuples(index=False)):
        got = last.get((row.group, row.frequency)) or last.get((row.group, None))
        if got is not None:
            y, expo = got
            out[i] = y * row.exposure / expo if row.family == "count" else y
    return out


def _direction(pred: pd.DataFrame, cal: Calibration) -> np.ndarray:
    """Per scored row: 1 if the model got the sign of the change since the previous value, else 0.

    The previous value may be the last one before the cut-off (its fitted
    value is then the model's). NaN for a first value or an unchanged one.
    """
    train = cal.residuals[["date", "group", "frequency", "y", "fitted"]].rename(
        columns={"fitted": "predicted"}
    )
    both = pd.concat(
        [
            train.assign(pos=-1),
            pred[["date", "group", "frequency", "y", "predicted"]].assign(pos=np.arange(len(pred))),
        ],
        ignore_index=True,
    )
    both = both.sort_values(["group", "frequency", "date"], kind="stable")
    out = np.full(len(pred), np.nan)
    for _, g in both.groupby(["group", "frequency"], sort=False):
        y = g["y"].to_numpy(float)
        p = g["predicted"].to_numpy(float)
        pos = g["pos"].to_numpy(int)
        for i in range(1, len(g)):
            if pos[i] >= 0 and y[i] != y[i - 1]:
                out[pos[i]] = float(np.sign(y[i] - y[i - 1]) == np.sign(p[i] - p[i - 1]))
    return out


def _scores(pred: pd.DataFrame, cal: Calibration) -> pd.DataFrame:
    """One row of scores per index and family (``level = "key"``) and per series in it."""
    pred = pred.reset_index(drop=True)
    pred = pred.assign(hit=_direction(pred, cal))
    rows = []
    for key in sorted(pred["key"].unique(), key=_key_order):
        g = pred[pred["key"] == key]
        rows.append(_score_row("key", key, key, g))
        for series, s in g.groupby("group", sort=True):
            rows.append(_score_row("series", series, key, s))
    return pd.DataFrame(rows)


def _key_order(key: str) -> tuple[int, int]:
    """Keys in the order of the indices, then of the families."""
    return (
        STANDARD.index(key.split(":")[0]) if key.split(":")[0] in STANDARD else 9,
        FAMILIES.index(key.split(":")[1]),
    )


def _score_row(level: str, name: str, key: str, g: pd.DataFrame) -> dict[str, Any]:
    """The scores of the predictions ``g`` (one series, or all series of a key)."""
    y = g["y"].to_numpy(float)
    p = g["predicted"].to_numpy(float)
    pers = g["persistence"].to_numpy(float)
    ok = np.isfinite(pers)
    inside50 = (y >= g["q25"]) & (y <= g["q75"])
    inside90 = (y >= g["q05"]) & (y <= g["q95"])
    hit = g["hit"].dropna()
    return {
        "level": level,
        "name": name,
        "key": key,
        "n": len(g),
        "rmse": float(np.sqrt(np.mean((y - p) ** 2))),
        "rmse_start": float(np.sqrt(np.mean((y - g["start"].to_numpy(float)) ** 2))),
        "rmse_persistence": float(np.sqrt(np.mean((y[ok] - pers[ok]) ** 2)))
        if ok.any()
        else np.nan,
        "corr": _within_corr(g, y, p),
        "direction": float(hit.mean()) if len(hit) else np.nan,
        "n_direction": len(hit),
        "cover50": float(inside50.mean()),
        "cover90": float(inside90.mean()),
        "crps": float(g["crps"].mean()),
    }


def _within_corr(g: pd.DataFrame, y: np.ndarray, p: np.ndarray) -> float:
    """Correlation of the observed and predicted values' deviations from their series' means."""
    within = g.groupby("group")["y"].transform("mean").to_numpy(float)
    within_p = g.groupby("group")["predicted"].transform("mean").to_numpy(float)
    dy, dp = y - within, p - within_p
    return (
        float(np.corrcoef(dy, dp)[0, 1])
        if len(g) >= 3 and dy.std() > 0 and dp.std() > 0
        else np.nan
    )
