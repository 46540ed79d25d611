"""Time: days since a run's start, durations written as text, and record dates.

The engine's clock counts whole days from the run's start; rates and
half-lives are per year of ``DAYS_PER_YEAR`` days. A duration is written as a
number and a unit (``"90d"``, ``"6w"``, ``"18m"``, ``"2y"``); months and years
are calendar steps (``add_duration``), days and weeks exact.

The supported calendar runs from :data:`FIRST_DATE` to :data:`LAST_DATE`, and
a duration or a delay is at least one day (after rounding to whole days or
months) and at most :data:`MAX_DAYS`, the calendar's span: a run and every
date it computes stay representable, and no step rounds to nothing.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

__all__ = [
    "DAYS_PER_YEAR",
    "FIRST_DATE",
    "FREQUENCIES",
    "LAST_DATE",
    "MAX_DAYS",
    "add_duration",
    "check_duration",
    "duration_days",
    "parse_duration",
    "record_dates",
]

DAYS_PER_YEAR = 365.25
#: The supported calendar: a run's start and end, and every date a scenario gives.
FIRST_DATE = dt.date(1900, 1, 1)
LAST_DATE = dt.date(2200, 12, 31)
#: The longest duration or delay, in days: 300 years, about the calendar's span.
MAX_DAYS = round(300 * DAYS_PER_YEAR)
#: Record frequencies and their pandas aliases (first day of each period).
FREQUENCIES = {"monthly": "MS", "quarterly": "QS", "yearly": "YS"}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dwmy])\s*$")


def parse_duration(text: str) -> tuple[float, str] | None:
    """``"18m"`` -> ``(18.0, "m")``; ``None`` when ``text`` is not a duration."""
    m = _DURATION.match(text)
    return (float(m.group(1)), m.group(2)) if m else None


def duration_days(amount: float, unit: str) -> float:
    """The length in days of a parsed duration, as :func:`add_duration` steps it (months and
    years at their mean length)."""
    if unit in "dw":
        return float(round(amount * (7 if unit == "w" else 1)))
    return round(amount * (12 if unit == "y" else 1)) * DAYS_PER_YEAR / 12


def check_duration(text: str, what: str) -> str:
    """``text`` if it is a duration of one day to :data:`MAX_DAYS`, else a ``ValueError`` naming
    ``what``."""
    parsed = parse_duration(text) if isinstance(text, str) else None
    if parsed is None or parsed[0] <= 0:
        raise ValueError(
            f"{what} must be a positive number and a unit d, w, m or y, e.g. '18m' (got {text!r})"
        )
    days = duration_days(*parsed)
    if days < 1:
        step = "0 days" if parsed[1] in "dw" else "0 months"
        raise ValueError(f"{what} must be at least one day (got {text!r}, which rounds to {step})")
    if days > MAX_DAYS:
        raise ValueError(
            f"{what} must be at most 300 years ({MAX_DAYS} days), about the span of the "
            f"supported calendar {FIRST_DATE}..{LAST_DATE} (got {text!r})"
        )
    return text


def add_duration(start: dt.date, duration: str) -> dt.date:
    """``start`` plus a duration such as ``"90d"``, ``"6w"``, ``"18m"``, ``"2y"``."""
    parsed = parse_duration(duration)
    if parsed is None:
        raise ValueError(f"not a duration: {duration!r}")
    amount, unit = parsed
    if unit in "dw":
        return start + dt.timedelta(days=round(amount * (7 if unit == "w" else 1)))
    months = round(amount * (12 if unit == "y" else 1))
    year, month = divmod(start.month - 1 + months, 12)
    first = dt.date(start.year + year, month + 1, 1)
    nxt = dt.date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first.replace(day=min(start.day, (nxt - first).days))


def record_dates(start: dt.date, end: dt.date, record: str) -> list[dt.date]:
    """Record dates of a run: its start, then the first day of each period up to ``end``."""
    return list(_record_dates(start, end, record))


@lru_cache(maxsize=64)
def _record_dates(start: dt.date, end: dt.date, record: str) -> tuple[dt.date, ...]:
    import pandas as pd

    dates = pd.date_range(start, end, freq=FREQUENCIES[record]).date.tolist()
    return tuple(dates if dates and dates[0] == start else [start] + dates)
