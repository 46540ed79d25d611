"""Prices in the measurement equations of dollar-valued series.

A dollar value of trade moves with two things the cooperation index does not
stand for: the general price level (the dollar's purchasing power) and the
price of oil and gas, which make up most of what Russia sells to Türkiye.
This module owns the two price terms that the measurement model
(:mod:`.measurement`) adds to the equation of every dollar-valued
observation (unit ``USD ...``):

``log(value) = a_g + b (x - 50) + c log(p_t / P_REF) + log(cpi_t / CPI_REF) + e``,
``p_t = brent_t * CPI_REF / cpi_t``

* the **deflator** ``log(cpi_t / cpi_0)``: dollars are deflated by the US
  consumer price index with elasticity 1 (a dollar of 2022 buys less than a
  dollar of 2002), so that the offsets and the slope speak of real values;
* the **real oil price** ``p_t`` (dollars of :data:`CPI_REF`), centred on
  :data:`OIL_REF`, with a fitted elasticity ``c`` per measurement key.

The centres are fixed numbers, not data: they only move the offsets ``a_g``.

``t`` is the observation's year (an annual price for a monthly or
year-to-date figure too). :class:`Prices` holds the two yearly series and
gives the columns per observation row; :meth:`Prices.frozen` carries the last
known prices past an origin (the ``frozen`` mode of the evaluation), the
actual prices being the ``known-events`` path. ``docs/MODEL.md`` (section
*Measurement model*) gives the equation and the reasons.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from ..errors import ModelError
from .drivers import BRENT, driver

__all__ = ["CPI", "CPI_REF", "OIL_REF", "Prices", "dollar_rows"]

#: The US consumer price index (all urban consumers, annual average), the deflator.
CPI: Final[str] = "us_cpi_u_annual_avg"
#: The price level the deflator is centred on (the CPI of 2012): offsets are in dollars of 2012.
CPI_REF: Final[float] = 229.594
#: The real oil price the oil term is centred on (USD per barrel in dollars of 2012).
OIL_REF: Final[float] = 100.0


def dollar_rows(frame: pd.DataFrame) -> np.ndarray:
    """Whether each observation is a value in dollars (its unit starts with ``USD``)."""
    if "unit" not in frame.columns or not len(frame):
        return np.zeros(len(frame), dtype=bool)
    return frame["unit"].astype(str).str.strip().str.lower().str.startswith("usd").to_numpy()


@dataclass(frozen=True)
class Prices:
    """The yearly oil price and deflator that enter the dollar-valued equations.

    ``oil``: nominal USD per barrel by integer year; ``cpi``: the price index
    by year. Both positive.
    """

    oil: pd.Series
    cpi: pd.Series

    @classmethod
    def packaged(cls) -> Prices:
        """The packaged Brent price and US CPI (:mod:`.drivers`)."""
        return cls(driver(BRENT), driver(CPI))

    def __post_init__(self) -> None:
        for name, s in (("oil", self.oil), ("cpi", self.cpi)):
            values = s.dropna().to_numpy(float)
            if not len(values) or (values <= 0).any():
                raise ModelError(f"prices: {name} must be a positive yearly series")

    def frozen(self, origin: int, until: int) -> Prices:
        """The prices known at the end of ``origin``, the last ones carried to ``until``."""
        return Prices(_carried(self.oil, origin, until), _carried(self.cpi, origin, until))

    def columns(self, frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
        """Per row of ``frame``: the centred log real oil price and the deflator.

        Both are 0 on rows that are not in dollars. A dollar row of a year
        without prices is a :class:`~model.errors.ModelError`.
        """
        usd = dollar_rows(frame)
        oil = np.zeros(len(frame))
        deflator = np.zeros(len(frame))
        if not usd.any():
            return oil, deflator
        years = frame["year"].to_numpy()[usd].astype(int)
        lo, lc = self._log(self.oil, years, "oil"), self._log(self.cpi, years, "cpi")
        deflator[usd] = lc - np.log(CPI_REF)
        oil[usd] = lo - deflator[usd] - np.log(OIL_REF)
        return oil, deflator

    @staticmethod
    def _log(series: pd.Series, years: np.ndarray, name: str) -> np.ndarray:
        values = series.reindex(years).to_numpy(float)
        if not np.isfinite(values).all():
            missing = sorted({int(y) for y, v in zip(years, values) if not np.isfinite(v)})
            raise ModelError(f"prices: no {name} price for the years {missing}")
        return np.log(values)


def _carried(series: pd.Series, origin: int, until: int) -> pd.Series:
    """``series`` up to ``origin``, its last value there carried to every year up to ``until``."""
    known = series.dropna()
    known = known[known.index <= origin]
    if known.empty:
        raise ModelError(f"prices: no value of {series.name} in or before {origin}")
    later = pd.Series(
        float(known.iloc[-1]), index=pd.Index(range(origin + 1, until + 1), name=known.index.name)
    )
    return pd.concat([known, later]).rename(series.name)
