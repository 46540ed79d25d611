"""The exogenous drivers shipped with the package (Brent, US CPI) and their loader."""

from __future__ import annotations

import pandas as pd
import pytest

from model.calibrate.drivers import BRENT, DRIVER_COLUMNS, driver, load_drivers
from model.calibrate.observed import load_drivers as from_observed
from model.errors import ArgumentError


def test_the_drivers_are_tidy_with_a_source_on_every_row():
    frame = load_drivers()
    assert tuple(frame.columns) == DRIVER_COLUMNS
    assert set(frame["series"]) == {"brent_usd_bbl", "us_cpi_u_annual_avg"}
    assert (frame.groupby("series")["year"].agg(["min", "max", "size"]) == [2000, 2024, 25]).all(
        axis=None
    )
    assert (frame["source"].str.len() > 0).all() and (frame["source_ref"].str.len() > 0).all()
    assert pd.api.types.is_integer_dtype(frame["year"])
    assert from_observed().equals(frame)


def test_brent_by_year_matches_the_file_and_the_readme():
    brent = driver(BRENT)
    assert brent.name == BRENT and list(brent.index[:2]) == [2000, 2001]
    # the README's figures: 96.94 -> 61.74 in 2008-09, 98.97 -> 52.32 in 2014-15
    assert brent[[2008, 2009, 2014, 2015]].tolist() == [96.94, 61.74, 98.97, 52.32]
    assert brent[2000] == 28.66
    brent[2000] = 0.0  # a copy: the cache is untouched
    assert driver()[2000] == 28.66


def test_an_unknown_driver_names_the_argument_and_the_closest_name():
    with pytest.raises(ArgumentError, match="brent_usd_bbl") as info:
        driver("brent_usd")
    assert info.value.argument == "name"
