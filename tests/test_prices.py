"""Prices in the measurement equations of the dollar-valued series (model/calibrate/prices.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from model.calibrate import Measurement, calibrate, prepare
from model.calibrate.prices import CPI_REF, OIL_REF, Prices, dollar_rows
from model.errors import ModelError

YEARS = range(2000, 2025)


def _prices() -> Prices:
    oil = pd.Series([30.0 + 4.0 * (y - 2000) + 20 * np.sin(y) for y in YEARS], index=list(YEARS))
    cpi = pd.Series([170.0 * 1.025 ** (y - 2000) for y in YEARS], index=list(YEARS))
    return Prices(oil.rename("oil"), cpi.rename("cpi"))


def _observed(values: dict[tuple[str, str, int], float]) -> pd.DataFrame:
    """A tidy observed frame of annual trade values (USD bn) and one gas volume (bcm)."""
    rows = [
        {
            "series": series,
            "indicator": "trade" if "usd" in series else "energy",
            "basis": series.rsplit("__", 1)[1],
            "value": value,
            "unit": unit,
            "frequency": "annual",
            "sign": 1,
            "period": str(year),
            "year": year,
        }
        for (series, unit, year), value in values.items()
    ]
    return pd.DataFrame(rows)


def test_only_dollar_rows_get_price_columns_and_they_are_the_logs():
    p = _prices()
    frame = pd.DataFrame(
        {"unit": ["USD bn", "bcm", "usd mn (nominal)"], "year": [2005, 2005, 2020]}
    )
    assert dollar_rows(frame).tolist() == [True, False, True]
    oil, deflator = p.columns(frame)
    assert oil[1] == deflator[1] == 0.0
    for i, year in ((0, 2005), (2, 2020)):
        assert deflator[i] == pytest.approx(np.log(p.cpi[year] / CPI_REF))
        real = p.oil[year] * CPI_REF / p.cpi[year]
        assert oil[i] == pytest.approx(np.log(real / OIL_REF))


def test_frozen_prices_carry_the_origin_year_and_keep_the_history():
    p = _prices()
    f = p.frozen(2010, 2016)
    assert f.oil.loc[2000:2010].equals(p.oil.loc[2000:2010])
    assert (f.oil.loc[2011:2016] == p.oil[2010]).all()
    assert (f.cpi.loc[2011:2016] == p.cpi[2010]).all()
    assert f.oil.index.max() == 2016


def test_a_year_without_prices_is_an_error_naming_it():
    frame = pd.DataFrame({"unit": ["USD bn"], "year": [2031]})
    with pytest.raises(ModelError, match="2031"):
        _prices().columns(frame)


def test_the_oil_elasticity_and_the_deflator_are_recovered_from_synthetic_values():
    """Values made by the price equation with elasticity 0.9 are fitted back to 0.9."""
    p = _prices()
    rng = np.random.default_rng(3)
    x_of = {y: 50 + 15 * np.sin(y / 3) for y in YEARS}
    values, xs = {}, []
    for series, a in (("trade_total_usd_bn__turkstat", 3.2), ("trade_total_usd_bn__ru_fcs", 3.0)):
        for year in YEARS:
            real = np.log(p.oil[year] * CPI_REF / p.cpi[year] / OIL_REF)
            y = a + 0.03 * (x_of[year] - 50) + 0.9 * real + np.log(p.cpi[year] / CPI_REF)
            values[(series, "USD bn", year)] = float(np.exp(y + rng.normal(0, 0.03)))
    for year in YEARS:  # a volume: no price term, whatever the oil price does
        values[("gas_ru_to_tr_bcm__gazprom", "bcm", year)] = float(np.exp(3 + 0.1 * (year % 3)))
    obs = prepare(_observed(values))
    xs = obs.frame["year"].map(x_of).to_numpy(float)
    with_prices = Measurement(obs, prices=p).settle(xs)
    without = Measurement(obs).settle(xs)
    assert with_prices.prices == {"trade:log": pytest.approx(0.9, abs=0.05)}
    assert with_prices.slopes["trade:log"] == pytest.approx(0.03, abs=0.003)
    assert with_prices.offsets["trade_total|turkstat"] == pytest.approx(3.2, abs=0.05)
    assert "energy:log" not in with_prices.prices
    assert with_prices.sigma["trade:log:annual"] < without.sigma["trade:log:annual"] / 3


def test_the_frozen_path_moves_only_the_dollar_rows_after_the_origin():
    p = _prices()
    values = {
        ("trade_total_usd_bn__turkstat", "USD bn", y): 10.0 + y - 2000 for y in range(2000, 2011)
    }
    values |= {("gas_ru_to_tr_bcm__gazprom", "bcm", y): 20.0 for y in range(2000, 2011)}
    obs = prepare(_observed(values))
    meas = Measurement(obs, prices=p)
    x = np.full(len(obs), 50.0)
    fit = meas.settle(x)
    later = obs.frame.assign(year=obs.frame["year"] + 3)  # 2003..2013
    known = meas.linear_predictor(fit, later, x)
    frozen = meas.linear_predictor(fit, later, x, p.frozen(2010, 2013))
    moved = ~np.isclose(known, frozen)
    is_usd = dollar_rows(later)
    assert moved.any()
    assert not moved[~is_usd].any()
    assert not moved[(later["year"] <= 2010).to_numpy()].any()


def test_prices_raise_the_likelihood_of_the_packaged_data(baseline):
    """The packaged trade values: the real oil price matters, its 90% interval excludes 0."""
    plain = calibrate(baseline, "none")
    priced = calibrate(baseline, "none", prices=True)
    assert priced.info["loglik"] > plain.info["loglik"] + 20
    row = priced.measurement.set_index("parameter").loc["price:trade:log"]
    assert row["estimate"] - 1.645 * row["se"] > 0.5
    assert row["estimate"] + 1.645 * row["se"] < 1.3
    sigma = priced.noise.set_index("block")["sigma"]
    assert sigma["trade:log:annual"] < plain.noise.set_index("block")["sigma"]["trade:log:annual"]


def test_the_additions_are_read_apart_and_only_their_trade_and_gas_figures():
    from model.calibrate.observed import load_observed

    add = load_observed("additions")
    assert set(add["indicator"]) == {"trade", "energy"}
    assert not add["series"].str.contains("price").any()
    row = add[(add["series"] == "trade_total_usd_bn__official_statement") & (add["year"] == 2017)]
    assert row["value"].tolist() == [22.0] and row["basis"].tolist() == ["official_statement"]
    assert len(load_observed("extended")) == len(load_observed("all")) + len(add)
    assert not load_observed("all")["source"].isin(add["source"]).all()


def test_the_evaluation_takes_the_extended_data_and_names_them(baseline):
    from model.calibrate.evaluate import evaluate
    from model.errors import ArgumentError

    ev = evaluate(baseline, [2017], [1], "known-events", observed="extended", replicates=4, draws=2)
    assert ev.settings["observed"] == "extended" and ev.settings["prices"]
    official = ev.scores[(ev.scores["series"] == "trade_total|official_statement")]
    assert set(official["method"]) >= {"model", "persistence"}  # 2017 and 2018 now observed
    with pytest.raises(ArgumentError, match="observed"):
        evaluate(baseline, [2017], [1], observed="everything", replicates=2, draws=1)
