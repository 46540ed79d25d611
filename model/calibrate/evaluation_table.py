"""The tidy tables of the rolling-origin evaluation: one score row per forecast, one skill row per
comparison.

This module owns the layout of the evaluation's results. A :class:`Prediction`
is one predictive distribution (draws of ``y``) of one observed series for one
target year, made at an origin, in a mode, by a method (the model or a
baseline of :mod:`model.baselines`), with the observation it is scored
against. :func:`scores_table` scores them (:mod:`model.scores`) into one row
each; :func:`skill_table` compares the model with each baseline, paired on the
same series and origins. Every figure or summary of the evaluation is a
group-by of these two tables.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from .baselines import METHODS, Forecast
from .scores import abs_error_median, coverage, crps_ensemble, diebold_mariano, direction_ok, skill

__all__ = [
    "DIRECTION_TOL",
    "POOLED_COLUMNS",
    "SCORE_COLUMNS",
    "SKILL_COLUMNS",
    "Prediction",
    "forecast_predictions",
    "pooled_skill_table",
    "scores_table",
    "skill_table",
]

#: The columns of :func:`scores_table`, in order.
SCORE_COLUMNS: Final[tuple[str, ...]] = (
    "index",
    "series",
    "origin",
    "horizon",
    "mode",
    "method",
    "crps",
    "abs_error",
    "covered50",
    "covered90",
    "direction_ok",
)
#: The columns of :func:`skill_table`, in order.
SKILL_COLUMNS: Final[tuple[str, ...]] = (
    "index",
    "series",
    "horizon",
    "mode",
    "baseline",
    "skill",
    "dm_stat",
    "dm_pvalue",
    "n",
)
#: The columns of :func:`pooled_skill_table`, in order.
POOLED_COLUMNS: Final[tuple[str, ...]] = (
    "key",
    "horizon",
    "mode",
    "baseline",
    "skill",
    "dm_stat",
    "dm_pvalue",
    "n",
    "n_series",
)
#: Predicted or observed changes no larger than this count as no change in ``direction_ok``.
DIRECTION_TOL: Final[float] = 1e-9
_CELL: Final[list[str]] = ["index", "series", "origin", "horizon", "mode", "method"]
_GROUP: Final[list[str]] = ["index", "series", "horizon", "mode"]


@dataclass(frozen=True, eq=False)
class Prediction:
    """One predictive distribution to be scored.

    ``index`` is the model index the series measures, ``series`` its name;
    the target year is ``origin + horizon``. ``samples`` (shape ``(n_draws,)``)
    are draws of ``y`` in that year, ``obs`` the observed ``y``, and ``last``
    the last value observed up to the origin (for the direction of change).
    """

    index: str
    series: str
    origin: int
    horizon: int
    mode: str
    method: str
    samples: np.ndarray
    obs: float
    last: float

    def __post_init__(self) -> None:
        samples = np.array(self.samples, dtype=float)
        if samples.ndim != 1 or samples.size == 0 or not np.isfinite(samples).all():
            raise ValueError(
                f"'samples' must be a non-empty 1-D array of finite draws "
                f"(got shape {samples.shape}) for {self.series} {self.origin}"
                f"+{self.horizon} {self.method}"
            )
        if not (np.isfinite(self.obs) and np.isfinite(self.last)):
            raise ValueError(
                f"'obs' and 'last' must be finite (got {self.obs}, {self.last}) "
                f"for {self.series} {self.origin}+{self.horizon} {self.method}"
            )
        if self.horizon < 1:
            raise ValueError(f"'horizon' must be >= 1 (got {self.horizon})")
        samples.setflags(write=False)
        object.__setattr__(self, "samples", samples)


def forecast_predictions(
    forecast: Forecast, observed: pd.Series, *, index: str, series: str, mode: str
) -> list[Prediction]:
    """A forecast's predictions for the target years that were observed.

    ``observed`` is the whole observed series (``y`` by integer year): its
    last value up to the origin is ``last``, its values in the target years
    are the observations; target years without one give no prediction.
    """
    y = observed.astype(float).dropna().sort_index()
    before = y[y.index <= forecast.origin]
    if before.empty:
        raise ValueError(f"{series!r} has no observation up to the origin {forecast.origin}")
    last = float(before.iloc[-1])
    return [
        Prediction(
            index,
            series,
            forecast.origin,
            h,
            mode,
            forecast.method,
            forecast.draws_at(h),
            float(y[year]),
            last,
        )
        for h, year in zip(forecast.horizons, forecast.years, strict=True)
        if year in y.index
    ]


def _score_block(block: list[Prediction]) -> dict[str, np.ndarray]:
    """Scores of predictions with the same number of draws, computed together."""
    samples = np.column_stack([p.samples for p in block])
    obs = np.array([p.obs for p in block])
    last = np.array([p.last for p in block])
    return {
        "crps": crps_ensemble(obs, samples),
        "abs_error": abs_error_median(obs, samples),
        "covered50": coverage(obs, samples, 0.5),
        "covered90": coverage(obs, samples, 0.9),
        "direction_ok": direction_ok(obs, last, np.median(samples, axis=0), DIRECTION_TOL),
    }


def scores_table(predictions: Iterable[Prediction]) -> pd.DataFrame:
    """One row of scores per prediction, columns :data:`SCORE_COLUMNS`.

    ``crps`` is the exact CRPS of the draws, ``abs_error`` the absolute error
    of their median, ``covered50``/``covered90`` whether the observation is in
    the central 50 % / 90 % interval, ``direction_ok`` whether the median
    moves from ``last`` the way the observation did (changes within
    :data:`DIRECTION_TOL` count as none, so a no-change forecast is right
    only when nothing changed). Sorted by the cell keys;
    a cell given twice is an error.
    """
    preds = list(predictions)
    blocks: dict[int, list[Prediction]] = {}
    for p in preds:
        blocks.setdefault(p.samples.size, []).append(p)
    frames = []
    for block in blocks.values():
        keys = pd.DataFrame([[getattr(p, c) for c in _CELL] for p in block], columns=_CELL)
        frames.append(keys.assign(**_score_block(block)))
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in SCORE_COLUMNS})
    table = pd.concat(frames, ignore_index=True)
    _unique(table, _CELL, "scores")
    return table.sort_values(_CELL, ignore_index=True)[list(SCORE_COLUMNS)]


def _unique(table: pd.DataFrame, keys: list[str], what: str) -> None:
    dup = table.duplicated(keys, keep=False)
    if dup.any():
        first = table.loc[dup, keys].iloc[0].to_dict()
        raise ValueError(f"the {what} table has more than one row for {first}")


def _baselines(methods: Iterable[str], model: str) -> list[str]:
    """The methods other than the model: the known baselines first, in their order."""
    others = set(methods) - {model}
    return [m for m in METHODS if m in others] + sorted(others - set(METHODS))


def skill_table(scores: pd.DataFrame, model: str = "model") -> pd.DataFrame:
    """The model against each baseline, columns :data:`SKILL_COLUMNS`.

    For every (index, series, horizon, mode) and baseline, the CRPS of the
    model and of the baseline are paired on the origins both have scored:
    ``skill`` is ``1 - mean(model) / mean(baseline)`` (> 0: the model is
    better), ``dm_stat``/``dm_pvalue`` the Diebold–Mariano test of the loss
    differential ``crps_model - crps_baseline`` over those origins in time
    order (negative: the model is better; NaN for fewer than 3 origins),
    ``n`` the number of origins paired.
    """
    missing = set(_CELL + ["crps"]) - set(scores.columns)
    if missing:
        raise ValueError(f"'scores' lacks the columns {sorted(missing)}")
    _unique(scores, _CELL, "scores")
    if model not in set(scores["method"]):
        raise ValueError(
            f"no scores for the model method {model!r} (methods: {sorted(set(scores['method']))})"
        )
    ok = scores[np.isfinite(scores["crps"].to_numpy(float))]
    mine = ok[ok["method"] == model]
    rows = []
    for base in _baselines(scores["method"], model):
        paired = mine.merge(ok[ok["method"] == base], on=_GROUP + ["origin"], suffixes=("", "_b"))
        for key, g in paired.sort_values("origin").groupby(_GROUP, sort=True):
            dm = diebold_mariano(g["crps"], g["crps_b"], int(key[2]))
            rows.append(
                (*key, base, skill(g["crps"], g["crps_b"]), dm.statistic, dm.pvalue, len(g))
            )
    table = pd.DataFrame(rows, columns=list(SKILL_COLUMNS))
    return table.astype({"n": int}).sort_values(
        _GROUP + ["baseline"], ignore_index=True, key=_baseline_order(scores, model)
    )


def _baseline_order(scores: pd.DataFrame, model: str):
    """Sort key: the baseline column in :func:`_baselines` order, the others as they are."""
    order = {m: i for i, m in enumerate(_baselines(scores["method"], model))}

    def key(col: pd.Series) -> pd.Series:
        return col.map(order) if col.name == "baseline" else col

    return key


def pooled_skill_table(
    scores: pd.DataFrame, pools: Mapping[str, str], model: str = "model"
) -> pd.DataFrame:
    """The model against each baseline over the series of a pool, columns :data:`POOLED_COLUMNS`.

    ``pools`` maps each series to its pool (``key``, e.g. ``trade:log``: series
    whose scores are in the same units); series not in it are left out. For
    every pool, horizon, mode and baseline, the cells (series and origins)
    both methods scored are paired: ``skill`` is ``1 - mean(model) /
    mean(baseline)`` over them, ``n`` their number and ``n_series`` the series
    among them. The Diebold–Mariano test runs on the mean loss differential
    of each origin, in time order (the series of one origin are not
    independent draws: they share the year's events).
    """
    _unique(scores, _CELL, "scores")
    ok = scores[np.isfinite(scores["crps"].to_numpy(float))]
    ok = ok.assign(key=ok["series"].map(pools)).dropna(subset=["key"])
    mine = ok[ok["method"] == model]
    rows = []
    for base in _baselines(scores["method"], model):
        paired = mine.merge(
            ok[ok["method"] == base], on=_GROUP + ["origin", "key"], suffixes=("", "_b")
        )
        for cell, g in paired.groupby(["key", "horizon", "mode"], sort=True):
            rows.append((*cell, base, *_pooled(g, int(cell[1]))))
    table = pd.DataFrame(rows, columns=list(POOLED_COLUMNS))
    return table.astype({"n": int, "n_series": int}).sort_values(
        ["key", "horizon", "mode", "baseline"],
        ignore_index=True,
        key=_baseline_order(scores, model),
    )


def _pooled(g: pd.DataFrame, horizon: int) -> tuple[float, float, float, int, int]:
    """Skill, DM statistic and p-value (on the mean of each origin), cells and series of a pool."""
    by_origin = g.groupby("origin", sort=True)[["crps", "crps_b"]].mean()
    dm = diebold_mariano(by_origin["crps"], by_origin["crps_b"], horizon)
    return (
        skill(g["crps"], g["crps_b"]),
        dm.statistic,
        dm.pvalue,
        len(g),
        g["series"].nunique(),
    )
