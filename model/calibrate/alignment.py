"""Every index held against data: fitted slopes with 90 % intervals, and UN General Assembly votes.

This module owns two tables:

* :func:`unga_slopes` fits each UN General Assembly voting series of
  ``model/data/observed/unga_annual.csv`` (the README there gives the
  sources) to the modelled yearly index it speaks to: Türkiye's agreement
  with the USA (identical roll-call votes, the release's agreement share) and
  the distance of the two ideal points against ``west``; Türkiye's agreement
  with Russia and their distance against ``security`` (political closeness
  with Russia). Shares enter on the logit scale, distances on the log scale:
  ``y_t = a + sign * b * (x_t - 50) + e_t`` by least squares, with a
  Newey–West (HAC, one lag) standard error because the yearly residuals are
  autocorrelated; the 90 % interval is ``b ± 1.645 s.e.`` and ``above_zero``
  says whether it lies above 0 (the series follows the index; an interval
  below 0 means the series moves against it);
* :func:`index_slopes` puts them next to the slopes of the calibration's own
  measurement model (:mod:`.measurement`; their s.e. from the fit), so that
  for each of energy, security and west one reads whether some observed
  series follows the index with a slope whose 90 % interval excludes 0.

These series are not part of the measurement model of the fits: they answer
whether the indices are tied to data, not what the parameters are.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

import numpy as np
import pandas as pd

from .measurement import CENTRE

if TYPE_CHECKING:
    from .fit import Calibration

__all__ = ["SLOPE_COLUMNS", "UNGA_SERIES", "index_slopes", "load_unga", "unga_slopes"]

#: The UNGA series fitted: series -> (index, sign, scale). Shares on the logit scale, the
#: distances of ideal points on the log scale; ``sign`` -1 where more means less cooperation.
UNGA_SERIES: Final[dict[str, tuple[str, int, str]]] = {
    "unga_identical_votes_tur_usa__rollcall": ("west", 1, "logit"),
    "unga_agree_tur_usa__bsv": ("west", 1, "logit"),
    "unga_ideal_distance_tur_usa__bsv": ("west", -1, "log"),
    "unga_identical_votes_tur_rus__rollcall": ("security", 1, "logit"),
    "unga_agree_tur_rus__bsv": ("security", 1, "logit"),
    "unga_ideal_distance_tur_rus__bsv": ("security", -1, "log"),
}
#: The columns of :func:`index_slopes` and :func:`unga_slopes`.
SLOPE_COLUMNS: Final[tuple[str, ...]] = (
    "index",
    "series",
    "family",
    "slope",
    "se",
    "ci90_low",
    "ci90_high",
    "above_zero",
    "n",
    "source",
)
_Z90: Final[float] = 1.6448536269514722


def load_unga() -> pd.DataFrame:
    """The UNGA voting series as a tidy frame: ``year, series, value, unit, note``.

    Rows flagged ``UNRELIABLE`` in their note (the 2023 session, two recorded votes) are dropped.
    """
    from .observed import _read_csv

    raw = _read_csv("unga_annual.csv")
    raw = raw[(raw["value"] != "") & ~raw["note"].str.contains("UNRELIABLE")]
    return pd.DataFrame(
        {
            "year": raw["year"].astype(int).to_numpy(),
            "series": raw["series"].to_numpy(),
            "value": raw["value"].astype(float).to_numpy(),
            "unit": raw["unit"].to_numpy(),
            "note": raw["note"].to_numpy(),
        }
    )


def _transformed(values: np.ndarray, scale: str) -> np.ndarray:
    if scale == "log":
        return np.log(np.clip(values, 1e-6, None))
    p = np.clip(values, 0.005, 0.995)
    return np.log(p / (1 - p))


def _hac_slope(y: np.ndarray, x: np.ndarray) -> tuple[float, float]:
    """OLS slope of ``y`` on ``[1, x]`` and its Newey–West (one lag) standard error."""
    import statsmodels.api as sm

    res = sm.OLS(y, sm.add_constant(x)).fit(cov_type="HAC", cov_kwds={"maxlags": 1})
    return float(res.params[1]), float(res.bse[1])


def unga_slopes(index_by_year: pd.DataFrame, unga: pd.DataFrame | None = None) -> pd.DataFrame:
    """The slope of each UNGA series on its modelled index, with a 90 % interval.

    ``index_by_year``: the modelled yearly index, one column per index (e.g.
    :func:`.report.annual_index` of a replay). Columns :data:`SLOPE_COLUMNS`.
    """
    unga = load_unga() if unga is None else unga
    rows = []
    for series, (index, sign, scale) in UNGA_SERIES.items():
        part = unga[unga["series"] == series].set_index("year")["value"]
        if index not in index_by_year.columns:
            continue
        x = index_by_year[index].reindex(part.index).to_numpy(float)
        ok = np.isfinite(x)
        if ok.sum() < 5:
            continue
        y = _transformed(part.to_numpy(float)[ok], scale)
        b, se = _hac_slope(y, sign * (x[ok] - CENTRE))
        rows.append(_row(index, series, scale, b, se, int(ok.sum()), "unga_annual.csv"))
    return pd.DataFrame(rows, columns=list(SLOPE_COLUMNS))


def _row(index: str, series: str, family: str, b: float, se: float, n: int, source: str) -> tuple:
    lo, hi = b - _Z90 * se, b + _Z90 * se
    return (index, series, family, b, se, lo, hi, bool(lo > 0), n, source)


def index_slopes(cal: Calibration, unga: pd.DataFrame | None = None) -> pd.DataFrame:
    """Per index: the measurement slopes of the fit and the UNGA slopes, with 90 % intervals.

    A measurement slope held at its bound 0 has no interval (NaN): the data
    put it at 0. Columns :data:`SLOPE_COLUMNS`, sorted by index.
    """
    from .report import annual_index

    m = cal.measurement[cal.measurement["parameter"].str.startswith("slope:")]
    n_of = cal.residuals.groupby("key").size()
    rows = [
        _row(
            str(r.key).split(":")[0],
            f"(all {r.key} series)",
            str(r.key).split(":")[1],
            float(r.estimate),
            float(r.se) if not r.at_bound else np.nan,
            int(n_of.get(r.key, 0)),
            "measurement model",
        )
        for r in m.itertuples(index=False)
    ]
    table = pd.DataFrame(rows, columns=list(SLOPE_COLUMNS))
    table.loc[table["se"].isna(), "above_zero"] = False
    table = pd.concat([table, unga_slopes(annual_index(cal.replay), unga)], ignore_index=True)
    return table.sort_values(["index", "source", "series"], kind="stable", ignore_index=True)
