"""Exploration: parameters, the model as a function, sensitivity, sweeps, attribution, EMA."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

import model
from model import explore as ex
from model.cli import main

from .conftest import SCENARIOS

BASELINE = str(SCENARIOS / "baseline.toml")
SANCTIONS = "events.scale.russian-sanctions-2015"


@pytest.fixture(scope="module")
def quiet(baseline) -> model.Scenario:
    """The baseline without noise: one deterministic replicate per point."""
    return baseline.model_copy(update={"run": baseline.run.model_copy(update={"noise": False})})


# ------------------------------------------------------------------------ the model as a function


def test_experiment_returns_the_documented_outcomes(baseline):
    out = ex.experiment({}, baseline, seed=3, replicates=6)
    assert list(out) == ex.outcome_names(baseline)
    assert "mean_trade_2026_2035" in out and "min_security" in out and "final_west" in out
    assert "years_in_crisis_security" in out and "trade_2030" in out
    assert all(isinstance(v, float) for v in out.values())


def test_experiment_agrees_with_the_ensemble_runner(baseline):
    """Same seed, same replicate numbers: the same paths as model.simulate."""
    out = ex.experiment({}, baseline, seed=3, replicates=6)
    res = model.simulate(baseline, replicates=6, seed=3, trajectories=True)
    s = res.summary.set_index(["indicator", "metric"])["mean"]
    for k in baseline.indicators:
        assert out[f"final_{k}"] == pytest.approx(s[(k, "final")], abs=1e-9)
        assert out[f"min_{k}"] == pytest.approx(s[(k, "min")], abs=1e-9)
        assert out[f"years_in_crisis_{k}"] == pytest.approx(s[(k, "years_in_crisis")], abs=1e-9)
    q = res.quantiles[res.quantiles["indicator"] == "trade"]
    outlook = q[(q["date"].dt.year >= 2026) & (q["date"].dt.year <= 2035)]["mean"].mean()
    assert out["mean_trade_2026_2035"] == pytest.approx(outlook, abs=1e-6)


def test_common_random_numbers_make_a_dummy_change_nothing(baseline):
    a = ex.experiment({"dummy": 0.1}, baseline, seed=5, replicates=4)
    b = ex.experiment({"dummy": 0.9}, baseline, seed=5, replicates=4)
    assert a == b
    c = ex.experiment({SANCTIONS: 1.2}, baseline, seed=5, replicates=4)
    assert c["mean_trade_2026_2035"] < a["mean_trade_2026_2035"]
    assert c["final_west"] == a["final_west"]  # nothing spills onto west: exactly the same draws


def test_a_quiet_run_is_one_deterministic_replicate(quiet):
    frame = ex.replicate_outcomes({}, quiet, replicates=8)
    assert len(frame) == 1
    assert ex.experiment({}, quiet, seed=1) == ex.experiment({}, quiet, seed=2)


def test_outcome_period_must_be_inside_the_run(baseline):
    with pytest.raises(model.ArgumentError, match="no record"):
        ex.experiment({}, baseline, outcomes=ex.Outcomes((2040, 2045)))


# --------------------------------------------------------------------------- sensitivity


RANGES = {
    "indices.trade.half_life": (1.0, 3.0),
    "damping": (0.3, 0.9),
    SANCTIONS: (0.6, 1.4),
    "dummy": (0.0, 1.0),
}


@pytest.fixture(scope="module")
def sobol(baseline):
    return ex.sensitivity(
        baseline,
        RANGES,
        samples=16,
        replicates=2,
        seed=1,
        outcomes=["mean_trade_2026_2035", "mean_energy_2026_2035", "final_west"],
    )


def test_sobol_gives_a_dummy_exactly_zero(sobol):
    t = sobol.indices.set_index(["outcome", "parameter"])
    for outcome in ("mean_trade_2026_2035", "mean_energy_2026_2035"):
        row = t.loc[(outcome, "dummy")]
        assert row["ST"] == pytest.approx(0.0, abs=1e-12) and row["ST_conf"] == pytest.approx(
            0.0, abs=1e-12
        )
        assert row["S1"] == pytest.approx(0.0, abs=1e-12)
    assert t.loc[("mean_trade_2026_2035", SANCTIONS), "ST"] > 0.5
    assert t.loc[("final_west", "dummy")].isna().all()  # west does not move: nothing to apportion
    assert len(sobol.samples) == 16 * (len(RANGES) + 2)
    assert {"se_mean_trade_2026_2035", "damping", "mean_trade_2026_2035"} <= set(
        sobol.samples.columns
    )


def test_without_common_random_numbers_the_noise_looks_like_sensitivity(baseline):
    res = ex.sensitivity(
        baseline,
        {SANCTIONS: (0.9, 1.1), "dummy": (0.0, 1.0)},
        samples=16,
        replicates=2,
        seed=1,
        outcomes=["mean_security_2026_2035"],
        common_random_numbers=False,
    )
    dummy = res.indices.set_index("parameter").loc["dummy"]
    assert dummy["ST"] > 0.01


def test_morris_gives_a_dummy_zero_effect(baseline):
    res = ex.sensitivity(
        baseline,
        RANGES,
        method="morris",
        samples=4,
        replicates=2,
        seed=1,
        outcomes=["mean_trade_2026_2035"],
    )
    t = res.indices.set_index("parameter")
    assert t.loc["dummy", "mu_star"] == 0.0
    assert t.loc[SANCTIONS, "mu_star"] > t.loc["damping", "mu_star"]
    assert len(res.samples) == 4 * (len(RANGES) + 1)


def test_sobol_needs_a_power_of_two(baseline):
    with pytest.raises(model.ArgumentError, match="power of 2"):
        ex.sensitivity(baseline, RANGES, samples=100)


def test_workers_give_the_same_numbers(baseline):
    points = pd.DataFrame({SANCTIONS: [0.8, 1.0, 1.2, 1.4], "dummy": [0.0, 0.2, 0.4, 0.6]})
    one = ex.evaluate(baseline, points, seed=2, replicates=2, workers=1)
    two = ex.evaluate(baseline, points, seed=2, replicates=2, workers=2)
    pd.testing.assert_frame_equal(one, two)


def test_a_bad_point_in_a_worker_is_a_scenario_error(baseline):
    points = pd.DataFrame({"indices.trade.half_life": [1.5, 1.5, 1.5, -1.0]})
    with pytest.raises(model.ScenarioError, match="half_life"):
        ex.evaluate(baseline, points, replicates=1, workers=2)


def test_dask_gives_the_same_numbers(baseline):
    pytest.importorskip("dask.distributed")
    points = pd.DataFrame({SANCTIONS: [0.8, 1.2]})
    one = ex.evaluate(baseline, points, seed=2, replicates=2)
    on_dask = ex.evaluate(baseline, points, seed=2, replicates=2, scheduler="local")
    pd.testing.assert_frame_equal(one, on_dask)


# --------------------------------------------------------------------------- sweeps


def test_one_parameter_sweep_is_monotone_where_the_model_is(quiet):
    res = ex.sweep(quiet, {SANCTIONS: [0.5, 1.0, 1.5]})
    trade = res.table["mean_trade_2026_2035"].to_numpy()
    assert np.all(np.diff(trade) < 0)
    assert (res.table["se_mean_trade_2026_2035"] == 0).all()


def test_two_parameter_grid_and_latin_hypercube(quiet):
    grid = ex.sweep(quiet, {SANCTIONS: [0.5, 1.5], "indices.trade.half_life": [1.0, 2.0, 3.0]})
    assert len(grid.table) == 6 and set(grid.parameters) == {SANCTIONS, "indices.trade.half_life"}
    lhs = ex.latin_hypercube(
        quiet, {SANCTIONS: (0.5, 1.5), "damping": (0.2, 0.8), "dummy": (0, 1)}, samples=5
    )
    assert len(lhs.table) == 5
    for name, (low, high) in {SANCTIONS: (0.5, 1.5), "damping": (0.2, 0.8)}.items():
        col = np.sort(lhs.table[name].to_numpy())
        assert low <= col[0] and col[-1] <= high
        strata = np.floor((col - low) / (high - low) * 5).astype(int)
        assert sorted(strata) == list(range(5))  # one point per stratum
    with pytest.raises(model.ArgumentError, match="one or two"):
        ex.sweep(quiet, {"damping": [0.1], SANCTIONS: [1.0], "dummy": [0.0]})


def test_sensitivity_can_group_the_events_of_each_cluster(quiet):
    ranges = {
        "events.scale.su24-downing-2015": (0.5, 1.5),
        SANCTIONS: (0.8, 1.2),
        "events.scale.s400-delivery-2019": (0.5, 1.5),
        "clusters.s400-affair": (0.5, 1.5),
        "damping": (0.3, 0.9),
        "dummy": (0.0, 1.0),
    }
    res = ex.sensitivity(
        quiet,
        ranges,
        method="sobol",
        samples=4,
        replicates=1,
        outcomes=["mean_trade_2026_2035"],
        groups="clusters",
        num_resamples=20,
    )
    assert res.problem["groups"] == [
        "aviation-crisis",
        "aviation-crisis",
        "s400-affair",
        "s400-affair",
        "damping",
        "dummy",
    ]
    assert list(res.indices["parameter"]) == ["aviation-crisis", "s400-affair", "damping", "dummy"]
    assert len(res.samples) == 4 * (4 + 2)  # Saltelli: samples x (groups + 2)
    st = res.indices.set_index("parameter")["ST"]
    assert st["dummy"] == 0.0 and st["aviation-crisis"] > 0
    # without groups: one row per parameter, as before
    plain = ex.sensitivity(
        quiet, ranges, method="morris", samples=2, replicates=1, outcomes=["mean_trade_2026_2035"]
    )
    assert list(plain.indices["parameter"]) == list(ranges)
    with pytest.raises(model.ArgumentError, match="groups: 'nosuch' is not a parameter"):
        ex.sensitivity(quiet, ranges, samples=4, replicates=1, groups={"nosuch": "x"})


# --------------------------------------------------------------------------- attribution


def test_leave_one_out_attribution(baseline):
    res = ex.attribute(
        baseline,
        "2020-06-15",
        ["s400-delivery-2019", "su24-downing-2015", "ukraine-invasion-2022"],
        replicates=20,
        seed=1,
    )
    assert res.at == "2020-06-01"
    c = res.contributions.set_index(["indicator", "event"])
    # an event after the date contributes exactly nothing (common random numbers)
    later = c.xs("ukraine-invasion-2022", level="event")
    assert (later[["mean", "sd", "q05", "q95"]] == 0).all().all()
    assert c.loc[("west", "s400-delivery-2019"), "q95"] < 0
    assert c.loc[("security", "su24-downing-2015"), "q95"] < 0
    assert "points of west" in c.loc[("west", "s400-delivery-2019"), "statement"]
    lv = res.levels.set_index(["indicator", "run"])["mean"]
    for k in baseline.indicators:  # the waterfall closes: none + contributions + interactions = all
        steps = res.contributions[res.contributions["indicator"] == k]["mean"].sum()
        assert lv[(k, "with all events")] == pytest.approx(
            lv[(k, "without the 3 chosen events")] + steps, abs=1e-9
        )


def test_shapley_values_add_up_and_agree_with_leave_one_out_without_interactions(quiet):
    ids = ["s400-delivery-2019", "coup-attempt-2016", "su24-downing-2015"]
    sh = ex.attribute(quiet, "2020", ids, method="shapley", replicates=1)
    loo = ex.attribute(quiet, "2020", ids, method="loo", replicates=1)
    assert "(interactions)" not in set(sh.contributions["event"])
    lv = sh.levels.set_index(["indicator", "run"])["mean"]
    for k in quiet.indicators:
        total = sh.contributions[sh.contributions["indicator"] == k]["mean"].sum()
        assert total == pytest.approx(
            lv[(k, "with all events")] - lv[(k, "without the 3 chosen events")], abs=1e-9
        )
    a = sh.contributions.set_index(["indicator", "event"])["mean"]
    b = loo.contributions.set_index(["indicator", "event"])["mean"]
    assert a[("west", "s400-delivery-2019")] == pytest.approx(
        b[("west", "s400-delivery-2019")], abs=0.3
    )


def test_scaling_to_zero_shares_every_random_number_dropping_does_not(baseline):
    """West is untouched by the sanctions: zero when scaled to zero, new noise when dropped."""
    zero = ex.attribute(baseline, "2016", ["russian-sanctions-2015"], replicates=10, removal="zero")
    drop = ex.attribute(baseline, "2016", ["russian-sanctions-2015"], replicates=10, removal="drop")
    west = {
        name: r.contributions.set_index(["indicator", "event"]).loc[
            ("west", "russian-sanctions-2015")
        ]
        for name, r in (("zero", zero), ("drop", drop))
    }
    assert west["zero"]["mean"] == 0.0 and west["zero"]["sd"] == 0.0
    assert west["drop"]["sd"] > 0.0


def test_removing_an_added_event_removes_its_follow_ups():
    sc = model.load_scenario(SCENARIOS / "ukraine-ceasefire-2026.toml")
    gone = ex.without_events(sc, ["ukraine-ceasefire-2026"])
    assert not gone.events.add
    zero = ex.without_events(sc, ["ukraine-ceasefire-2026"], removal="zero")
    assert zero.events.scale["ukraine-ceasefire-2026"] == 0.0 and len(zero.events.add) == 2
    res = ex.attribute(
        sc, "2028", ["ukraine-ceasefire-2026", "black-sea-shipping-deal-2027"], replicates=10
    )
    c = res.contributions.set_index(["indicator", "event"])
    assert c.loc[("security", "ukraine-ceasefire-2026"), "mean"] > 0


def test_unknown_event_is_an_argument_error(baseline):
    with pytest.raises(model.ArgumentError, match="did you mean 's400-delivery-2019'"):
        ex.attribute(baseline, "2020", ["s400-delivery-2018"], replicates=2)
    with pytest.raises(model.ArgumentError, match="at most"):
        ex.attribute(
            baseline,
            "2020",
            [e.id for e in baseline.timeline()[:11]],
            method="shapley",
            replicates=2,
        )


def _level(sc: model.Scenario, at: str, replicates: int = 12, seed: int = 4) -> pd.DataFrame:
    """Per replicate, each index at the record ``at`` (replicate x indicator)."""
    res = model.simulate(sc, replicates=replicates, seed=seed)
    i = list(res.dates.strftime("%Y-%m-%d")).index(at)
    return pd.DataFrame(res.paths[:, i, :], columns=res.indicators)


def _contribution(res, indicator: str, event: str) -> pd.Series:
    return res.contributions.set_index(["indicator", "event"]).loc[(indicator, event)]


def test_a_cluster_attribution_is_the_baseline_minus_the_cascaded_drop(baseline):
    at = "2020-01-01"
    res = ex.attribute(baseline, at, removal="drop", replicates=12, seed=4)
    assert res.metadata["analysis"]["factors"]["aviation-crisis"][0] == "su24-downing-2015"
    assert len(res.metadata["analysis"]["factors"]["aviation-crisis"]) == 13
    # the knock-out of the whole chain is the what-if that drops its root
    data = baseline.to_dict()
    data["events"]["drop"] = ["su24-downing-2015"]
    gap = _level(baseline, at) - _level(model.scenario_from_dict(data), at)
    for k in baseline.indicators:
        c = _contribution(res, k, "aviation-crisis")
        assert c["mean"] == float(gap[k].mean())  # bit for bit: the same runs
        assert c["q05"] == float(np.quantile(gap[k], 0.05))
    assert _contribution(res, "trade", "aviation-crisis")["mean"] < -3
    # an event outside every cluster is a factor of its own; members are not
    assert "coup-attempt-2016" in set(res.contributions["event"])
    assert "russian-sanctions-2015" not in set(res.contributions["event"])


def test_by_default_a_cluster_is_scaled_to_zero_whole(baseline):
    at = "2020-01-01"
    res = ex.attribute(
        baseline, at, ["aviation-crisis", "coup-attempt-2016"], replicates=12, seed=4
    )
    members = res.metadata["analysis"]["factors"]["aviation-crisis"]
    zeroed = ex.without_events(baseline, members, removal="zero")
    assert {zeroed.events.scale[i] for i in members} == {0.0}
    gap = _level(baseline, at) - _level(zeroed, at)
    assert _contribution(res, "trade", "aviation-crisis")["mean"] == float(gap["trade"].mean())
    # the same knock-out as dropping the root, but with every time split kept (less noise)
    drop = ex.attribute(baseline, at, ["aviation-crisis"], removal="drop", replicates=12, seed=4)
    a, b = (_contribution(r, "trade", "aviation-crisis") for r in (res, drop))
    assert abs(a["mean"] - b["mean"]) < 3 * b["se"] and a["sd"] < b["sd"]
    lv = res.levels.set_index(["indicator", "run"])["mean"]
    assert ("trade", "without the 2 chosen clusters and events") in lv.index


def test_per_event_attribution_counts_an_event_without_its_consequences(baseline):
    at = "2020-01-01"
    alone = ex.attribute(baseline, at, per_event=True, replicates=4, seed=1)
    assert "russian-sanctions-2015" in set(alone.contributions["event"])
    assert not {
        f
        for f in alone.metadata["analysis"]["factors"]
        if len(alone.metadata["analysis"]["factors"][f]) > 1
    }
    # scaled to zero, the sanctions' own effects only (their lifting still fires)...
    own = _contribution(alone, "trade", "russian-sanctions-2015")["mean"]
    # ...dropped, the sanctions and everything that requires them
    chain = ex.attribute(baseline, at, ["russian-sanctions-2015"], removal="drop", replicates=4)
    whole = _contribution(chain, "trade", "russian-sanctions-2015")["mean"]
    assert own < -20 < whole < 0


def test_an_unknown_cluster_or_event_is_named(baseline):
    with pytest.raises(model.ArgumentError, match="did you mean 'aviation-crisis'"):
        ex.attribute(baseline, "2020", ["aviation-crisi"], replicates=2)


# --------------------------------------------------------------------------- the command line


def test_cli_sensitivity_sweep_and_attribute(tmp_path):
    out = tmp_path / "sens"
    assert (
        main(
            [
                "sensitivity",
                BASELINE,
                "--params",
                f"{SANCTIONS}=0.8:1.2",
                "dummy",
                "--samples",
                "4",
                "--replicates",
                "2",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    idx = pd.read_csv(out / "indices.csv")
    assert {"outcome", "parameter", "S1", "S1_conf", "ST", "ST_conf"} <= set(idx.columns)
    assert (out / "sensitivity.png").stat().st_size > 0
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["analysis"]["method"] == "sobol" and meta["analysis"]["common_random_numbers"]
    out = tmp_path / "sweep"
    assert (
        main(
            [
                "sweep",
                BASELINE,
                "--grid",
                f"{SANCTIONS}=0.5:1.5:3",
                "--no-noise",
                "--out",
                str(out),
                "--outcomes",
                "mean_trade_2026_2035,final_security",
            ]
        )
        == 0
    )
    assert len(pd.read_csv(out / "sweep.csv")) == 3 and (out / "sweep.png").exists()
    out = tmp_path / "lhs"
    assert (
        main(
            [
                "sweep",
                BASELINE,
                "--lhs",
                "4",
                "--params",
                "damping=0.2:0.8",
                f"{SANCTIONS}=0.5:1.5",
                "--no-noise",
                "--out",
                str(out),
                "--no-plots",
            ]
        )
        == 0
    )
    out = tmp_path / "attr"
    assert (
        main(
            [
                "attribute",
                BASELINE,
                "--at",
                "2020-01-01",
                "--events",
                "s400-delivery-2019,su24-downing-2015",
                "--replicates",
                "4",
                "--out",
                str(out),
            ]
        )
        == 0
    )
    assert (out / "waterfall.png").exists() and len(pd.read_csv(out / "contributions.csv")) == 12


def test_cli_attribute_by_cluster_by_default_and_per_event(tmp_path, capsys):
    args = ["attribute", BASELINE, "--at", "2016-01-01", "--replicates", "2", "--no-plots"]
    assert main([*args, "--out", str(tmp_path / "a")]) == 0
    shown = capsys.readouterr().out
    assert "largest contributions at 2016-01-01" in shown
    table = pd.read_csv(tmp_path / "a" / "contributions.csv")
    assert "aviation-crisis" in set(table["event"])
    assert "russian-sanctions-2015" not in set(table["event"])
    assert main([*args, "--per-event", "--out", str(tmp_path / "b")]) == 0
    table = pd.read_csv(tmp_path / "b" / "contributions.csv")
    assert "russian-sanctions-2015" in set(table["event"])
    assert "aviation-crisis" not in set(table["event"])
    sens = ["sensitivity", BASELINE, "--samples", "4", "--replicates", "1", "--no-plots"]
    assert main([*sens, "--group-clusters", "--out", str(tmp_path / "s")]) == 0
    idx = pd.read_csv(tmp_path / "s" / "indices.csv")
    assert {"aviation-crisis", "s400-affair", "ukraine-war"} <= set(idx["parameter"])


@pytest.mark.parametrize(
    "argv, words",
    [
        (["sweep", BASELINE, "--grid", "damping=0.1:0.9"], "--grid"),
        (["sweep", BASELINE], "sweep"),
        (
            ["sensitivity", BASELINE, "--params", "nosuch.thing=0:1", "--samples", "4"],
            "unknown key",
        ),
        (
            ["sensitivity", BASELINE, "--samples", "4", "--outcomes", "mean_trade_2020_2030"],
            "unknown outcome",
        ),
        (["attribute", BASELINE, "--at", "1990"], "--at"),
    ],
)
def test_cli_bad_input_is_one_line_and_status_2(tmp_path, capsys, argv, words):
    assert main(argv + ["--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and words in err and "\n" not in err
    assert not (tmp_path / "x").exists()


# --------------------------------------------------------------------------- EMA Workbench


def test_ema_adapter_runs_experiments_and_prim(quiet):
    pytest.importorskip(
        "ema_workbench", reason="EMA Workbench is an optional extra: pip install -e '.[ema]'"
    )
    from model.explore import ema

    m = ema.make_model(
        quiet,
        {SANCTIONS: (0.5, 1.5), "indices.trade.half_life": (1.0, 3.0), "dummy": (0.0, 1.0)},
        levers={"policy.name": ["passive", "balancing"]},
        outcomes=["trade_2030", "mean_west_2026_2035"],
    )
    assert [u.name for u in m.uncertainties] == [SANCTIONS, "indices.trade.half_life", "dummy"]
    experiments, outcomes = ema.run_experiments(m, scenarios=30, policies=ema.policies(m), seed=1)
    assert len(experiments) == 60 and set(outcomes) == {"trade_2030", "mean_west_2026_2035"}
    low_trade = float(
        np.quantile(outcomes["trade_2030"], 0.3)
    )  # the lowest 30 % (robust to recalibration)
    found = ema.discover(experiments, outcomes, "trade_2030", threshold=low_trade)
    assert SANCTIONS in found.limits.index and "dummy" not in found.limits.index
    assert found.limits.loc[SANCTIONS, "min"] > 0.5  # low trade comes with large sanctions
    summary = found.summary()
    base_rate = summary["cases_of_interest"] / summary["experiments"]
    assert summary["density"] > 2 * base_rate and summary["coverage"] > 0.8
    west = pd.DataFrame(
        {"policy": experiments["policy.name"], "west": outcomes["mean_west_2026_2035"]}
    )
    means = west.groupby("policy")["west"].mean()
    assert means["balancing"] > means["passive"]  # the lever acts
