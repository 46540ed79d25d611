"""Every index held against data: slopes with 90% intervals, and the UN General Assembly votes."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.calibrate import calibrate
from model.calibrate.alignment import UNGA_SERIES, index_slopes, load_unga, unga_slopes


def test_the_unga_series_are_read_without_the_unreliable_session():
    unga = load_unga()
    assert set(UNGA_SERIES) <= set(unga["series"])
    assert unga["year"].min() == 2000
    assert not unga["note"].str.contains("UNRELIABLE").any()
    shares = unga[unga["series"].str.startswith("unga_identical_votes")]["value"]
    assert ((shares > 0) & (shares < 1)).all()


def test_a_series_made_from_the_index_gets_its_slope_back_inside_the_interval():
    years = np.arange(2000, 2023)
    west = 50 + 20 * np.sin(years / 4.0)
    index = pd.DataFrame({"west": west, "security": 50.0 + years - 2000}, index=years)
    rng = np.random.default_rng(1)
    logit = -0.2 + 0.04 * (west - 50) + rng.normal(0, 0.05, len(years))
    unga = pd.DataFrame(
        {
            "year": years,
            "series": "unga_identical_votes_tur_usa__rollcall",
            "value": 1 / (1 + np.exp(-logit)),
        }
    )
    table = unga_slopes(index, unga).set_index("series")
    row = table.loc["unga_identical_votes_tur_usa__rollcall"]
    assert row["ci90_low"] < 0.04 < row["ci90_high"]
    assert row["above_zero"] and row["n"] == len(years)
    flat = unga.assign(value=0.5 + rng.normal(0, 0.01, len(years)))
    assert not unga_slopes(index, flat)["above_zero"].any()


def test_each_index_has_a_slope_table_with_the_packaged_data(baseline):
    cal = calibrate(baseline, "none", prices=True)
    table = index_slopes(cal)
    assert set(table["index"]) == {"trade", "energy", "security", "west"}
    by = table.groupby("index")["above_zero"].any()
    assert by["trade"] and by["security"] and by["west"]
    west_votes = table.set_index("series").loc["unga_identical_votes_tur_usa__rollcall"]
    assert west_votes["ci90_low"] > 0 and west_votes["n"] == 20
    gas = table[(table["index"] == "energy")].iloc[0]
    assert gas["ci90_low"] < 0 < gas["ci90_high"]  # gas volumes cannot show the energy index
    has_se = table["se"].notna()
    half = (table["ci90_high"] - table["slope"])[has_se].to_numpy()
    assert half == pytest.approx(1.6448536 * table["se"][has_se].to_numpy(), rel=1e-6)


def test_calibrate_writes_the_slopes_and_the_residual_autocorrelation(tmp_path, capsys):
    from model.cli import main

    from .conftest import SCENARIOS

    out = tmp_path / "cal"
    args = ["calibrate", str(SCENARIOS / "baseline.toml"), "--fit", "none", "--prices"]
    assert main(args + ["--no-plots", "--out", str(out)]) == 0
    assert "slopes.csv autocorrelation.csv" in capsys.readouterr().out
    slopes = pd.read_csv(out / "slopes.csv")
    assert {"energy", "security", "west", "trade"} <= set(slopes["index"])
    acf = pd.read_csv(out / "autocorrelation.csv").set_index(["deviation", "key"])
    trade = acf.loc[("one per series", "trade:log")]
    assert abs(trade["acf1_after"]) < abs(trade["acf1_before"])
    assert acf.loc[("shared by the key", "trade:log"), "rho"] > 0.5
