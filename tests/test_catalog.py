"""The historical catalog: integrity, sources, the fixed ids and the brief's dates."""

from __future__ import annotations

import datetime as dt
import tomllib
from importlib import resources

import pytest

from model.catalog import (
    Dist,
    Event,
    _context_events,
    add_duration,
    load_catalog,
    load_context_events,
    parse_condition,
)
from model.errors import ScenarioError

CATALOG = load_catalog()
CONTEXT = load_context_events()
FIXED = {
    "su24-downing-2015": dt.date(2015, 11, 24),
    "russian-sanctions-2015": dt.date(2015, 11, 28),
    "coup-attempt-2016": dt.date(2016, 7, 15),
    "s400-delivery-2019": dt.date(2019, 7, 12),
}


def test_catalog_is_large_and_ids_unique():
    assert len(CATALOG) >= 30
    ids = [e.id for e in CATALOG.values()]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("ident, date", FIXED.items())
def test_fixed_ids_and_dates(ident, date):
    assert CATALOG[ident].date == date


def test_every_event_is_dated_in_range_and_sourced():
    for e in CATALOG.values():
        assert dt.date(1985, 1, 1) <= e.date <= dt.date(2025, 12, 31), e.id
        assert e.brief.strip(), e.id
        assert e.reference.strip(), e.id
        assert e.reference == "none" or "http" in e.reference or "'" in e.reference, e.id
        assert e.effects, e.id


def test_where_the_brief_differs_the_record_wins_and_the_brief_is_noted():
    karabakh = [e for e in CATALOG.values() if e.brief_date == dt.date(2020, 9, 20)]
    assert karabakh and karabakh[0].date == dt.date(2020, 9, 27)
    sochi = [e for e in CATALOG.values() if e.brief_date == dt.date(2018, 10, 3)]
    assert sochi and sochi[0].date == dt.date(2018, 9, 17)
    akkuyu = [e for e in CATALOG.values() if "akkuyu" in e.id and e.brief_date is not None]
    assert akkuyu and akkuyu[0].date == dt.date(2010, 5, 12)


def test_sanctions_are_lifted_in_steps_that_undo_them():
    imposed = sum(f.shift for f in CATALOG["russian-sanctions-2015"].effects
                  if f.indicator == "trade" and f.shift is not None)
    lifted = sum(f.shift for e in CATALOG.values() if "lifted" in e.id and e.date.year in (2016, 2017, 2018)
                 for f in e.effects if f.indicator == "trade" and f.shift is not None)
    assert imposed < -15
    assert abs(imposed + lifted) < 1e-9


def test_the_brief_reading_of_the_big_events():
    def total(ident, indicator):
        return sum((f.jump or 0) + (f.shift or 0) for f in CATALOG[ident].effects if f.indicator == indicator)

    assert total("su24-downing-2015", "security") < -15
    assert total("s400-delivery-2019", "west") < 0 < total("s400-delivery-2019", "security")
    assert total("coup-attempt-2016", "security") > 0


def test_durations_and_conditions_parse():
    assert add_duration(dt.date(2015, 11, 28), "18m") == dt.date(2017, 5, 28)
    assert add_duration(dt.date(2020, 1, 31), "1m") == dt.date(2020, 2, 29)
    assert add_duration(dt.date(2020, 1, 1), "90d") == dt.date(2020, 3, 31)
    assert parse_condition("security < 25 and west >= 40.5") == [("security", "<", 25.0), ("west", ">=", 40.5)]
    with pytest.raises(ValueError):
        parse_condition("security is low")


@pytest.mark.parametrize("spec", [
    {"dist": "normal", "mean": 1.0, "sd": -1.0},
    {"dist": "uniform", "low": 2.0, "high": 1.0},
    {"dist": "triangular", "low": 0.0, "mode": 5.0, "high": 1.0},
    {"dist": "lognormal", "median": -1.0, "sigma": 0.2},
    {"dist": "normal", "mean": 1.0},
    {"dist": "normal", "mean": 1.0, "sd": 1.0, "low": 0.0},
])
def test_impossible_distributions_are_refused(spec):
    with pytest.raises(ValueError):
        Dist.model_validate(spec)


# --- context events (outside the brief, not in the catalog) ------------------


def test_context_events_load_and_stay_out_of_the_catalog():
    assert len(CONTEXT) >= 5
    assert all(e.scope == "context" for e in CONTEXT.values())
    assert all(e.scope == "brief" for e in CATALOG.values())
    assert not set(CONTEXT) & set(CATALOG)


def test_context_ids_are_unique_across_both_files():
    def ids(name):
        text = (resources.files("model") / "data" / name).read_text(encoding="utf-8")
        return [item["id"] for item in tomllib.loads(text)["events"]]

    both = ids("events.toml") + ids("context_events.toml")
    assert len(both) == len(set(both))
    assert set(ids("context_events.toml")) == set(CONTEXT)


def test_every_context_event_is_sourced_dated_and_in_range():
    indices = {"trade", "energy", "security", "west"}
    for e in CONTEXT.values():
        assert e.date is not None and e.after is None, e.id
        assert dt.date(2000, 1, 1) <= e.date <= dt.date(2024, 12, 31), e.id
        assert e.reference.strip() not in ("", "none", "hypothetical"), e.id
        assert "http" in e.reference, e.id
        assert e.brief == "not in brief", e.id
        assert e.effect_confidence != "high", e.id
        assert e.note.strip(), e.id
        assert e.indicators() <= indices, e.id


def test_the_catalog_candidates_are_not_duplicated():
    # the troops vote and the EU accession steps are catalog events already
    for ident in ("march-1-memorandum-2003", "eu-accession-talks-opened-2005",
                  "eu-chapters-frozen-2006"):
        assert ident in CATALOG
        assert not any(e.date == CATALOG[ident].date for e in CONTEXT.values())


def test_a_context_file_entry_without_the_context_scope_is_refused():
    text = """
[[events]]
id = "some-shock-2020"
date = 2020-03-01
title = "A shock"
reference = "https://example.org"
effects = [{ indicator = "trade", jump = -1.0 }]
"""
    with pytest.raises(ScenarioError, match=r"events\.some-shock-2020\.scope"):
        _context_events(text)
    good = text.replace("[[events]]", '[[events]]\nscope = "context"')
    assert _context_events(good)
    with pytest.raises(ScenarioError, match="id used twice"):
        _context_events(good + good)


def test_the_scope_is_left_out_of_dumps_where_it_is_the_default():
    brief = Event(id="a", date=dt.date(2020, 1, 1), title="a",
                  effects=[{"indicator": "trade", "jump": 1.0}])
    assert "scope" not in brief.model_dump()
    context = brief.model_copy(update={"scope": "context"})
    assert context.model_dump(mode="json")["scope"] == "context"
    assert Event.model_validate(context.model_dump()).scope == "context"
