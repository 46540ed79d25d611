"""The classroom page's model: the scenario it lays over the baseline, its runs and its table."""

from __future__ import annotations

import datetime as dt

import pytest

import model
from model.catalog import consequences, load_catalog
from model.classroom import (
    Settings,
    causal_note,
    compute,
    outcome_table,
    scenario_dict,
    toggle,
    went_with,
)

from .conftest import SCENARIOS


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


# --------------------------------------------------------------------------- causes, not rows

CATALOG = load_catalog()
CATALOG_IDS = list(CATALOG)
AVIATION = [i for i in CATALOG_IDS if i in consequences(CATALOG, "su24-downing-2015")]
SANCTIONS = [i for i in CATALOG_IDS if i in consequences(CATALOG, "russian-sanctions-2015")]


def _on(*off: str) -> list[str]:
    return [i for i in CATALOG_IDS if i not in off]


def test_switching_a_cause_off_switches_its_consequences_off_too():
    chosen, off = toggle((), _on("su24-downing-2015"))
    assert chosen == ("su24-downing-2015",)
    assert off == ("su24-downing-2015", *AVIATION) and len(off) == 13
    # a consequence ticked again stays off while its cause is off
    assert toggle(chosen, [*_on(*off), "sanctions-tourism-lifted-2016"]) == (chosen, off)
    assert toggle(chosen, CATALOG_IDS) == ((), ())  # the cause back: everything is back
    # the sanctions off first, then the downing: the downing back, the sanctions stay off
    sanctions, off = toggle((), _on("russian-sanctions-2015"))
    assert off == ("russian-sanctions-2015", *SANCTIONS)
    both, _ = toggle(sanctions, _on(*off, "su24-downing-2015"))
    assert both == ("su24-downing-2015", "russian-sanctions-2015")
    assert toggle(both, _on(*off)) == (sanctions, off)


def test_the_note_says_what_goes_with_a_cause():
    off = Settings(off=("su24-downing-2015",))
    assert went_with(off) == {"su24-downing-2015": tuple(AVIATION)}
    note = causal_note(off)
    assert "12 events that follow from it go with it" in note
    assert "Russia imposes economic sanctions on Türkiye (and the 7 events that follow" in note
    assert causal_note(Settings()) == ""
    moved = causal_note(Settings(moves=(("s400-delivery-2019", dt.date(2021, 7, 12)),)))
    assert "moved to 2021-07-12: 2 events that require it go" in moved


def test_an_event_that_goes_with_another_one_off_is_no_setting_of_its_own():
    both = Settings(off=("russian-sanctions-2015", "su24-downing-2015"))
    assert both.normalised() == Settings(off=("su24-downing-2015",)).normalised()


def test_the_page_and_the_equivalent_scenario_file_give_identical_numbers():
    page = compute(Settings(off=("su24-downing-2015",), replicates=20)).result
    file = model.load_scenario(SCENARIOS / "no-su24-downing.toml")
    res = model.simulate(file, replicates=20, seed=file.run.seed)
    assert page.quantiles.equals(res.quantiles)
    assert page.events.equals(res.events)
    assert page.summary.equals(res.summary)
    assert not set(page.events["event"]) & {"su24-downing-2015", *AVIATION}
