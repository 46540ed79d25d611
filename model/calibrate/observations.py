"""Observations ready for the measurement model: windows, families, groups, transformed values.

:func:`prepare` turns the tidy observed frame (:func:`.observed.load_observed`)
into one row per usable observation: the window it covers, its measurement
family (``log`` for values and volumes, ``logit`` for survey shares,
``count`` for meetings per year, ``binary`` for a session held), its group
(a quantity on one statistical basis, so bases are never spliced), and the
modelled quantity ``y`` (the log of the annualised value, the logit of a
share, the count, or 0/1). Series that measure no index, growth rates and
stocks are left out, with the reason. :func:`for_scenario` keeps those of a
scenario's indices inside its run; :func:`averaging_matrix` averages the
recorded index over each observation's window.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from ..indices import STANDARD

if TYPE_CHECKING:
    from ..scenario import Scenario

__all__ = [
    "COLUMNS",
    "FAMILIES",
    "GAUSSIAN",
    "TABLE_COLUMNS",
    "TREND_CENTRE",
    "Observations",
    "averaging_matrix",
    "decades",
    "for_scenario",
    "prepare",
]

#: The measurement families, in the order they are reported.
FAMILIES: Final[tuple[str, ...]] = ("log", "logit", "count", "binary")
GAUSSIAN: Final[frozenset[str]] = frozenset({"log", "logit"})
#: Centre of the time trend of the trend keys (see :mod:`.measurement`).
TREND_CENTRE: Final[float] = 2012.0

_UNIT_TOKEN = re.compile(r"_(?:usd_bn|usd_mn|bcm)(?=_|$)")
_TO_DATE = re.compile(r"to (\d{1,2}) ([A-Za-z]{3})")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_PERIOD = re.compile(
    r"^(?P<y0>\d{4})(?:-(?P<m0>\d{2})(?:\.\.(?P<y1>\d{4})-(?P<m1>\d{2})(?:-(?P<d1>\d{2}))?)?)?$"
)
DAYS_PER_MONTH: Final[float] = 365.25 / 12
#: The columns of :attr:`Observations.frame`, in order.
COLUMNS: Final[tuple[str, ...]] = (
    "series",
    "group",
    "key",
    "block",
    "indicator",
    "family",
    "basis",
    "frequency",
    "period",
    "year",
    "date",
    "start",
    "end",
    "value",
    "y",
    "exposure",
    "sign",
    "unit",
    "source",
)
#: The columns of an observation that the tables of fitted and predicted values carry.
TABLE_COLUMNS: Final[tuple[str, ...]] = (
    "date",
    "year",
    "period",
    "series",
    "group",
    "key",
    "block",
    "indicator",
    "family",
    "basis",
    "frequency",
    "value",
    "unit",
    "y",
    "exposure",
    "sign",
)


# --------------------------------------------------------------------------- preparing the data


def _window(period: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day covered by a ``YYYY`` / ``YYYY-MM[..YYYY-MM[-DD]]`` period."""
    m = _PERIOD.match(str(period))
    if m is None:
        raise ValueError(f"unrecognised period {period!r}")
    y0 = int(m["y0"])
    if m["m0"] is None:
        return pd.Timestamp(y0, 1, 1), pd.Timestamp(y0, 12, 31)
    start = pd.Timestamp(y0, int(m["m0"]), 1)
    if m["y1"] is None:
        return start, start + pd.offsets.MonthEnd(0)
    if m["d1"] is None:
        return start, pd.Timestamp(int(m["y1"]), int(m["m1"]), 1) + pd.offsets.MonthEnd(0)
    return start, pd.Timestamp(int(m["y1"]), int(m["m1"]), int(m["d1"]))


def _family(series: str, unit: str, indicator: str, values: pd.Series) -> tuple[str | None, str]:
    """The measurement family of a series, or ``None`` and the reason it is left out."""
    u = unit.lower()
    if indicator not in STANDARD:
        return None, "context: measures no index"
    if "% y/y" in u or series.endswith("_yoy_pct"):
        return None, "a growth rate: needs the previous level on the same basis"
    if "cumulative" in u or "cumulative" in series or "stock" in u:
        return None, "a stock (cumulative total), not a flow"
    if u.startswith("sipri tiv"):
        if (values <= 0).any():
            return "binary", "arms deliveries in the year (any vs none): mostly zero, lumpy"
        return "log", "arms deliveries (SIPRI TIV)"
    if u.startswith(("usd", "bcm")):
        return "log", "a value or volume"
    if u.startswith("pct"):
        return "logit", "a survey share"
    if u.startswith(("meetings", "calls", "bilateral meetings")):
        return "count", "a yearly count"
    if u == "0/1":
        return "binary", "held or not"
    return None, f"no measurement equation for unit {unit!r}"


def _quantity(series: str, basis: str) -> str:
    """``tr_exports_to_ru_usd_mn__tim`` -> ``tr_exports_to_ru``: the name without unit and basis."""
    name = series.split("__", 1)[0]
    name = _UNIT_TOKEN.sub("", name)
    if name.endswith("_" + basis):
        name = name[: -len(basis) - 1]
    return name


def _exposure(unit: str, year: int) -> float | None:
    """Share of the year a count covers; ``None`` when it cannot be told (drop the row)."""
    u = unit.lower()
    if "partial year" in u:
        return None
    m = _TO_DATE.search(u)
    if m and m[2][:3] in _MONTHS:
        end = pd.Timestamp(year, _MONTHS[m[2][:3]], int(m[1]))
        return ((end - pd.Timestamp(year, 1, 1)).days + 1) / 365.25
    return 1.0


@dataclass(frozen=True)
class Observations:
    """Observed values ready for the measurement model.

    ``frame`` has one row per usable observation: ``series, group, key, block,
    indicator, family, basis, frequency, period, year, date, start, end,
    value`` (as published), ``y`` (the modelled quantity: log or logit of the
    annualised value, or the count, or 0/1), ``exposure`` (share of the year a
    count covers), ``sign``, ``unit``, ``source``. ``excluded`` lists the
    series and rows left out, with the reason.
    """

    frame: pd.DataFrame
    excluded: pd.DataFrame

    def until(self, year: int | None) -> Observations:
        """Only the observations of ``year`` and before."""
        if year is None:
            return self
        return Observations(
            self.frame[self.frame["year"] <= year].reset_index(drop=True), self.excluded
        )

    def after(self, year: int) -> Observations:
        """Only the observations after ``year``."""
        return Observations(
            self.frame[self.frame["year"] > year].reset_index(drop=True), self.excluded
        )

    def __len__(self) -> int:
        return len(self.frame)


def prepare(
    observed: pd.DataFrame | None = None,
    indicators=None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> Observations:
    """Turn a tidy observed frame (:func:`.observed.load_observed` by default) into measurements.

    ``indicators`` keeps only series of those indices; ``start`` and ``end``
    keep only observations whose window lies inside the run.
    """
    observed = _checked(observed)
    rows: list[dict[str, Any]] = []
    excluded: list[tuple] = []
    for series, part in observed.groupby("series", sort=True):
        first = part.iloc[0]
        family, reason = _family(
            str(series), str(first["unit"]), str(first["indicator"]), part["value"]
        )
        if family is None or (indicators is not None and first["indicator"] not in indicators):
            why = reason if family is None else "index not in the scenario"
            excluded.append(_excluded(series, part, len(part), why))
            continue
        kept, dropped = _series_rows(series, part, family)
        rows += kept
        if dropped:
            why = "rows without a usable value or exposure (e.g. a partial-year count)"
            excluded.append(_excluded(series, part, dropped, why))
    excl = pd.DataFrame(excluded, columns=["series", "indicator", "basis", "unit", "n", "reason"])
    return Observations(_frame(rows, start, end), excl)


def for_scenario(observed: pd.DataFrame | Observations | None, scenario: Scenario) -> Observations:
    """The observations of the scenario's indices whose window starts inside its run.

    ``observed``: a tidy observed frame (:func:`prepare`'s; the packaged data by
    default) or :class:`Observations` already prepared.
    """
    if isinstance(observed, Observations):
        obs = observed
        frame = obs.frame[obs.frame["indicator"].isin(scenario.indicators)]
        return Observations(
            frame[frame["start"] >= pd.Timestamp(scenario.run.start)].reset_index(drop=True),
            obs.excluded,
        )
    return prepare(observed, indicators=scenario.indicators, start=scenario.run.start)


def _checked(observed: pd.DataFrame | None) -> pd.DataFrame:
    """The observed frame (the packaged data by default), with the columns ``prepare`` needs."""
    if observed is None:
        from .observed import load_observed

        observed = load_observed()
    need = {"series", "indicator", "basis", "value", "unit", "frequency", "sign", "period", "year"}
    missing = need - set(observed.columns)
    if missing:
        raise ValueError(f"observed data lack the columns {sorted(missing)}")
    return observed


def _excluded(series: Any, part: pd.DataFrame, n: int, reason: str) -> tuple:
    """A row of the excluded table: ``n`` rows of ``series`` left out, and why."""
    first = part.iloc[0]
    units = " | ".join(dict.fromkeys(part["unit"]))
    return (series, first["indicator"], first["basis"], units, n, reason)


def _series_rows(series: Any, part: pd.DataFrame, family: str) -> tuple[list[dict[str, Any]], int]:
    """The rows of one series as observations, and the number of rows without a usable value."""
    rows, dropped = [], 0
    for row in part.itertuples(index=False):
        window = _window(row.period)
        measured = _measure(family, row, window)
        if measured is None:
            dropped += 1
            continue
        rows.append(_record(series, row, family, window, *measured))
    return rows, dropped


def _measure(
    family: str, row: Any, window: tuple[pd.Timestamp, pd.Timestamp]
) -> tuple[float, float] | None:
    """The modelled quantity ``y`` of a row and the share of the year it covers.

    ``None`` for a row without a usable value (a value of 0 or less on the log
    scale) or exposure (a partial-year count).
    """
    win_start, win_end = window
    value = float(row.value)
    if family == "log":
        if value <= 0:
            return None
        months = ((win_end - win_start).days + 1) / DAYS_PER_MONTH
        scale = 1e-3 if "usd mn" in row.unit.lower() else 1.0
        return float(np.log(value * scale * 12.0 / months)), 1.0
    if family == "logit":
        p = min(max(value / 100.0, 0.005), 0.995)
        return float(np.log(p / (1.0 - p))), 1.0
    if family == "count":
        exposure = _exposure(row.unit, int(row.year))
        if exposure is None:
            return None
        return float(value), exposure
    return float(value > 0), 1.0


def _group(series: str, basis: str, family: str) -> str:
    """The group of a series: a quantity on one statistical basis, so bases are never spliced.

    Values and volumes share a group across series of the same quantity and
    basis; every other series (and those of Russia and the West) is its own.
    """
    if family == "log" and not series.startswith(("RU_", "WEST_")):
        return f"{_quantity(series, basis)}|{basis}"
    return series


def _record(
    series: Any,
    row: Any,
    family: str,
    window: tuple[pd.Timestamp, pd.Timestamp],
    y: float,
    exposure: float,
) -> dict[str, Any]:
    """One observation: a row of :attr:`Observations.frame`."""
    win_start, win_end = window
    key = f"{row.indicator}:{family}"
    return {
        "series": series,
        "group": _group(str(series), row.basis, family),
        "key": key,
        "block": f"{key}:{row.frequency}",
        "indicator": row.indicator,
        "family": family,
        "basis": row.basis,
        "frequency": row.frequency,
        "period": row.period,
        "year": int(row.year),
        "date": win_start + (win_end - win_start) / 2,
        "start": win_start,
        "end": win_end,
        "value": float(row.value),
        "y": y,
        "exposure": exposure,
        "sign": int(row.sign),
        "unit": row.unit,
        "source": getattr(row, "source", ""),
    }


def _frame(
    rows: list[dict[str, Any]],
    start: str | pd.Timestamp | None,
    end: str | pd.Timestamp | None,
) -> pd.DataFrame:
    """The observations inside ``start`` and ``end``, sorted by index, family, group and date."""
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(columns=list(COLUMNS))
    if start is not None:
        frame = frame[frame["start"] >= pd.Timestamp(start)]
    if end is not None:
        frame = frame[frame["end"] <= pd.Timestamp(end)]
    return frame.sort_values(["indicator", "family", "group", "date"], kind="stable").reset_index(
        drop=True
    )


def decades(dates) -> np.ndarray:
    """Time in decades from the trend's centre (``TREND_CENTRE``), for the trend term."""
    mid = pd.DatetimeIndex(dates)
    return np.asarray((mid.year + (mid.day_of_year - 0.5) / 365.25 - TREND_CENTRE) / 10.0, float)


def averaging_matrix(frame: pd.DataFrame, dates: pd.DatetimeIndex) -> np.ndarray:
    """``M[i, t]``: weights that average the records ``t`` inside observation ``i``'s window.

    A window takes the records from its first day to the day after its last
    (monthly records on the 1st: a year averages 1 Jan to 1 Jan, a month its
    two ends). A window with no record inside takes the nearest record.
    """
    d = np.asarray(pd.DatetimeIndex(dates).values, dtype="datetime64[D]")
    M = np.zeros((len(frame), len(d)))
    starts = np.asarray(pd.DatetimeIndex(frame["start"]).values, dtype="datetime64[D]")
    ends = np.asarray(
        pd.DatetimeIndex(frame["end"]).values, dtype="datetime64[D]"
    ) + np.timedelta64(1, "D")
    for i, (s, e) in enumerate(zip(starts, ends)):
        inside = (d >= s) & (d <= e)
        if inside.any():
            M[i, inside] = 1.0 / inside.sum()
        else:
            mid = s + (e - s) // 2
            M[i, int(np.argmin(np.abs(d - mid)))] = 1.0
    return M
