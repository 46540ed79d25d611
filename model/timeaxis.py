"""Time: days since a run's start, durations written as text, and record dates.

The engine's clock counts whole days from the run's start; rates and
half-lives are per year of ``DAYS_PER_YEAR`` days. A duration is written as a
number and a unit (``"90d"``, ``"6w"``, ``"18m"``, ``"2y"``); months and years
are calendar steps (``add_duration``), days and weeks exact.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

__all__ = [
    "DAYS_PER_YEAR",
    "FREQUENCIES",
    "add_duration",
    "check_duration",
    "parse_duration",
    "record_dates",
]

DAYS_PER_YEAR = 365.25
#: Record frequencies and their pandas aliases (first day of each period).
FREQUENCIES = {"monthly": "MS", "quarterly": "QS", "yearly": "YS"}

_DURATION = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([dwmy])\s*$")


def parse_duration(text: str) -> tuple[float, str] | None:
    """``"18m"`` -> ``(18.0, "m")``; ``None`` when ``text`` is not a duration."""
    m = _DURATION.match(text)
    return (float(m.group(1)), m.group(2)) if m else None


def check_duration(text: str, what: str) -> str:
    """``text`` if it is a positive duration, else a ``ValueError`` naming ``what``."""
    parsed = parse_duration(text)
    if parsed is None or parsed[0] <= 0:
        raise ValueError(
            f"{what} must be a positive number and a unit d, w, m or y, e.g. '18m' (got {text!r})"
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
