"""Paired comparison of scenarios with common random numbers.

Every scenario is run with the same seed and the same replicate numbers, so a
replicate draws the same random numbers in each wherever their events agree.
Differences are taken replicate by replicate (B − A), and their mean and band
show what the scenario changes, not what the noise does: before the first
event on which two scenarios differ, the difference is exactly zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .ensemble import simulate
from .results import QUANTILES, Result, quantile_frame
from .scenario import Scenario

__all__ = ["Comparison", "compare", "period_metrics"]


@dataclass
class Comparison:
    """Results of several scenarios and their paired differences from the first."""

    results: dict[str, Result]
    differences: pd.DataFrame  # scenario, date, indicator, mean, q05..q95 of (scenario - reference)
    metrics: pd.DataFrame      # scenario, indicator, metric, mean, q05, q50, q95

    @property
    def reference(self) -> str:
        return next(iter(self.results))

    def quantiles(self) -> pd.DataFrame:
        """All scenarios' quantile tables, stacked with a ``scenario`` column."""
        return pd.concat([r.quantiles.assign(scenario=name) for name, r in self.results.items()],
                         ignore_index=True)


def compare(scenarios: list[Scenario], replicates: int | None = None, seed: int | None = None) -> Comparison:
    """Run ``scenarios`` with common random numbers; differences are from the first."""
    if len(scenarios) < 2:
        raise ValueError("compare needs at least two scenarios")
    names = [sc.name for sc in scenarios]
    if len(set(names)) != len(names):
        raise ValueError(f"scenario names must differ to be compared (got {names})")
    n = replicates or scenarios[0].run.replicates
    seed = scenarios[0].run.seed if seed is None else seed
    results = {sc.name: simulate(sc, replicates=n, seed=seed) for sc in scenarios}
    ref = results[names[0]]
    diffs, metrics = [], []
    for sc, (name, res) in zip(scenarios, results.items()):
        metrics.append(period_metrics(res, {k: v.crisis for k, v in sc.indices.items()}).assign(scenario=name))
        if name == names[0]:
            continue
        _check_comparable(ref, res)
        d = res.paths - ref.paths[:, :, : res.paths.shape[2]]
        frame = quantile_frame(res.dates, res.indicators, d.mean(axis=0), np.quantile(d, QUANTILES, axis=0))
        diffs.append(frame.assign(scenario=name))
    cols = ["scenario", "indicator", "metric", "mean", "q05", "q50", "q95"]
    return Comparison(results, pd.concat(diffs, ignore_index=True), pd.concat(metrics, ignore_index=True)[cols])


def _check_comparable(a: Result, b: Result) -> None:
    if a.paths.shape[:2] != b.paths.shape[:2] or not a.dates.equals(b.dates):
        raise ValueError("scenarios must share their run period and record frequency to be compared")
    if a.indicators != b.indicators[: len(a.indicators)]:
        raise ValueError("scenarios must share their indices to be compared")


def period_metrics(result: Result, crisis: dict[str, float],
                   periods: list[tuple[int, int]] | None = None) -> pd.DataFrame:
    """Per-replicate metrics, summarised: mean level per period, minimum,
    years in crisis and recovery time.

    ``recovery_years``: from an index's lowest point to the first record at
    which it is back within 2 points of its level one year before that low
    (NaN for a replicate that never recovers within the run).
    """
    dates = result.dates
    years = dates.year
    if periods is None:
        first, last = int(years.min()), int(years.max())
        cuts = [first] + [y for y in (2015, 2026) if first < y <= last] + [last + 1]
        periods = list(zip(cuts[:-1], cuts[1:]))
    step = np.diff(dates.values).astype("timedelta64[D]").astype(float) / 365.25
    rows = []
    for k, name in enumerate(result.indicators):
        y = result.paths[:, :, k]
        values = {f"mean_{a}_{b - 1}": y[:, (years >= a) & (years < b)].mean(axis=1) for a, b in periods}
        values["min"] = y.min(axis=1)
        values["years_in_crisis"] = (y[:, :-1] < crisis.get(name, 25.0)) @ step
        values["recovery_years"] = _recovery(y, dates)
        for metric, v in values.items():
            finite = v[np.isfinite(v)]
            stats = np.quantile(finite, [0.05, 0.5, 0.95]) if finite.size else [np.nan] * 3
            rows.append((name, metric, finite.mean() if finite.size else np.nan, *stats))
    return pd.DataFrame(rows, columns=["indicator", "metric", "mean", "q05", "q50", "q95"])


def _recovery(y: np.ndarray, dates: pd.DatetimeIndex) -> np.ndarray:
    out = np.full(len(y), np.nan)
    t = dates.values
    for r, path in enumerate(y):
        low = int(np.argmin(path))
        before = np.searchsorted(t, t[low] - np.timedelta64(365, "D"))
        target = path[min(before, low)] - 2.0
        back = np.flatnonzero(path[low:] >= target)
        if back.size and path[low] < target:
            out[r] = (t[low + back[0]] - t[low]).astype("timedelta64[D]").astype(float) / 365.25
        elif path[low] >= target:
            out[r] = 0.0
    return out
