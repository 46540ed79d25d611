"""Policies and reactions: the rules, their timing, cooldowns, and the comparison."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import model
from model import policies
from model.cli import main
from model.compare import compare_policies

from .conftest import SCENARIOS


def levels(**kw):
    base = {"trade": [60.0], "energy": [60.0], "security": [60.0], "west": [60.0]}
    base.update({k: v for k, v in kw.items()})
    return {k: np.array(v, dtype=float) for k, v in base.items()}


def params(name, **kw):
    p = dict(policies.DEFAULT_PARAMS[name], **kw)
    return {k: np.array([v]) for k, v in p.items()}


def test_balancing_repairs_the_weaker_side_first():
    p = params("balancing", russia_floor=50, west_floor=50)
    assert policies.decide("balancing", levels(security=[40], west=[45]), p)[0] == "summit"
    assert (
        policies.decide("balancing", levels(security=[48], west=[35]), p)[0] == "nato-reassurance"
    )
    assert policies.decide("balancing", levels(), p)[0] == "mediation"


def test_west_first_and_russia_pivot_follow_their_rules():
    assert (
        policies.decide("west_first", levels(west=[50]), params("west_first"))[0]
        == "nato-reassurance"
    )
    assert (
        policies.decide("west_first", levels(west=[75], security=[60]), params("west_first"))[0]
        == "join-sanctions"
    )
    assert (
        policies.decide("russia_pivot", levels(security=[50]), params("russia_pivot"))[0]
        == "arms-purchase"
    )
    assert (
        policies.decide("russia_pivot", levels(security=[80], energy=[60]), params("russia_pivot"))[
            0
        ]
        == "energy-deal"
    )
    assert policies.decide("passive", levels(), {})[0] == ""


def test_rules_first_match_wins():
    rules = [("west < 45", "nato-reassurance"), ("security < 50", "summit")]
    lv = levels(west=[40, 60, 60], security=[40, 40, 60], trade=[60] * 3, energy=[60] * 3)
    out = policies.decide("rules", lv, {}, rules)
    assert list(out) == ["nato-reassurance", "summit", ""]


def scenario(**policy):
    data = {"name": "p", "run": {"replicates": 20, "seed": 4}, "policy": policy}
    return model.scenario_from_dict(data)


def test_a_policy_changes_nothing_before_its_start():
    passive = model.simulate(scenario(name="passive"), 20)
    active = model.simulate(scenario(name="west_first", start="2026-01-01", reactions=True), 20)
    before = passive.dates < "2026-01-01"
    np.testing.assert_array_equal(passive.paths[:, before], active.paths[:, before])
    assert not np.array_equal(passive.paths[:, ~before], active.paths[:, ~before])


def test_cooldowns_limit_how_often_an_action_is_taken():
    res = model.simulate(scenario(name="russia_pivot"), 20)
    ev = res.events
    arms = ev[
        (ev["event"] == "policy-arms-purchase")
        & (ev["kind"] == "shift")
        & (ev["indicator"] == "security")
    ]
    per_rep = arms.groupby("replicate")["date"].apply(
        lambda d: d.sort_values().diff().dt.days.min()
    )
    assert len(arms) > 0
    assert (per_rep.dropna() >= 3 * 365).all()


def test_reactions_fire_only_where_their_condition_holds():
    res = model.simulate(scenario(name="russia_pivot", reactions=True), 20)
    hits = res.events[res.events["event"] == "reaction-western-pressure"]
    assert len(hits) > 0
    for _, row in hits.head(10).iterrows():
        day_before = res.paths[row["replicate"], res.dates < row["date"]][-1]
        assert day_before[res.indicators.index("security")] > 60


SCENARIO_NAME = "not a function"


def always_mediate(levels, params):
    """A policy written in Python: mediate at every review."""
    return np.where(levels["west"] > 0, "mediation", "")


def test_a_policy_written_in_python_is_named_by_its_import_path():
    res = model.simulate(scenario(name="tests.test_policies:always_mediate"), 5, workers=2)
    assert (res.events["event"] == "policy-mediation").sum() >= 5 * 9
    assert policies.policy_names() == list(policies.BUILTIN)  # nothing registered anywhere


@pytest.mark.parametrize(
    "name, words",
    [
        ("tests.test_policies:never_written", "has no function 'never_written'"),
        ("no_such_module:decide", "cannot import module 'no_such_module'"),
        ("tests.test_policies:SCENARIO_NAME", "is not a function"),
    ],
)
def test_a_python_policy_that_cannot_be_found_is_a_scenario_error(name, words):
    with pytest.raises(model.ScenarioError, match=words) as err:
        scenario(name=name)
    assert err.value.field == "policy.name"


@pytest.fixture(scope="module")
def comparison():
    sc = model.load_scenario(SCENARIOS / "stress.toml")
    return compare_policies(sc, replicates=30)


def test_policies_differ_as_their_rules_imply(comparison):
    m = comparison.metrics[comparison.metrics["metric"] == "mean"].set_index(
        ["policy", "indicator"]
    )["mean"]
    assert m[("west_first", "west")] > m[("balancing", "west")] > m[("russia_pivot", "west")]
    assert m[("russia_pivot", "security")] > m[("west_first", "security")]
    assert m[("balancing", "west")] > m[("passive", "west")]


def test_policy_comparison_uses_common_random_numbers(comparison):
    a, b = comparison.results["passive"], comparison.results["balancing"]
    before = a.dates < "2026-01-01"
    np.testing.assert_array_equal(a.paths[:, before], b.paths[:, before])


def test_cli_policies(tmp_path):
    out = tmp_path / "pol"
    args = [
        "policies",
        str(SCENARIOS / "baseline.toml"),
        "--out",
        str(out),
        "--replicates",
        "8",
        "--workers",
        "1",
    ]
    assert main(args) == 0
    table = pd.read_csv(out / "policies.csv")
    assert set(table["policy"]) == {"passive", "balancing", "west_first", "russia_pivot"}
    for name in ("policies_grid.png", "tradeoff.png", "policies_wide.csv"):
        assert (out / name).stat().st_size > 0
    assert main(["policies", str(SCENARIOS / "baseline.toml"), "--policies", "nope"]) == 2
