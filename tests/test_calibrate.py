"""Calibration, hindcasts and the measurement model.

The central test is synthetic: simulate with known parameters, observe the
indices through known measurement equations with noise, fit, and check that
the estimates land within their reported uncertainty.
"""

from __future__ import annotations

import tomllib

import numpy as np
import pandas as pd
import pytest

import model
from model.calibrate import (
    DEFAULT_FIT,
    Measurement,
    averaging_matrix,
    calibrate,
    crps_sample,
    hindcast,
    parse_params,
    prepare,
    with_params,
)
from model.cli import main

from .conftest import SCENARIOS

BASELINE = str(SCENARIOS / "baseline.toml")
TRUE = {"indices.trade.half_life": 2.2, "events.scale.russian-sanctions-2015": 1.3}


def _synthetic(scenario: model.Scenario, seed: int = 7) -> tuple[pd.DataFrame, dict]:
    """Observations of a run with the TRUE parameters, through known equations plus noise.

    Trade: yearly values on two statistical bases (log scale, one offset each,
    common slope, noise 0.04) and a monthly series; security: a yearly count
    (Poisson) whose rate rises with the index.
    """
    params = parse_params(list(TRUE), scenario)
    truth = with_params(scenario, params, list(TRUE.values()), noise=False, end="2025-01-01")
    res = model.simulate(truth, replicates=1)
    rows = []
    for year in range(2000, 2025):
        for basis, a in (("turkstat", 3.2), ("ru_fcs", 3.0)):
            rows.append(
                (
                    "trade_total_usd_bn__" + basis,
                    "trade",
                    basis,
                    "USD bn",
                    "annual",
                    str(year),
                    year,
                    a,
                )
            )
        rows.append(
            (
                "RU_putin_erdogan_inperson_meetings_count",
                "security",
                "leader_meetings",
                "meetings",
                "annual",
                str(year),
                year,
                np.nan,
            )
        )
    for year in range(2012, 2025):
        for month in (1, 7):
            rows.append(
                (
                    "tr_exports_to_ru_usd_mn__tim",
                    "trade",
                    "tim",
                    "USD mn",
                    "periodic",
                    f"{year}-{month:02d}",
                    year,
                    1.8,
                )
            )
    frame = pd.DataFrame(
        rows, columns=["series", "indicator", "basis", "unit", "frequency", "period", "year", "a"]
    )
    frame["value"] = 1.0
    frame["sign"] = 1
    obs = prepare(frame)
    cols = [res.indicators.index(k) for k in obs.frame["indicator"]]
    x = np.einsum("it,ti->i", averaging_matrix(obs.frame, res.dates), res.paths[0][:, cols])
    rng = np.random.default_rng(seed)
    a = (
        obs.frame["series"]
        .map(frame.drop_duplicates("series").set_index("series")["a"])
        .to_numpy(float)
    )
    trade = (obs.frame["indicator"] == "trade").to_numpy()
    values = np.empty(len(obs.frame))
    eta = a + 0.05 * (x - 50.0) + 0.04 * rng.standard_normal(len(x))
    annualised = np.exp(eta)
    months = np.where(obs.frame["frequency"] == "periodic", 1.0, 12.0)
    per_unit = np.where(obs.frame["unit"] == "USD mn", 1000.0, 1.0)
    values[trade] = (annualised * months / 12.0 * per_unit)[trade]
    values[~trade] = rng.poisson(np.exp(np.log(4.0) + 0.04 * (x[~trade] - 50.0)))
    out = obs.frame[
        ["series", "indicator", "basis", "unit", "frequency", "period", "year", "sign"]
    ].copy()
    out["value"] = values
    return out, {"slope:trade:log": 0.05, "slope:security:count": 0.04}


@pytest.fixture(scope="module")
def synthetic_fit(baseline):
    observed, truth = _synthetic(baseline)
    return calibrate(baseline, list(TRUE), observed=observed), truth


def test_synthetic_parameters_are_recovered_within_their_uncertainty(synthetic_fit):
    cal, _ = synthetic_fit
    est = cal.estimates.set_index("parameter")
    for name, value in TRUE.items():
        row = est.loc[name]
        assert not row["at_bound"]
        assert 0 < row["se"] < 0.5 * value, (name, row["se"])  # informative, not vacuous
        assert abs(row["estimate"] - value) < 2.6 * row["se"], (name, row["estimate"], row["se"])
        assert row["ci_low"] < value < row["ci_high"]
        # the fit moved away from the starting value toward the truth
        assert abs(row["estimate"] - value) < abs(row["start"] - value)


def test_synthetic_measurement_parameters_are_recovered(synthetic_fit):
    cal, truth = synthetic_fit
    m = cal.measurement.set_index("parameter")
    for name, value in truth.items():
        assert abs(m.loc[name, "estimate"] - value) < 2.6 * m.loc[name, "se"], name
    # one offset per statistical basis: the two bases of the same quantity differ by 0.2
    diff = (
        m.loc["offset:trade_total|turkstat", "estimate"]
        - m.loc["offset:trade_total|ru_fcs", "estimate"]
    )
    assert diff == pytest.approx(0.2, abs=0.05)
    # the noise estimate: 0.04 pulled up a little by the prior's 4 pseudo-values at 0.2
    noise = cal.noise.set_index("block")["sigma"]
    assert 0.035 < noise["trade:log:annual"] < 0.08


def test_the_calibrated_scenario_holds_the_estimates(synthetic_fit, tmp_path):
    cal, _ = synthetic_fit
    text = cal.to_toml(extends=BASELINE, name="synthetic-fit")
    (tmp_path / "fit.toml").write_text(text)
    sc = model.load_scenario(tmp_path / "fit.toml")
    est = cal.estimates.set_index("parameter")["estimate"]
    assert sc.indices["trade"].half_life == pytest.approx(est["indices.trade.half_life"], rel=1e-3)
    assert sc.events.scale["russian-sanctions-2015"] == pytest.approx(
        est["events.scale.russian-sanctions-2015"], rel=1e-3
    )
    assert sc.indices["security"] == model.load_scenario(BASELINE).indices["security"]
    assert "s.e." in text and "parent" in text


# --------------------------------------------------------------------------- the measurement model


def test_bases_are_never_spliced_and_unusable_series_are_listed():
    obs = prepare()
    f = obs.frame
    assert (f.groupby("group")["basis"].nunique() == 1).all()
    assert {"trade_total|turkstat", "trade_total|ru_fcs", "trade_total|official_statement"} <= set(
        f["group"]
    )
    reasons = obs.excluded.set_index("series")["reason"]
    assert "stock" in reasons["WEST_eu_accession_chapters_opened_cumulative"]
    assert "growth rate" in reasons["gas_ru_to_tr_yoy_pct"]
    assert "context" in reasons["CTX_sipri_tiv_imports_total"]
    # the 2017 partial-year meeting count is dropped; the full-year one stays
    meetings = f[f["series"] == "RU_putin_erdogan_inperson_meetings_count"]
    assert meetings["year"].tolist().count(2017) == 1
    assert meetings.loc[meetings["year"] == 2019, "exposure"].iloc[0] == pytest.approx(295 / 365.25)
    # families
    fam = f.drop_duplicates("series").set_index("series")["family"]
    assert (
        fam["RU_hlcc_meeting_held"] == "binary"
        and fam["RU_sipri_tiv_imports_from_russia"] == "binary"
    )
    assert (
        fam["WEST_pew_us_favorable_pct"] == "logit" and fam["trade_total_usd_bn__ru_fcs"] == "log"
    )


def test_periodic_values_are_annualised():
    obs = prepare().frame
    row = obs[
        (obs["series"] == "trade_total_usd_mn__ru_fcs") & (obs["period"] == "2016-01..2016-06")
    ].iloc[0]
    assert np.exp(row["y"]) == pytest.approx(7.3 * 12 / (182 / (365.25 / 12)), rel=1e-6)


def test_threat_items_enter_with_the_opposite_sign():
    """A 'threat' share that falls while the index rises gives a positive slope."""
    years = np.arange(2005, 2015)
    x = np.linspace(30, 70, len(years))
    rows = pd.DataFrame(
        {
            "series": "WEST_x_us_seen_as_threat_pct",
            "indicator": "west",
            "basis": "x",
            "unit": "pct of adults",
            "frequency": "annual",
            "period": years.astype(str),
            "year": years,
            "sign": -1,
            "value": 100 / (1 + np.exp(-(0.5 - 0.03 * (x - 50)))),
        }
    )
    meas = Measurement(prepare(rows))
    fit = meas.solve(x)
    assert fit.slopes["west:logit"] == pytest.approx(0.03, rel=1e-6)
    assert np.abs(fit.residuals).max() < 1e-6


def test_a_proxy_that_runs_against_the_index_gets_slope_zero():
    years = np.arange(2005, 2015)
    x = np.linspace(30, 70, len(years))
    rows = pd.DataFrame(
        {
            "series": "RU_x_meetings_count",
            "indicator": "security",
            "basis": "x",
            "unit": "meetings",
            "frequency": "annual",
            "period": years.astype(str),
            "year": years,
            "sign": 1,
            "value": np.round(np.exp(2.0 - 0.03 * (x - 50))),
        }
    )
    fit = Measurement(prepare(rows)).solve(x)
    assert fit.slopes["security:count"] == 0.0


def test_crps_of_a_sample_matches_the_normal_formula():
    from scipy.stats import norm

    sample = norm.ppf((np.arange(20000) + 0.5) / 20000)[:, None]  # an even sample of N(0, 1)
    for y in (0.0, 1.3, -2.5):
        exact = 2 * norm.pdf(y) + y * (2 * norm.cdf(y) - 1) - 1 / np.sqrt(np.pi)
        assert crps_sample(sample, np.array([y]))[0] == pytest.approx(exact, abs=1e-4)


# --------------------------------------------------------------------------- parameters and errors


def test_parameter_names(baseline):
    names = [
        p.name
        for p in parse_params(
            "trade.half_life,scale.su24-downing-2015,spillover.trade.security,damping", baseline
        )
    ]
    assert names == [
        "indices.trade.half_life",
        "events.scale.su24-downing-2015",
        "spillover.trade.security",
        "damping",
    ]
    assert [p.name for p in parse_params(None, baseline)] == list(DEFAULT_FIT)
    assert parse_params("none", baseline) == []
    with pytest.raises(model.ArgumentError, match="did you mean 'indices.trade.half_life'"):
        parse_params("indices.trade.half_lfe", baseline)
    with pytest.raises(model.ArgumentError, match="unknown parameter"):
        parse_params("events.scale.no-such-event", baseline)


def test_the_shipped_calibrated_scenario_extends_the_baseline():
    path = SCENARIOS / "calibrated.toml"
    raw = tomllib.loads(path.read_text())
    assert raw["extends"] == "baseline.toml"
    sc = model.load_scenario(path)
    base = model.load_scenario(BASELINE)
    assert sc.run == base.run
    changed = {
        f"indices.{k}.half_life"
        for k in sc.indicators
        if sc.indices[k].half_life != base.indices[k].half_life
    }
    changed |= {f"events.scale.{k}" for k in sc.events.scale}
    assert changed and changed <= set(DEFAULT_FIT)


# --------------------------------------------------------------------------- the command line


def test_calibrate_command_writes_the_fit(tmp_path, capsys):
    out = tmp_path / "cal"
    toml = tmp_path / "calibrated-test.toml"
    code = main(
        [
            "calibrate",
            BASELINE,
            "--fit",
            "events.scale.russian-sanctions-2015",
            "--until",
            "2017",
            "--out",
            str(out),
            "--toml",
            str(toml),
        ]
    )
    assert code == 0, capsys.readouterr().err
    for name in (
        "estimates.csv",
        "measurement.csv",
        "noise.csv",
        "residuals.csv",
        "excluded.csv",
        "report.md",
        "fit.png",
    ):
        assert (out / name).stat().st_size > 0, name
    est = pd.read_csv(out / "estimates.csv")
    assert est["parameter"].tolist() == ["events.scale.russian-sanctions-2015"]
    assert est["se"].iloc[0] > 0
    assert pd.read_csv(out / "residuals.csv")["year"].max() <= 2017
    sc = model.load_scenario(toml)
    assert sc.name == "calibrated-test"
    assert sc.events.scale["russian-sanctions-2015"] == pytest.approx(
        est["estimate"].iloc[0], rel=1e-3
    )


def test_hindcast_command_scores_the_later_years(tmp_path, capsys):
    out = tmp_path / "hc"
    code = main(
        [
            "hindcast",
            BASELINE,
            "--until",
            "2016",
            "--fit",
            "none",
            "--replicates",
            "20",
            "--out",
            str(out),
            "--no-plots",
        ]
    )
    assert code == 0, capsys.readouterr().err
    scores = pd.read_csv(out / "scores.csv")
    assert {"rmse", "corr", "direction", "cover50", "cover90", "crps", "rmse_persistence"} <= set(
        scores.columns
    )
    assert set(scores["level"]) == {"key", "series"}
    assert scores["cover90"].between(0, 1).all() and (scores["crps"] >= 0).all()
    pred = pd.read_csv(out / "predictions.csv")
    assert pred["year"].min() == 2017
    assert (pred["q05"] <= pred["q95"]).all()


def test_hindcast_in_python_keeps_the_fit_to_the_early_years(baseline):
    hc = hindcast(baseline, 2018, "none", replicates=10, seed=3)
    assert hc.calibration.residuals["year"].max() <= 2018
    assert hc.predictions["year"].min() > 2018
    trade = hc.scores[(hc.scores["level"] == "key") & (hc.scores["name"] == "trade:log")].iloc[0]
    assert trade["n"] > 10 and np.isfinite(trade["rmse"])


@pytest.mark.parametrize(
    "argv, message",
    [
        (
            ["calibrate", BASELINE, "--fit", "trade.half_lfe"],
            "did you mean 'indices.trade.half_life'",
        ),
        (["calibrate", BASELINE, "--fit", "spillover.trade.trade"], "unknown parameter"),
        (["calibrate", BASELINE, "--until", "1995"], "no observations up to 1995"),
        (["calibrate", BASELINE, "--until", "20x4"], "--until must be a year"),
        (["hindcast", BASELINE, "--until", "2024"], "no observations after 2024"),
        (["hindcast", BASELINE], "required"),
        (["calibrate", "no/such/scenario.toml"], "no such file"),
    ],
)
def test_bad_input_exits_2_with_one_line(argv, message, capsys, tmp_path):
    assert main(argv + ["--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1, err
    assert not (tmp_path / "x").exists()
