"""A scenario's exogenous drivers: the observed history and the future path it chooses.

A scenario's ``[drivers]`` table (``docs/SCENARIOS.md``) sets the level of
``oil_price`` (Brent, USD per barrel, nominal) and ``price_index`` (the US
CPI, 1982–84 = 100) after the last observed year, as a number or a
distribution drawn once per replicate; a driver it does not set stays flat
at its last observed value. The history is the packaged data
(:mod:`.drivers`). This module owns:

* :func:`driver_draws`: one path per replicate and year for each driver;
* :func:`driver_paths`: the tidy table of a run's ``drivers.csv``;
* :func:`future_paths`: which future path each driver took, for ``metadata.json``;
* :func:`scenario_prices`: a replicate's path as the :class:`.prices.Prices`
  of the dollar-valued measurement equations.

Drivers do not move the indices: they move the dollar values that measure
them (``docs/MODEL.md``, section 10).
"""

from __future__ import annotations

from typing import Any, Final

import numpy as np
import pandas as pd

from ..distributions import sample
from ..rng import Streams
from ..scenario import Scenario
from ..scenario.schema import DRIVERS
from .drivers import BRENT, driver
from .prices import CPI, Prices

__all__ = [
    "DRIVER_SERIES",
    "PATH_COLUMNS",
    "driver_draws",
    "driver_paths",
    "future_paths",
    "scenario_prices",
]

#: The packaged series behind each driver of a scenario.
DRIVER_SERIES: Final[dict[str, str]] = {"oil_price": BRENT, "price_index": CPI}
#: The columns of :func:`driver_paths`.
PATH_COLUMNS: Final[tuple[str, ...]] = (
    "driver",
    "series",
    "year",
    "source",
    "q05",
    "q25",
    "q50",
    "q75",
    "q95",
)


def driver_draws(
    scenario: Scenario, replicates: int | None = None, seed: int | None = None
) -> dict[str, pd.DataFrame]:
    """Per driver, a frame of years (rows, the run's years) by replicates (columns).

    Observed years hold the packaged value; later years the scenario's level
    (one draw per replicate from the replicate's own stream) or the last
    observed value.
    """
    n = scenario.run.replicates if replicates is None else int(replicates)
    streams = Streams(scenario.run.seed if seed is None else int(seed), np.arange(n))
    years = range(scenario.run.start.year, scenario.run.end.year + 1)
    out: dict[str, pd.DataFrame] = {}
    for name in DRIVERS:
        history = driver(DRIVER_SERIES[name])
        last = int(history.index.max())
        value = scenario.drivers.get(name, float(history.iloc[-1]))
        future = sample(value, streams, f"drivers.{name}", n)
        table = np.empty((len(years), n))
        for i, year in enumerate(years):
            table[i] = history[year] if year in history.index else future
            if year < history.index.min():
                table[i] = history.iloc[0]
        out[name] = pd.DataFrame(table, index=pd.Index(list(years), name="year"))
        out[name].attrs["last_observed"] = last
    return out


def driver_paths(
    scenario: Scenario, replicates: int | None = None, seed: int | None = None
) -> pd.DataFrame:
    """The drivers of a run as a tidy table, columns :data:`PATH_COLUMNS`.

    ``source`` is ``observed`` up to the last packaged year, ``scenario``
    where the scenario set the level, ``carried`` where the last observed
    value is held.
    """
    rows = []
    for name, table in driver_draws(scenario, replicates, seed).items():
        last = table.attrs["last_observed"]
        q = np.quantile(table.to_numpy(), [0.05, 0.25, 0.5, 0.75, 0.95], axis=1)
        later = "scenario" if name in scenario.drivers else "carried"
        for i, year in enumerate(table.index):
            source = "observed" if year <= last else later
            rows.append((name, DRIVER_SERIES[name], int(year), source, *q[:, i]))
    return pd.DataFrame(rows, columns=list(PATH_COLUMNS))


def future_paths(scenario: Scenario) -> dict[str, dict[str, Any]]:
    """Per driver, the future path a run of ``scenario`` used (``metadata.json``'s ``drivers``).

    ``future`` is ``"scenario"`` where the ``[drivers]`` table set the level
    (``level``: its number, or its distribution as written) and ``"carried"``
    where the last observed value is held (``level``: that value);
    ``observed_until`` is the last packaged year, ``series`` the packaged
    series behind the driver.
    """
    chosen = scenario.to_dict().get("drivers", {})
    out: dict[str, dict[str, Any]] = {}
    for name in DRIVERS:
        history = driver(DRIVER_SERIES[name])
        out[name] = {
            "series": DRIVER_SERIES[name],
            "observed_until": int(history.index.max()),
            "future": "scenario" if name in chosen else "carried",
            "level": chosen[name] if name in chosen else float(history.iloc[-1]),
        }
    return out


def scenario_prices(draws: dict[str, pd.DataFrame], replicate: int = 0) -> Prices:
    """One replicate's driver paths as the prices of the dollar-valued equations."""
    oil = draws["oil_price"][replicate].rename(BRENT)
    cpi = draws["price_index"][replicate].rename(CPI)
    return Prices(oil, cpi)
