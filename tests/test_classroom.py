"""The classroom page's model: the scenario it lays over the baseline, its runs and its table."""

from __future__ import annotations

import datetime as dt

import pytest

from model.classroom import Settings, compute, outcome_table, scenario_dict


def test_page_scenario_is_laid_over_the_baseline():
    s = Settings(
        off=("su24-downing-2015",),
        moves=(("coup-attempt-2016", dt.date(2017, 1, 1)),),
        policy="balancing",
        params=(("russia_floor", 60.0), ("west_floor", 50.0)),
        incidents=2.0,
    )
    data = scenario_dict(s)
    assert data["events"]["drop"] == ["su24-downing-2015"]
    assert str(data["events"]["move"]["coup-attempt-2016"]) == "2017-01-01"
    assert data["policy"] == {
        "name": "balancing",
        "reactions": True,
        "params": {"russia_floor": 60.0, "west_floor": 50.0},
    }
    rates = {h["id"]: h["rate"] for h in data["hazards"]}
    assert rates["trade-dispute"] == pytest.approx(0.8)
    assert rates["military-incident"]["median"] == pytest.approx(0.8)
    assert "hazards" not in scenario_dict(Settings()) and "policy" not in scenario_dict(Settings())


def test_outcome_table_and_change_from_the_record():
    ref = compute(Settings(replicates=40))
    off = compute(Settings(off=("su24-downing-2015",), replicates=40))
    table = outcome_table(off, ref)
    assert table.count("<tr data-index=") == 5 and 'data-metric="years_in_crisis"' in table
    assert off.outcomes.loc["security", "mean"] != ref.outcomes.loc["security", "mean"]
    assert 'data-metric="change">0.0<' in outcome_table(ref, ref)
