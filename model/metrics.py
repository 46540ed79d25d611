"""Outcome metrics of paths: levels, lows, crises, volatility, recovery.

Every metric of the package is defined here once, per replicate, and then
summarised across replicates (mean and the 5%, 50% and 95% quantiles):

- ``mean``, ``min`` (or ``worst``) and ``final`` level;
- ``years_in_crisis``: time spent below the index's crisis threshold, each
  record counting until the next one;
- ``volatility``: the s.d. of the change between consecutive records;
- ``crises``: the number of falls below the threshold;
- ``recovery_years``: from an index's lowest point to the first record at
  which it is back within 2 points of its level one year before that low.

:class:`RunningMetrics` computes the first five while an ensemble streams
past (memory does not grow with the records); :func:`period_metrics` and
:func:`outcome_metrics` compute them from a result's kept paths.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .indices import RUSSIA

if TYPE_CHECKING:  # pragma: no cover
    from .results import Result

__all__ = [
    "METRICS",
    "RunningMetrics",
    "outcome_metrics",
    "period_metrics",
    "recovery_years",
    "step_years",
    "summarise",
    "years_in_crisis",
]

#: The metrics every run's ``summary`` table carries, per index.
METRICS = ("mean", "min", "final", "years_in_crisis", "volatility")
_DAYS_PER_YEAR = 365.25
_COLUMNS = ["indicator", "metric", "mean", "q05", "q50", "q95"]


class RunningMetrics:
    """The metrics of :data:`METRICS` per replicate, accumulated record by record."""

    def __init__(self, days: Sequence[int], n_rows: int, crisis: np.ndarray) -> None:
        k = len(crisis)
        self.years = np.diff(np.asarray(days, dtype=float)) / _DAYS_PER_YEAR
        self.crisis = crisis
        self.total = np.zeros((n_rows, k))
        self.low = np.full((n_rows, k), np.inf)
        self.in_crisis = np.zeros((n_rows, k))
        self.d1 = np.zeros((n_rows, k))
        self.d2 = np.zeros((n_rows, k))
        self.prev = np.full((n_rows, k), np.nan)  # the last record's levels

    def add(self, i: int, y: np.ndarray) -> None:
        """The levels ``y`` (rows x indices) of record ``i``."""
        self.total += y
        np.minimum(self.low, y, out=self.low)
        if i > 0:
            np.add(
                self.in_crisis, self.years[i - 1], out=self.in_crisis, where=self.prev < self.crisis
            )
            d = y - self.prev
            self.d1 += d
            d *= d
            self.d2 += d
        self.prev = y

    def values(self) -> np.ndarray:
        """``(rows, indices, 5)``: mean, min, final, years in crisis, volatility."""
        n_t = len(self.years) + 1
        n_d = max(n_t - 1, 1)
        var = np.maximum(self.d2 / n_d - (self.d1 / n_d) ** 2, 0.0)
        return np.stack(
            [self.total / n_t, self.low, self.prev, self.in_crisis, np.sqrt(var)], axis=-1
        )


def summarise(metrics: np.ndarray, indicators: Sequence[str]) -> pd.DataFrame:
    """Per-replicate metrics ``(replicate, indicator, metric)`` of :data:`METRICS`, summarised:
    one row per indicator and metric with the mean and the 5%, 50% and 95% quantiles."""
    rows = []
    for k, name in enumerate(indicators):
        for j, metric in enumerate(METRICS):
            values = metrics[:, k, j]
            q05, q50, q95 = np.quantile(values, [0.05, 0.5, 0.95])
            rows.append((name, metric, values.mean(), q05, q50, q95))
    return pd.DataFrame(rows, columns=_COLUMNS)


def step_years(dates: pd.DatetimeIndex) -> np.ndarray:
    """Years from each record to the next."""
    return np.diff(dates.values).astype("timedelta64[D]").astype(float) / _DAYS_PER_YEAR


def years_in_crisis(
    y: np.ndarray, crisis: float, step: np.ndarray, time_axis: int = 1
) -> np.ndarray:
    """Years below ``crisis`` per replicate, from levels ``y[r, t]`` (or ``y[t, r]`` with
    ``time_axis=0``) and the ``step`` between records: each record counts until the next."""
    if time_axis == 0:
        return step @ (y[:-1] < crisis)
    return (y[:, :-1] < crisis) @ step


def recovery_years(y: np.ndarray, dates: pd.DatetimeIndex) -> np.ndarray:
    """Per replicate (levels ``y[r, t]``): years from the lowest point back to within 2 points
    of the level a year before it; 0 if the low is no lower than that, NaN if never back."""
    out = np.full(len(y), np.nan)
    t = dates.values
    for r, path in enumerate(y):
        low = int(np.argmin(path))
        before = np.searchsorted(t, t[low] - np.timedelta64(365, "D"))
        target = path[min(before, low)] - 2.0
        back = np.flatnonzero(path[low:] >= target)
        if back.size and path[low] < target:
            out[r] = (t[low + back[0]] - t[low]).astype("timedelta64[D]").astype(
                float
            ) / _DAYS_PER_YEAR
        elif path[low] >= target:
            out[r] = 0.0
    return out


def _summary_rows(name: str, values: dict[str, np.ndarray]) -> list[tuple]:
    rows = []
    for metric, v in values.items():
        finite = v[np.isfinite(v)]
        stats = np.quantile(finite, [0.05, 0.5, 0.95]) if finite.size else [np.nan] * 3
        rows.append((name, metric, finite.mean() if finite.size else np.nan, *stats))
    return rows


def period_metrics(
    result: Result, crisis: dict[str, float], periods: list[tuple[int, int]] | None = None
) -> pd.DataFrame:
    """Mean level per period (default: up to 2015, 2015–2025, from 2026), minimum,
    years in crisis and recovery time, per index, summarised across replicates."""
    paths = _paths(result)
    dates = result.dates
    years = dates.year
    if periods is None:
        first, last = int(years.min()), int(years.max())
        cuts = [first] + [y for y in (2015, 2026) if first < y <= last] + [last + 1]
        periods = list(itertools.pairwise(cuts))
    step = step_years(dates)
    rows = []
    for k, name in enumerate(result.indicators):
        y = paths[:, :, k]
        values = {
            f"mean_{a}_{b - 1}": y[:, (years >= a) & (years < b)].mean(axis=1) for a, b in periods
        }
        values["min"] = y.min(axis=1)
        values["years_in_crisis"] = years_in_crisis(y, crisis.get(name, 25.0), step)
        values["recovery_years"] = recovery_years(y, dates)
        rows += _summary_rows(name, values)
    return pd.DataFrame(rows, columns=_COLUMNS)


def outcome_metrics(
    result: Result, crisis: dict[str, float], first: int, last: int
) -> pd.DataFrame:
    """Per-replicate outcomes over the years ``first..last``, summarised across replicates.

    Per index: ``mean``, ``worst``, ``volatility``, ``years_in_crisis``,
    ``crises`` and ``recovery_years``; plus ``russia``, the mean of trade,
    energy and security, for the trade-off between the two relations.
    """
    keep = (result.dates.year >= first) & (result.dates.year <= last)
    dates = result.dates[keep]
    paths = _paths(result)[:, keep, :]
    step = step_years(dates)
    series = {k: paths[:, :, i] for i, k in enumerate(result.indicators)}
    if set(RUSSIA) <= set(series):
        series["russia"] = np.mean([series[k] for k in RUSSIA], axis=0)
    rows = []
    for name, y in series.items():
        below = y < crisis.get(name, 25.0)
        values = {
            "mean": y.mean(axis=1),
            "worst": y.min(axis=1),
            "volatility": np.diff(y, axis=1).std(axis=1),
            "years_in_crisis": years_in_crisis(y, crisis.get(name, 25.0), step),
            "crises": (below[:, 1:] & ~below[:, :-1]).sum(axis=1) + below[:, 0],
            "recovery_years": recovery_years(y, dates),
        }
        rows += _summary_rows(name, values)
    return pd.DataFrame(rows, columns=_COLUMNS)


def _paths(result: Result) -> np.ndarray:
    return result.all_paths()
