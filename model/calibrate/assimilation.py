"""Forecasting from the data at the origin: a Kalman filter on each series' deviation.

The measurement model (:mod:`.measurement`) treats the gap between an
observation and its fitted value as independent noise. It is not: the yearly
residuals of dollar trade have a lag-1 autocorrelation of about 0.5, so a
series that sits above the model this year will most likely sit above it next
year too. This module owns the state-space model of that gap. For each
Gaussian series (a measurement group) and year ``t``, with ``z_t`` the mean
residual ``y - eta`` of its observations of year ``t`` (the annual ones where
there are any, else the periodic ones):

``d_t = rho d_{t-1} + w_t,  w_t ~ N(0, q)``     the deviation, an AR(1) state;
``z_t = d_t + v_t,          v_t ~ N(0, r)``     what is observed of it.

``rho``, ``q`` and ``r`` are one set per measurement key, estimated by maximum
likelihood over the key's series together (:func:`fit_deviation`, the exact
likelihood of :func:`kalman_filter`, which starts from the stationary
distribution and steps over the years without an observation). A forecast
from an origin ``T`` filters each series up to ``T`` and adds to the model's
linear predictor the deviation expected ``h`` years later, ``rho^h m_T``, with
the variance ``rho^(2h) P_T + q (1 - rho^(2h)) / (1 - rho^2) + r`` in place
of the measurement noise (:class:`Assimilation`). The forecast therefore
starts from where the series is at the origin, not from the model's level,
and falls back to the model as the deviation decays.

:func:`lag1_autocorrelation` measures the residuals before (the raw
deviations) and after (the filter's standardised one-step innovations).
``docs/VALIDATION.md`` reports both.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Final, NamedTuple

import numpy as np
import pandas as pd

from .observations import GAUSSIAN

if TYPE_CHECKING:
    from .fit import Calibration

__all__ = [
    "Assimilation",
    "DeviationModel",
    "FilterOutput",
    "assimilate",
    "fit_deviation",
    "kalman_filter",
    "lag1_autocorrelation",
    "residual_series",
]

#: Largest persistence of the deviation (the stationary start needs ``rho < 1``).
RHO_MAX: Final[float] = 0.97
#: Smallest variance of the process and of the observation noise (transformed units squared).
VAR_FLOOR: Final[float] = 1e-4
#: Fewest observed years, over the key's series, to estimate a deviation model.
MIN_YEARS: Final[int] = 6


class FilterOutput(NamedTuple):
    """What :func:`kalman_filter` returns for one series."""

    loglik: float
    innovations: np.ndarray  # standardised one-step innovations of the observed years
    mean: float  # filtered deviation at the last year of the grid
    var: float  # its variance


@dataclass(frozen=True)
class DeviationModel:
    """The AR(1) deviation of a measurement key: persistence, process and observation variance."""

    rho: float
    q: float
    r: float
    loglik: float
    n: int  # observed years used

    @property
    def stationary(self) -> float:
        return self.q / (1.0 - self.rho**2)

    def forecast(self, mean: float, var: float, h: int) -> tuple[float, float]:
        """Mean and variance of the observed deviation ``h`` years after a filtered state."""
        a = self.rho**h
        return a * mean, a * a * var + self.stationary * (1.0 - a * a) + self.r


def kalman_filter(z: Sequence[float] | np.ndarray, rho: float, q: float, r: float) -> FilterOutput:
    """The exact Kalman filter of ``z`` under the AR(1) model.

    ``z``: one value a year (NaN where none), or a matrix of years by series
    that observe one common deviation, each with its own noise of variance
    ``r`` (the values of a year are taken one after the other). Starts from
    the stationary distribution ``N(0, q / (1 - rho^2))``. The innovations
    come in the order of the values (years, then series).
    """
    z = np.asarray(z, float)
    z = z[:, None] if z.ndim == 1 else z
    m, p = 0.0, q / (1.0 - rho**2)
    loglik = 0.0
    innov: list[float] = []
    for t, values in enumerate(z):
        if t > 0:
            m, p = rho * m, rho * rho * p + q
        for value in values[np.isfinite(values)]:
            s = p + r
            e = value - m
            loglik += -0.5 * (np.log(2 * np.pi * s) + e * e / s)
            innov.append(e / np.sqrt(s))
            k = p / s
            m, p = m + k * e, (1.0 - k) * p
    return FilterOutput(float(loglik), np.asarray(innov), float(m), float(p))


def _unpack(theta: np.ndarray) -> tuple[float, float, float]:
    rho = RHO_MAX / (1.0 + np.exp(-theta[0]))
    return float(rho), float(VAR_FLOOR + np.exp(theta[1])), float(VAR_FLOOR + np.exp(theta[2]))


def fit_deviation(series: Sequence[np.ndarray]) -> DeviationModel | None:
    """Maximum likelihood of ``rho, q, r`` over several yearly series (NaN where none).

    ``None`` when the series hold fewer than :data:`MIN_YEARS` observed years.
    """
    from scipy.optimize import minimize

    series = [np.asarray(s, float) for s in series if np.isfinite(s).any()]
    n = int(sum(np.isfinite(s).sum() for s in series))
    if not n:
        return None
    if n < MIN_YEARS:
        return None
    total = float(np.nanmean(np.concatenate([s[np.isfinite(s)] ** 2 for s in series])))
    total = max(total, 2 * VAR_FLOOR)

    def objective(theta: np.ndarray) -> float:
        rho, q, r = _unpack(theta)
        return -sum(kalman_filter(s, rho, q, r).loglik for s in series)

    starts = [np.array([0.0, np.log(total / 2), np.log(total / 2)])]
    starts.append(np.array([1.5, np.log(total / 4), np.log(total / 2)]))
    best = min((minimize(objective, s, method="Nelder-Mead") for s in starts), key=lambda o: o.fun)
    rho, q, r = _unpack(best.x)
    return DeviationModel(rho, q, r, float(-best.fun), n)


def residual_series(cal: Calibration) -> dict[tuple[str, str], pd.Series]:
    """The yearly mean residual ``y - eta`` of each Gaussian group: ``(key, group) -> Series``.

    A year's value is the mean over the group's annual observations of that
    year, or over its periodic ones when it has no annual one.
    """
    f = cal.residuals
    f = f[f["family"].isin(list(GAUSSIAN))]
    raw = f.assign(raw=f["y"] - cal.fit.eta[f.index.to_numpy()])
    raw = raw.assign(annual=raw["frequency"] == "annual")
    out: dict[tuple[str, str], pd.Series] = {}
    for (key, group), part in raw.groupby(["key", "group"], sort=True):
        annual = part[part["annual"]].groupby("year")["raw"].mean()
        chosen = annual.combine_first(part.groupby("year")["raw"].mean())
        out[(str(key), str(group))] = chosen.sort_index()
    return out


def _grid(series: pd.Series, until: int, first: int | None = None) -> np.ndarray:
    """The series on every year from ``first`` (default its first) to ``until`` (NaN where none)."""
    years = range(int(series.index.min()) if first is None else first, until + 1)
    return series.reindex(years).to_numpy(float)


def lag1_autocorrelation(values: Sequence[np.ndarray]) -> float:
    """Pooled lag-1 autocorrelation of consecutive values in each sequence (NaN breaks pairs)."""
    a, b = [], []
    for v in values:
        v = np.asarray(v, float)
        ok = np.isfinite(v[:-1]) & np.isfinite(v[1:])
        a.append(v[:-1][ok])
        b.append(v[1:][ok])
    x, y = np.concatenate(a) if a else np.zeros(0), np.concatenate(b) if b else np.zeros(0)
    if len(x) < 3:
        return float("nan")
    return float(np.sum(x * y) / np.sqrt(np.sum(x * x) * np.sum(y * y)))


@dataclass
class Assimilation:
    """Per measurement key its deviation model; per group the filtered deviation at the origin.

    With a deviation common to the key's series, every group of a key holds the same state.
    """

    origin: int
    models: dict[str, DeviationModel]
    state: dict[str, tuple[str, float, float]]  # group -> (key, mean, var) at the origin
    autocorrelation: pd.DataFrame = field(default_factory=pd.DataFrame)

    def shift(self, targets: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per target row (``group``, ``year``): the deviation's mean and s.d. (NaN where none)."""
        mean = np.full(len(targets), np.nan)
        sd = np.full(len(targets), np.nan)
        for i, (group, year) in enumerate(zip(targets["group"], targets["year"])):
            if group not in self.state:
                continue
            key, m, p = self.state[group]
            mu, var = self.models[key].forecast(m, p, int(year) - self.origin)
            mean[i], sd[i] = mu, np.sqrt(var)
        return mean, sd


def assimilate(cal: Calibration, origin: int, shared: bool = True) -> Assimilation:
    """The deviation models of a calibration's Gaussian keys, filtered up to ``origin``.

    ``shared``: one deviation common to the series of a key (a year's value
    of any series informs the others), else one per series.
    """
    residuals = residual_series(cal)
    models: dict[str, DeviationModel] = {}
    state: dict[str, tuple[str, float, float]] = {}
    rows = []
    for key in sorted({k for k, _ in residuals}):
        parts = {g: s for (k, g), s in residuals.items() if k == key}
        first = min(int(s.index.min()) for s in parts.values())
        groups = {g: _grid(s, origin, first) for g, s in parts.items()}
        matrix = np.column_stack(list(groups.values()))
        model = fit_deviation([matrix] if shared else list(groups.values()))
        before = lag1_autocorrelation(list(groups.values()))
        if model is None:
            rows.append((key, len(groups), before, np.nan, np.nan, np.nan, np.nan))
            continue
        models[key] = model
        innovations = []
        if shared:
            out = kalman_filter(matrix, model.rho, model.q, model.r)
            state |= {g: (key, out.mean, out.var) for g in groups}
            innovations = list(_innovations_on_grid(matrix, out.innovations).T)
        for g, z in groups.items() if not shared else ():
            out = kalman_filter(z, model.rho, model.q, model.r)
            state[g] = (key, out.mean, out.var)
            innovations.append(_innovations_on_grid(z, out.innovations))
        after = lag1_autocorrelation(innovations)
        rows.append((key, len(groups), before, after, model.rho, model.q**0.5, model.r**0.5))
    table = pd.DataFrame(
        rows, columns=["key", "series", "acf1_before", "acf1_after", "rho", "sd_process", "sd_obs"]
    )
    return Assimilation(origin, models, state, table)


def _innovations_on_grid(z: np.ndarray, innovations: np.ndarray) -> np.ndarray:
    """The innovations put back on the yearly grid of ``z`` (NaN in the years without a value)."""
    out = np.full(z.shape, np.nan)
    out[np.isfinite(z)] = innovations  # row-major: years, then series, as the filter takes them
    return out
