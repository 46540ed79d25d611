"""The classroom page's model: the scenario it lays over the baseline, its runs and its table."""

from __future__ import annotations

import datetime as dt

import pytest

import model
from model.catalog import consequences, load_catalog
from model.classroom import (
    GUIDED_EVENTS,
    GUIDED_STEPS,
    PERIODS,
    Settings,
    causal_note,
    check,
    compute,
    compute_path,
    event_periods,
    guided_intro,
    guided_text,
    matching,
    outcome_table,
    scenario_dict,
    toggle,
    went_with,
)
from model.errors import ArgumentError

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


# --------------------------------------------------------------------------- what the page accepts


@pytest.mark.parametrize(
    "settings, message",
    [
        (Settings(replicates=300_000), "replicates: 300000 is outside the page's range 20–1000"),
        (Settings(replicates=0), "replicates: 0 is outside the page's range 20–1000"),
        (Settings(incidents=float("nan")), "incident rate: nan is outside the page's range 0–3"),
        (Settings(off=("su24-downing-2016",)), "events: unknown event id 'su24-downing-2016'"),
        (
            Settings(moves=(("coup-attempt-2016", dt.date(2040, 1, 1)),)),
            "move: coup-attempt-2016: 2040-01-01 is outside the run (2000-01-01 to 2035-12-31)",
        ),
        (Settings(policy="appeasement"), "policy: unknown policy 'appeasement'"),
        (
            Settings(policy="balancing", params=(("west_floor", 1e9),)),
            "West floor: 1000000000.0 is outside the page's range 0–100",
        ),
        (
            Settings(policy="balancing", params=(("energy_target", 50.0),)),
            "policy: balancing has no setting 'energy_target'",
        ),
    ],
)
def test_the_page_refuses_what_its_controls_cannot_give(settings, message):
    with pytest.raises(ArgumentError) as err:
        check(settings)  # what the page does before anything runs
    assert str(err.value).startswith(message)


def test_unknown_events_cannot_be_ticked():
    with pytest.raises(ArgumentError, match="unknown event id 'nope'"):
        toggle((), [*CATALOG_IDS, "nope"])


# --------------------------------------------------------------------------- finding events


def test_every_event_is_in_exactly_one_period_in_date_order():
    groups = event_periods()
    assert [i for ids in groups.values() for i in ids] == CATALOG_IDS
    for (first, last, name), ids in zip(PERIODS, groups.values()):
        assert all(first <= CATALOG[i].date.year <= last for i in ids), name


@pytest.mark.parametrize(
    "query, expected",
    [
        ("su-24", {"su24-downing-2015", "erdogan-letter-2016"}),
        ("SU-24 regret", {"erdogan-letter-2016"}),
        ("erdogan 2016", {"erdogan-letter-2016", "putin-erdogan-call-2016"}),
        ("S-400", {"s400-contract-2017", "s400-delivery-2019"}),
    ],
)
def test_events_are_found_by_words_of_their_title_or_their_year(query, expected):
    found = matching(query)
    assert expected <= found
    # nothing else: each found event holds every word (accents and case aside)
    for i in found:
        text = f"{CATALOG[i].title} {i} {CATALOG[i].date}".lower().replace("ğ", "g")
        assert all(w.lower() in text for w in query.split()), i


def test_a_year_finds_the_events_of_that_year():
    assert matching("2020") == {i for i in CATALOG_IDS if CATALOG[i].date.year == 2020}
    assert matching("") == set(CATALOG_IDS)


# --------------------------------------------------------------------------- the guided history


def test_the_guided_history_counts_its_steps_the_same_everywhere_and_ends_with_the_question():
    assert GUIDED_STEPS == len(GUIDED_EVENTS) + 1 == 14
    assert f"{GUIDED_STEPS} steps" in guided_intro()
    assert f"{len(GUIDED_EVENTS)} main events" in guided_intro()
    for step in range(GUIDED_STEPS):
        assert f"#### {step + 1} of {GUIDED_STEPS}:" in guided_text(step)
    last = guided_text(GUIDED_STEPS - 1)
    assert "Balancing" in last and "does a balancing policy make *both* relations" in last
    assert "2022" in guided_text(GUIDED_STEPS - 2)  # the grain deal comes just before it


# --------------------------------------------------------------------------- the quick path


def test_the_path_without_noise_is_one_replicate_that_follows_the_change():
    s = Settings(off=("su24-downing-2015",), replicates=40)
    path = compute_path(s)
    assert path.result.metadata["replicates"] == 1
    q = path.result.quantiles
    sec = q[q["indicator"] == "security"].set_index("date")["q50"]
    record = compute_path(Settings(replicates=40)).result.quantiles
    rec = record[record["indicator"] == "security"].set_index("date")["q50"]
    # without the downing, security does not collapse in 2016
    assert sec.loc["2016-06-01"] > rec.loc["2016-06-01"] + 10
    assert (q["q95"] - q["q05"]).max() <= 0.05 + 1e-9  # one path: no band (0.05-point bins)


def test_the_path_chart_is_drawn_like_the_fan_chart_in_a_fraction_of_its_time():
    import io
    import time

    from PIL import Image

    from model.plotting.classroom import WIDTH, fan_chart, path_chart

    s = Settings(off=("coup-attempt-2016",), replicates=40)
    ref = compute(s.reference())
    path_chart(compute_path(Settings(replicates=40)), ref)  # the background, once
    path = compute_path(s)
    t0 = time.perf_counter()
    png = path_chart(path, ref)
    quick = time.perf_counter() - t0
    t0 = time.perf_counter()
    full, _ = fan_chart(compute(s), ref)
    slow = time.perf_counter() - t0
    with Image.open(io.BytesIO(png)) as a, Image.open(io.BytesIO(full)) as b:
        assert a.size == b.size and a.width == WIDTH
    assert quick < slow
    other = path_chart(compute_path(Settings(off=("s400-delivery-2019",), replicates=40)), ref)
    assert other != png
