"""Naive forecasts of an observed series, the yardsticks the model is scored against.

This module owns the baselines of the rolling-origin evaluation. Each one is
fitted on the history of one observed series up to an origin year ``T`` (on
the transformed scale ``y`` of :mod:`model.measurement`: log of annualised
dollar values or volumes, logit of survey shares) and gives, for the horizons
``h``, a predictive distribution of ``y`` in year ``T + h`` as a
:class:`Forecast`.

``persistence``
    No change from the last observed value, spread like the past changes of
    the series at the same lead (see :func:`persistence`). Needs at least
    ``MIN_OBS["persistence"]`` observations whose changes are not all equal.
``rw_drift``
    Random walk with drift, ``ARIMA(0, 1, 0)`` with a drift term (statsmodels),
    Gaussian predictive from its Kalman filter.
``ar1``
    AR(1) with a constant, ``ARIMA(1, 0, 0)``, Gaussian predictive.
``oil_regression``
    OLS of ``y`` on a constant and the log of the Brent price, Gaussian
    predictive including the uncertainty of the coefficients; the future oil
    path is an argument (the actual path, or :func:`frozen_oil_path`).

A history is a ``pd.Series`` of ``y`` indexed by integer year. Years after the
origin are ignored, and so are missing values; missing years are allowed (the
state-space models see them as gaps to filter through). A method that cannot
be fitted (fewer observations than ``MIN_OBS``, or no variation) gives
``None``. Everything is deterministic given the seed.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Final

import numpy as np
import pandas as pd
import statsmodels.api as sm
from statsmodels.regression.linear_model import RegressionResultsWrapper
from statsmodels.tools.sm_exceptions import ConvergenceWarning, EstimationWarning, ValueWarning
from statsmodels.tsa.arima.model import ARIMA, ARIMAResultsWrapper

__all__ = [
    "METHODS",
    "MIN_OBS",
    "Forecast",
    "ar1",
    "fit_ar1",
    "fit_baselines",
    "fit_oil_regression",
    "fit_rw_drift",
    "frozen_oil_path",
    "known_oil_path",
    "oil_regression",
    "persistence",
    "rw_drift",
]

#: The baselines, in the order they are reported.
METHODS: Final[tuple[str, ...]] = ("persistence", "rw_drift", "ar1", "oil_regression")
#: Fewest observations (up to the origin) each method is fitted on; below it gives ``None``.
MIN_OBS: Final[Mapping[str, int]] = MappingProxyType(
    {"persistence": 3, "rw_drift": 4, "ar1": 6, "oil_regression": 5}
)
#: Persistence uses the changes at the forecast's own lead when there are at least this many.
MIN_LEAD_CHANGES: Final[int] = 5
#: ...and otherwise rescales those of the shortest lead that has at least this many.
MIN_BASE_CHANGES: Final[int] = 2
#: Draws of each predictive distribution unless told otherwise.
DRAWS: Final[int] = 1000
_QUIET: Final[tuple[type[Warning], ...]] = (ConvergenceWarning, EstimationWarning, ValueWarning)


@dataclass(frozen=True, eq=False)
class Forecast:
    """A predictive distribution of ``y`` in the years ``origin + h`` for ``h`` in ``horizons``.

    ``samples[d, j]`` is draw ``d`` for horizon ``horizons[j]``, shape
    ``(n_draws, len(horizons))``; ``mean`` and ``sd`` (shape ``(len(horizons),)``)
    are given when the distribution is Gaussian. The arrays are read-only.
    """

    method: str
    origin: int
    horizons: tuple[int, ...]
    samples: np.ndarray
    mean: np.ndarray | None = None
    sd: np.ndarray | None = None

    def __post_init__(self) -> None:
        hs = _horizons(self.horizons)
        samples = np.array(self.samples, dtype=float)
        if samples.ndim != 2 or samples.shape[1] != len(hs) or samples.shape[0] < 1:
            raise ValueError(
                f"'samples' must have shape (n_draws, {len(hs)}) (got {samples.shape})"
            )
        if not np.isfinite(samples).all():
            raise ValueError("'samples' must be finite")
        object.__setattr__(self, "horizons", hs)
        object.__setattr__(self, "samples", _read_only(samples))
        if (self.mean is None) != (self.sd is None):
            raise ValueError("'mean' and 'sd' go together: give both or neither")
        if self.mean is not None:
            mean, sd = np.array(self.mean, float), np.array(self.sd, float)
            if mean.shape != (len(hs),) or sd.shape != (len(hs),):
                raise ValueError(
                    f"'mean' and 'sd' must have shape ({len(hs)},) "
                    f"(got {mean.shape} and {sd.shape})"
                )
            if not (np.isfinite(mean).all() and np.isfinite(sd).all() and (sd > 0).all()):
                raise ValueError(f"'mean' must be finite and 'sd' finite and > 0 (got sd={sd})")
            object.__setattr__(self, "mean", _read_only(mean))
            object.__setattr__(self, "sd", _read_only(sd))

    @property
    def years(self) -> tuple[int, ...]:
        """The target years ``origin + h``."""
        return tuple(self.origin + h for h in self.horizons)

    @property
    def median(self) -> np.ndarray:
        """Median of the draws at each horizon, shape ``(len(horizons),)``."""
        return np.median(self.samples, axis=0)

    def draws_at(self, horizon: int) -> np.ndarray:
        """The draws for one horizon, shape ``(n_draws,)``."""
        if horizon not in self.horizons:
            raise ValueError(f"'horizon' must be one of {self.horizons} (got {horizon})")
        return self.samples[:, self.horizons.index(horizon)]


# --------------------------------------------------------------------------- inputs


def _read_only(a: np.ndarray) -> np.ndarray:
    a.setflags(write=False)
    return a


def _horizons(horizons: int | Sequence[int]) -> tuple[int, ...]:
    """``H`` -> ``(1, ..., H)``; a sequence of positive integers -> itself, sorted."""
    if isinstance(horizons, int | np.integer):
        hs: tuple[int, ...] = tuple(range(1, int(horizons) + 1))
    elif isinstance(horizons, Sequence):
        hs = tuple(horizons)
    else:
        raise TypeError(
            f"'horizons' must be an integer H or a sequence of horizons (got {horizons!r})"
        )
    if not hs or any(int(h) != h or h < 1 for h in hs) or len(set(hs)) != len(hs):
        raise ValueError(f"'horizons' must be distinct positive integers (got {horizons!r})")
    return tuple(sorted(int(h) for h in hs))


def _yearly(series: pd.Series, name: str) -> pd.Series:
    """A series indexed by distinct integer years, as floats, sorted."""
    if not isinstance(series, pd.Series):
        raise TypeError(
            f"{name!r} must be a pandas Series indexed by year (got {type(series).__name__})"
        )
    if len(series) and not pd.api.types.is_integer_dtype(series.index):
        raise ValueError(f"{name!r} must be indexed by integer years (got {series.index.dtype})")
    if series.index.has_duplicates:
        dup = series.index[series.index.duplicated()].unique().tolist()
        raise ValueError(f"{name!r} has duplicate years {dup}")
    return series.astype(float).sort_index()


def _history(history: pd.Series, origin: int) -> pd.Series:
    """The observed values up to and including the origin year."""
    y = _yearly(history, "history")
    return y[(y.index <= origin) & np.isfinite(y.to_numpy())]


def _full_range(y: pd.Series, origin: int) -> np.ndarray:
    """``y`` on every year from its first to the origin, missing years as NaN."""
    return y.reindex(range(int(y.index[0]), origin + 1)).to_numpy(float)


def _steps(y: pd.Series) -> np.ndarray:
    """Changes between consecutive observations, per square root of the years between them."""
    gaps = np.diff(y.index.to_numpy())
    return np.diff(y.to_numpy()) / np.sqrt(gaps)


def _fittable(y: pd.Series, method: str) -> bool:
    return len(y) >= MIN_OBS[method] and np.ptp(_steps(y)) > 0


# --------------------------------------------------------------------------- persistence


def _changes(y: pd.Series, lead: int) -> np.ndarray:
    """``y[t + lead] - y[t]`` for every pair of observed years ``lead`` apart."""
    later = y.reindex(y.index + lead).to_numpy()
    d = later - y.to_numpy()
    return d[np.isfinite(d)]


def _lead_changes(y: pd.Series, lead: int) -> np.ndarray | None:
    """Past changes standing in for the change over ``lead`` years (the rule in `persistence`)."""
    d = _changes(y, lead)
    if len(d) >= MIN_LEAD_CHANGES:
        return d
    span = int(y.index[-1] - y.index[0])
    for base in range(1, span + 1):
        b = _changes(y, base)
        if len(b) >= MIN_BASE_CHANGES:
            mid = float(np.median(b))
            return mid * lead / base + (b - mid) * np.sqrt(lead / base)
    return None


def persistence(
    history: pd.Series,
    origin: int,
    horizons: int | Sequence[int],
    draws: int = DRAWS,
    centred: bool = True,
) -> Forecast | None:
    """No-change forecast with the empirical spread of past changes.

    The predictive for year ``origin + h`` is the last observed value plus
    the past changes of the series over the same lead ``k`` (``k = h`` when
    the origin year is observed; ``origin + h - last year`` otherwise),
    centred so that the median of the draws is the last value itself (a
    trend is the business of ``rw_drift``). Rule for the
    changes:

    - at least ``MIN_LEAD_CHANGES`` pairs of observed years ``k`` apart: their
      changes ``y[t + k] - y[t]`` as they are;
    - fewer: the changes at the shortest lead ``b`` with at least
      ``MIN_BASE_CHANGES`` pairs (usually ``b = 1``), rescaled as a random
      walk would: their median times ``k / b``, their deviations from it
      times ``sqrt(k / b)``.

    The draws are the quantiles of those changes at the probabilities
    ``(i + 1/2) / draws`` (linear interpolation): no resampling, so no seed.
    ``centred=False`` keeps the median change, making the predictive the
    last value plus the past errors of this same forecast. ``None`` with
    fewer than ``MIN_OBS["persistence"]`` observations or when all changes
    are equal.
    """
    hs = _horizons(horizons)
    y = _history(history, origin)
    if not _fittable(y, "persistence"):
        return None
    last_year, last = int(y.index[-1]), float(y.iloc[-1])
    probs = (np.arange(draws) + 0.5) / draws
    cols = []
    for h in hs:
        d = _lead_changes(y, origin + h - last_year)
        if d is None or np.ptp(d) == 0:
            return None
        q = np.quantile(d, probs)
        cols.append(q - np.median(q) if centred else q)
    return Forecast("persistence", origin, hs, last + np.column_stack(cols))


# --------------------------------------------------------------------------- state-space models


def _fit_arima(endog: np.ndarray, order: tuple[int, int, int], trend: str):
    """Maximum-likelihood ARIMA fit, quiet about convergence; ``None`` if it cannot be fitted."""
    with warnings.catch_warnings():
        for category in _QUIET:
            warnings.simplefilter("ignore", category)
        try:
            return ARIMA(endog, order=order, trend=trend).fit()
        except (np.linalg.LinAlgError, ValueError):
            return None


def fit_rw_drift(history: pd.Series, origin: int) -> ARIMAResultsWrapper | None:
    """Random walk with drift fitted on the history up to the origin.

    ``ARIMA(order=(0, 1, 0), trend="t")`` on every year from the first
    observation to the origin (missing years as NaN): parameters ``drift``
    (named ``x1``) and ``sigma2``. ``None`` with fewer than
    ``MIN_OBS["rw_drift"]`` observations or no variation in the changes.
    """
    y = _history(history, origin)
    if not _fittable(y, "rw_drift"):
        return None
    return _fit_arima(_full_range(y, origin), (0, 1, 0), "t")


def fit_ar1(history: pd.Series, origin: int) -> ARIMAResultsWrapper | None:
    """AR(1) with a constant fitted on the history up to the origin.

    ``ARIMA(order=(1, 0, 0), trend="c")`` (stationary by construction), missing
    years as NaN: parameters ``const`` (the mean), ``ar.L1`` and ``sigma2``.
    ``None`` with fewer than ``MIN_OBS["ar1"]`` observations or no variation.
    """
    y = _history(history, origin)
    if not _fittable(y, "ar1"):
        return None
    return _fit_arima(_full_range(y, origin), (1, 0, 0), "c")


def _gaussian(
    method: str,
    origin: int,
    hs: tuple[int, ...],
    mean: np.ndarray,
    sd: np.ndarray,
    draws: int,
    seed: int | np.random.Generator,
) -> Forecast | None:
    """A Gaussian forecast with ``draws`` seeded draws; ``None`` if mean or sd is degenerate."""
    mean, sd = np.asarray(mean, float), np.asarray(sd, float)
    if not (np.isfinite(mean).all() and np.isfinite(sd).all() and (sd > 0).all()):
        return None
    z = np.random.default_rng(seed).standard_normal((draws, len(hs)))
    return Forecast(method, origin, hs, mean + sd * z, mean, sd)


def _state_space_forecast(
    results: ARIMAResultsWrapper | None,
    method: str,
    origin: int,
    hs: tuple[int, ...],
    draws: int,
    seed: int | np.random.Generator,
) -> Forecast | None:
    """Gaussian predictive ``h`` steps past the origin from ``get_forecast``."""
    if results is None:
        return None
    pred = results.get_forecast(max(hs))
    idx = np.array(hs) - 1
    mean = np.asarray(pred.predicted_mean)[idx]
    sd = np.sqrt(np.asarray(pred.var_pred_mean)[idx])
    return _gaussian(method, origin, hs, mean, sd, draws, seed)


def rw_drift(
    history: pd.Series,
    origin: int,
    horizons: int | Sequence[int],
    draws: int = DRAWS,
    seed: int | np.random.Generator = 0,
) -> Forecast | None:
    """Random walk with drift (:func:`fit_rw_drift`): mean and variance from ``get_forecast``."""
    hs = _horizons(horizons)
    return _state_space_forecast(fit_rw_drift(history, origin), "rw_drift", origin, hs, draws, seed)


def ar1(
    history: pd.Series,
    origin: int,
    horizons: int | Sequence[int],
    draws: int = DRAWS,
    seed: int | np.random.Generator = 0,
) -> Forecast | None:
    """AR(1) with a constant (:func:`fit_ar1`): mean and variance from ``get_forecast``."""
    hs = _horizons(horizons)
    return _state_space_forecast(fit_ar1(history, origin), "ar1", origin, hs, draws, seed)


# --------------------------------------------------------------------------- oil regression


def _log_oil(oil: pd.Series, name: str) -> pd.Series:
    oil = _yearly(oil, name)
    if not (oil.dropna() > 0).all():
        raise ValueError(f"{name!r} must be a positive price (got min {oil.min()})")
    return np.log(oil)


def fit_oil_regression(
    history: pd.Series, origin: int, oil: pd.Series
) -> RegressionResultsWrapper | None:
    """OLS of ``y`` on a constant and ``log(oil)`` over the observed years up to the origin.

    Parameters ``const`` and ``log_oil``. ``None`` with fewer than
    ``MIN_OBS["oil_regression"]`` years having both values, when the oil
    price does not vary over them, or when the fit is exact.
    """
    y = _history(history, origin)
    x = _log_oil(oil, "oil").reindex(y.index).rename("log_oil")
    ok = np.isfinite(x.to_numpy())
    y, x = y[ok], x[ok]
    if len(y) < MIN_OBS["oil_regression"] or np.ptp(x.to_numpy()) == 0:
        return None
    results = sm.OLS(y, sm.add_constant(x)).fit()
    return results if results.scale > 0 else None


def oil_regression(
    history: pd.Series,
    origin: int,
    horizons: int | Sequence[int],
    oil: pd.Series,
    oil_future: pd.Series,
    draws: int = DRAWS,
    seed: int | np.random.Generator = 0,
) -> Forecast | None:
    """Regression on log oil (:func:`fit_oil_regression`) along a given future oil path.

    ``oil_future`` holds the price in each target year ``origin + h`` (the
    actual prices, or :func:`frozen_oil_path`). The predictive is Gaussian
    with mean ``x' b`` and variance ``x' Cov(b) x + s^2``: the variance of
    the fitted mean (``get_prediction(...).var_pred_mean``) plus the
    residual variance.
    """
    hs = _horizons(horizons)
    results = fit_oil_regression(history, origin, oil)
    if results is None:
        return None
    years = [origin + h for h in hs]
    x = _log_oil(oil_future, "oil_future").reindex(years)
    if not np.isfinite(x.to_numpy()).all():
        missing = [yr for yr, v in zip(years, x.to_numpy(), strict=True) if not np.isfinite(v)]
        raise ValueError(f"'oil_future' has no price for the target years {missing}")
    pred = results.get_prediction(sm.add_constant(x.to_numpy(), has_constant="add"))
    sd = np.sqrt(np.asarray(pred.var_pred_mean) + results.scale)
    return _gaussian("oil_regression", origin, hs, np.asarray(pred.predicted_mean), sd, draws, seed)


def frozen_oil_path(oil: pd.Series, origin: int, horizons: int | Sequence[int]) -> pd.Series:
    """The last known price (latest year up to the origin) carried to every target year."""
    known = _yearly(oil, "oil").dropna()
    known = known[known.index <= origin]
    if known.empty:
        raise ValueError(f"'oil' has no price in or before the origin year {origin}")
    years = [origin + h for h in _horizons(horizons)]
    return pd.Series(float(known.iloc[-1]), index=pd.Index(years, name="year"), name="oil")


def known_oil_path(oil: pd.Series, origin: int, horizons: int | Sequence[int]) -> pd.Series:
    """The actual prices of the target years (the "known-events" mode)."""
    years = [origin + h for h in _horizons(horizons)]
    path = _yearly(oil, "oil").reindex(years)
    if path.isna().any():
        raise ValueError(f"'oil' has no price for the years {path.index[path.isna()].tolist()}")
    return path.rename_axis("year").rename("oil")


# --------------------------------------------------------------------------- all at once


def fit_baselines(
    history: pd.Series,
    origin: int,
    horizons: int | Sequence[int],
    oil: pd.Series | None = None,
    oil_future: pd.Series | None = None,
    draws: int = DRAWS,
    seed: int = 0,
) -> dict[str, Forecast | None]:
    """Every baseline for one series and one origin: method name -> forecast or ``None``.

    ``oil_regression`` is included only when ``oil`` is given (the dollar-valued
    series); without ``oil_future`` it follows :func:`frozen_oil_path`. Each
    method draws from its own child of ``SeedSequence(seed)``, so adding or
    dropping one method leaves the draws of the others unchanged.
    """
    if draws < 1:
        raise ValueError(f"'draws' must be >= 1 (got {draws})")
    hs = _horizons(horizons)
    seeds = dict(zip(METHODS, np.random.SeedSequence(seed).spawn(len(METHODS)), strict=True))
    out: dict[str, Forecast | None] = {
        "persistence": persistence(history, origin, hs, draws),
        "rw_drift": rw_drift(history, origin, hs, draws, np.random.default_rng(seeds["rw_drift"])),
        "ar1": ar1(history, origin, hs, draws, np.random.default_rng(seeds["ar1"])),
    }
    if oil is not None:
        future = frozen_oil_path(oil, origin, hs) if oil_future is None else oil_future
        rng = np.random.default_rng(seeds["oil_regression"])
        out["oil_regression"] = oil_regression(history, origin, hs, oil, future, draws, rng)
    return out
