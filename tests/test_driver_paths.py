"""A scenario's drivers: the packaged history and the future path the scenario chooses."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import model
from model.calibrate.driver_paths import driver_draws, driver_paths, scenario_prices
from model.calibrate.drivers import driver
from model.cli import main

from .conftest import SCENARIOS


def test_without_a_drivers_table_the_last_observed_values_are_carried(baseline):
    paths = driver_paths(baseline, replicates=20, seed=1)
    oil = paths[paths["driver"] == "oil_price"].set_index("year")
    brent = driver("brent_usd_bbl")
    assert oil.loc[2015, "q50"] == brent[2015] and oil.loc[2015, "source"] == "observed"
    assert (oil.loc[2025:, "source"] == "carried").all()
    assert (oil.loc[2025:, ["q05", "q95"]] == brent[2024]).all().all()
    assert oil.index.min() == baseline.run.start.year
    assert oil.index.max() == baseline.run.end.year


def test_the_oil_scenarios_set_the_future_level_with_its_uncertainty():
    cheap = model.load_scenario(SCENARIOS / "oil-50.toml")
    dear = model.load_scenario(SCENARIOS / "oil-100.toml")
    draws = driver_draws(cheap, replicates=400, seed=3)["oil_price"]
    future = draws.loc[2025:]
    assert (future.nunique(axis=0) == 1).all()  # one level per replicate, held flat
    assert np.median(future.loc[2030]) == pytest.approx(50.0, rel=0.03)
    assert np.std(np.log(future.loc[2030])) == pytest.approx(0.1, rel=0.15)
    assert (draws.loc[2024] == driver("brent_usd_bbl")[2024]).all()
    paths = driver_paths(dear, 400, 3).set_index(["driver", "year"])
    assert paths.loc[("oil_price", 2030), "q50"] == pytest.approx(100.0, rel=0.03)
    assert paths.loc[("oil_price", 2030), "source"] == "scenario"
    assert paths.loc[("price_index", 2030), "source"] == "carried"
    again = driver_draws(cheap, replicates=400, seed=3)["oil_price"]
    pd.testing.assert_frame_equal(draws, again)


def test_a_replicate_path_feeds_the_dollar_equations():
    cheap = model.load_scenario(SCENARIOS / "oil-50.toml")
    prices = scenario_prices(driver_draws(cheap, replicates=5, seed=0), replicate=2)
    frame = pd.DataFrame({"unit": ["USD bn"], "year": [2030]})
    oil, deflator = prices.columns(frame)
    assert deflator[0] == pytest.approx(np.log(driver("us_cpi_u_annual_avg")[2024] / 229.594))
    assert 30 < np.exp(oil[0] + deflator[0]) * 100 < 80  # back to nominal dollars a barrel


def test_a_run_with_drivers_writes_them_and_one_without_does_not(tmp_path, capsys):
    out = tmp_path / "oil"
    args = ["run", str(SCENARIOS / "oil-50.toml"), "--replicates", "3", "--no-plots"]
    assert main(args + ["--out", str(out)]) == 0
    assert "drivers.csv" in capsys.readouterr().out
    table = pd.read_csv(out / "drivers.csv")
    assert set(table["driver"]) == {"oil_price", "price_index"}
    plain = tmp_path / "plain"
    base = ["run", str(SCENARIOS / "baseline.toml"), "--replicates", "2", "--no-plots"]
    assert main(base + ["--out", str(plain)]) == 0
    assert not (plain / "drivers.csv").exists()
    assert "drivers" not in json.loads((plain / "metadata.json").read_text())


def test_the_metadata_says_which_future_path_each_driver_took(tmp_path, capsys):
    out = tmp_path / "oil"
    args = ["run", str(SCENARIOS / "oil-100.toml"), "--replicates", "3", "--no-plots"]
    assert main(args + ["--out", str(out)]) == 0
    capsys.readouterr()
    said = json.loads((out / "metadata.json").read_text())["drivers"]
    oil, cpi = said["oil_price"], said["price_index"]
    assert oil["future"] == "scenario" and cpi["future"] == "carried"
    assert oil["level"] == {"dist": "lognormal", "median": 100.0, "sigma": 0.1}
    assert oil["series"] == "brent_usd_bbl" and oil["observed_until"] == 2024
    assert cpi["level"] == pytest.approx(driver("us_cpi_u_annual_avg")[2024])
    table = pd.read_csv(out / "drivers.csv")  # the same story as drivers.csv
    later = table[table["year"] > oil["observed_until"]]
    assert set(later.loc[later["driver"] == "oil_price", "source"]) == {"scenario"}
    assert set(later.loc[later["driver"] == "price_index", "source"]) == {"carried"}
    assert later.loc[later["driver"] == "price_index", "q50"].to_numpy() == pytest.approx(
        cpi["level"], rel=1e-5
    )


def test_the_drivers_picture_has_a_panel_per_driver_with_the_future_bands():
    import matplotlib

    matplotlib.use("Agg")
    from model.plotting.drivers import plot_drivers

    paths = driver_paths(model.load_scenario(SCENARIOS / "oil-100.toml"), 50, 1)
    fig = plot_drivers(paths)
    oil, cpi = fig.axes
    assert oil.get_title(loc="left") == "oil_price" and cpi.get_title(loc="left") == "price_index"
    assert len(oil.collections) == 2  # the 50% and 90% bands of the scenario's years
    low, high = oil.get_ylim()
    assert high > 100 > low


def test_a_run_can_take_the_calibrated_parameters_with_their_uncertainty(tmp_path, capsys):
    import tomllib

    from model.calibrate.calibrated_file import with_calibrated_parameters

    no_downing = model.load_scenario(SCENARIOS / "no-su24-downing.toml")
    laid = with_calibrated_parameters(no_downing)
    assert laid.indices["trade"].half_life.dist == "lognormal"
    sanctions = laid.events.scale["russian-sanctions-2015"]  # not run without the downing:
    assert sanctions == no_downing.events.scale["russian-sanctions-2015"]  # left as it was
    assert laid.events.scale["ukraine-war-trade-2022"].dist == "lognormal"
    out = tmp_path / "run"
    args = ["run", str(SCENARIOS / "baseline.toml"), "--parameters", "calibrated"]
    assert main(args + ["--replicates", "3", "--no-plots", "--out", str(out)]) == 0
    resolved = tomllib.loads((out / "scenario.resolved.toml").read_text())
    assert resolved["indices"]["trade"]["half_life"]["dist"] == "lognormal"
    assert resolved["events"]["scale"]["russian-sanctions-2015"]["dist"] == "lognormal"
