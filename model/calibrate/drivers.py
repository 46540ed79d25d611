"""Exogenous drivers shipped with the package: yearly prices that are not events.

This module owns ``model/data/observed/drivers_annual.csv`` (the Brent crude
price and the US consumer price index, 2000–2024, one value a year, a source
on every row; see the README there) and the one way to read it:

* :func:`load_drivers` returns a tidy frame, one row per year and driver;
* :func:`driver` returns one driver as a ``pd.Series`` indexed by year.

Prices are drivers, not events: they enter the forecasts of dollar-valued
series (the oil-price regression of :mod:`.baselines`), never an index. The
file is read on first use only and cached; every function returns a fresh copy.
"""

from __future__ import annotations

import functools
import importlib.resources
from typing import Final

import pandas as pd

from ..errors import ArgumentError, did_you_mean

__all__ = ["BRENT", "DRIVER_COLUMNS", "driver", "load_drivers"]

#: The Brent crude price, annual average of the daily spot price (USD per barrel, nominal).
BRENT: Final[str] = "brent_usd_bbl"
#: The columns of :func:`load_drivers`, in order.
DRIVER_COLUMNS: Final[tuple[str, ...]] = (
    "year",
    "series",
    "value",
    "unit",
    "source",
    "source_ref",
    "note",
)
_FILE: Final[str] = "drivers_annual.csv"


@functools.cache
def _load() -> pd.DataFrame:
    path = importlib.resources.files("model") / "data" / "observed" / _FILE
    with path.open("r", encoding="utf-8") as fh:
        raw = pd.read_csv(fh, dtype=str, keep_default_na=False)
    raw = raw.apply(lambda col: col.str.strip())
    raw = raw[raw["value"] != ""]
    frame = pd.DataFrame(
        {
            "year": raw["year"].astype("int64"),
            "series": raw["series"],
            "value": raw["value"].astype("float64"),
            "unit": raw["unit"],
            "source": raw["source_title"],
            "source_ref": raw["source_url_or_ref"],
            "note": raw["note"],
        }
    )
    return frame.sort_values(["series", "year"], kind="stable").reset_index(drop=True)


def load_drivers() -> pd.DataFrame:
    """The yearly drivers as a tidy frame, columns :data:`DRIVER_COLUMNS`.

    One row per year and driver (``brent_usd_bbl``: USD per barrel, nominal;
    ``us_cpi_u_annual_avg``: index, 1982–84 = 100), each with its source,
    sorted by driver and year. Blank values (gaps) are dropped.
    """
    return _load().copy()


def driver(name: str = BRENT) -> pd.Series:
    """One driver as a float Series indexed by integer ``year`` (named after the driver).

    An unknown name is an :class:`~model.errors.ArgumentError` of ``name``.
    """
    frame = _load()
    known = sorted(set(frame["series"]))
    if name not in known:
        raise ArgumentError(
            "name", f"no driver {name!r}{did_you_mean(name, known)}; drivers: {', '.join(known)}"
        )
    rows = frame[frame["series"] == name]
    return pd.Series(
        rows["value"].to_numpy(float),
        index=pd.Index(rows["year"].to_numpy(), name="year"),
        name=name,
    )
