"""The historical catalog: integrity, sources, the fixed ids, the brief's dates and the links."""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

import model
from model import catalog
from model.catalog import (
    Cluster,
    Event,
    _context_events,
    check_clusters,
    check_requires,
    clusters,
    consequences,
    load_catalog,
    load_clusters,
    load_context_events,
)
from model.conditions import parse_condition
from model.distributions import Dist
from model.errors import ScenarioError
from model.timeaxis import add_duration

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
    imposed = sum(
        f.shift
        for f in CATALOG["russian-sanctions-2015"].effects
        if f.indicator == "trade" and f.shift is not None
    )
    lifted = sum(
        f.shift
        for e in CATALOG.values()
        if "lifted" in e.id and e.date.year in (2016, 2017, 2018)
        for f in e.effects
        if f.indicator == "trade" and f.shift is not None
    )
    assert imposed < -15
    assert abs(imposed + lifted) < 1e-9


def test_the_brief_reading_of_the_big_events():
    def total(ident, indicator):
        return sum(
            (f.jump or 0) + (f.shift or 0)
            for f in CATALOG[ident].effects
            if f.indicator == indicator
        )

    assert total("su24-downing-2015", "security") < -15
    assert total("s400-delivery-2019", "west") < 0 < total("s400-delivery-2019", "security")
    assert total("coup-attempt-2016", "security") > 0


def test_durations_and_conditions_parse():
    assert add_duration(dt.date(2015, 11, 28), "18m") == dt.date(2017, 5, 28)
    assert add_duration(dt.date(2020, 1, 31), "1m") == dt.date(2020, 2, 29)
    assert add_duration(dt.date(2020, 1, 1), "90d") == dt.date(2020, 3, 31)
    assert parse_condition("security < 25 and west >= 40.5") == [
        ("security", "<", 25.0),
        ("west", ">=", 40.5),
    ]
    with pytest.raises(ValueError):
        parse_condition("security is low")


@pytest.mark.parametrize(
    "spec",
    [
        {"dist": "normal", "mean": 1.0, "sd": -1.0},
        {"dist": "uniform", "low": 2.0, "high": 1.0},
        {"dist": "triangular", "low": 0.0, "mode": 5.0, "high": 1.0},
        {"dist": "lognormal", "median": -1.0, "sigma": 0.2},
        {"dist": "normal", "mean": 1.0},
        {"dist": "normal", "mean": 1.0, "sd": 1.0, "low": 0.0},
    ],
)
def test_impossible_distributions_are_refused(spec):
    with pytest.raises(ValueError):
        Dist.model_validate(spec)


# --------------------------------------------------------------------------- requires


def _event(ident, when=dt.date(2020, 1, 1), requires=(), after=None):
    """A small event: dated ``when``, or a follow-up ``after = (parent, days)``."""
    timing = {"after": {"event": after[0], "days": after[1]}} if after else {"date": when}
    return Event.model_validate(
        {
            "id": ident,
            "title": ident,
            "requires": requires,
            "effects": [{"indicator": "trade", "jump": 1.0}],
            **timing,
        }
    )


def _chain(*ids):
    """Events dated a day apart, each requiring the one before."""
    day = dt.date(2020, 1, 1)
    return [
        _event(b, day + dt.timedelta(days=i), [a] if a else [])
        for i, (a, b) in enumerate(zip((None, *ids), ids))
    ]


def test_requires_reads_a_table_of_reasons_or_a_plain_list():
    table = _event("b", requires={"a": "a caused b", "c": "c enabled b"})
    assert table.requires == {"a": "a caused b", "c": "c enabled b"}
    assert _event("b", requires=["a", "c"]).requires == {"a": "", "c": ""}
    assert _event("b").requires == {}


@pytest.mark.parametrize(
    "requires, message",
    [
        (["a", "a"], "'requires' lists 'a' more than once"),
        (["Not An Id"], "'requires' names 'Not An Id', which is not an event id"),
        ({"a": "two\nlines"}, "the reason for requiring 'a' must be one line"),
        ([3], "'requires' lists event ids as strings (got 3)"),
        (["b"], "event 'b' requires itself"),
    ],
)
def test_bad_requires_are_refused_with_field_and_value(requires, message):
    with pytest.raises(ValidationError) as info:
        _event("b", requires=requires)
    assert message in str(info.value)


def test_an_event_without_links_dumps_as_before_and_every_event_hashes():
    plain = _event("a")
    assert "requires" not in plain.model_dump() and "requires" not in plain.model_dump(mode="json")
    linked = _event("b", requires={"a": "x", "c": "y"})
    assert linked.model_dump()["requires"] == {"a": "x", "c": "y"}
    assert hash(linked) == hash(_event("b", requires={"c": "y", "a": "x"}))
    assert hash(plain) != hash(linked)


def test_an_unknown_required_event_is_refused_with_the_closest_ids():
    events = [_event("su24-downing-2015"), _event("sanctions", requires=["su24-downing-2016"])]
    expected = (
        "event 'sanctions' requires unknown event 'su24-downing-2016' "
        "(did you mean 'su24-downing-2015'?)"
    )
    with pytest.raises(ValueError, match=re.escape(expected)):
        check_requires(events)


@pytest.mark.parametrize(
    "links, cycle",
    [
        ({"a": ["b"], "b": ["a"]}, "a -> b -> a"),
        ({"a": ["b"], "b": ["c"], "c": ["a"]}, "a -> b -> c -> a"),
        ({"x": [], "a": ["x", "b"], "b": ["c"], "c": ["b"]}, "b -> c -> b"),
    ],
)
def test_a_cycle_is_refused_and_named_in_order(links, cycle):
    events = [_event(ident, requires=causes) for ident, causes in links.items()]
    with pytest.raises(ValueError, match=f"^requires form a cycle: {cycle}$"):
        check_requires(events)


def test_a_cause_dated_after_its_consequence_is_refused():
    effect = _event("effect", dt.date(2016, 6, 29), ["cause"])
    events = [_event("cause", dt.date(2016, 6, 30)), effect]
    with pytest.raises(
        ValueError,
        match=r"event 'effect' \(2016-06-29\) requires 'cause', "
        r"which comes later \(2016-06-30\)",
    ):
        check_requires(events)
    check_requires([_event("cause", dt.date(2016, 6, 29)), effect])  # the same day is allowed


def test_a_follow_up_counts_at_its_parents_date_plus_its_days():
    parent = _event("parent", dt.date(2020, 1, 1))
    check_requires(
        [
            parent,
            _event("cause", dt.date(2020, 1, 11)),
            _event("later", requires=["cause"], after=("parent", 30)),
        ]
    )
    with pytest.raises(ValueError, match="event 'later' .2020-01-31. requires 'cause'"):
        check_requires(
            [
                parent,
                _event("cause", dt.date(2020, 2, 10)),
                _event("later", requires=["cause"], after=("parent", 30)),
            ]
        )
    with pytest.raises(ValueError, match="event 'early' .2020-01-11. requires 'echo'"):
        check_requires(
            [
                parent,
                _event("echo", after=("parent", 30)),
                _event("early", dt.date(2020, 1, 11), ["echo"]),
            ]
        )


def test_consequences_follow_links_through_several_levels():
    events = [*_chain("a", "b", "c", "d"), _event("e", dt.date(2020, 2, 1), ["b"]), _event("f")]
    assert consequences(events, {"a"}) == {"b", "c", "d", "e"}
    assert consequences(events, "c") == {"d"}
    assert consequences(events, ["d", "f", "unknown"]) == set()
    assert consequences(events, ["a", "c"]) == {"b", "c", "d", "e"}
    assert consequences({e.id: e for e in events}, "b") == {"c", "d", "e"}


def test_clusters_are_the_linked_groups_of_two_or_more_in_order():
    events = [
        _event("lone"),
        *_chain("a", "b"),
        _event("x"),
        _event("y", requires=["x"]),
        _event("c", dt.date(2020, 3, 1), ["b"]),
    ]
    assert clusters(events) == [frozenset({"a", "b", "c"}), frozenset({"x", "y"})]
    assert clusters([_event("lone")]) == []


@st.composite
def linked_events(draw):
    """Up to nine events a day apart, each requiring some of the earlier ones (never a cycle)."""
    n = draw(st.integers(1, 9))
    causes = [draw(st.sets(st.integers(0, i - 1), max_size=3)) if i else set() for i in range(n)]
    day = dt.date(2020, 1, 1)
    return [
        _event(f"e{i}", day + dt.timedelta(days=i), [f"e{j}" for j in sorted(c)])
        for i, c in enumerate(causes)
    ]


@given(linked_events(), st.data())
def test_consequences_are_closed_under_requires_and_transitive(events, data):
    check_requires(events)
    some_ids = st.sets(st.sampled_from([e.id for e in events]))
    ids, more = data.draw(some_ids), data.draw(some_ids)
    found = consequences(events, ids)
    for e in events:  # exactly what requires something dropped is dropped
        assert (e.id in found) == bool(e.requires.keys() & (found | ids)), e.id
    assert consequences(events, found) <= found  # transitive
    assert consequences(events, ids | more) == found | consequences(events, more)


@given(linked_events())
def test_clusters_partition_the_linked_events_and_keep_every_link_inside(events):
    groups = clusters(events)
    assert sum(len(g) for g in groups) == len(set().union(*groups))
    linked = {e.id for e in events if e.requires} | {c for e in events for c in e.requires}
    assert set().union(*groups) == linked
    for e in events:
        for cause in e.requires:
            assert sum(e.id in g and cause in g for g in groups) == 1
    for g in groups:  # connected: links read both ways reach all of a group from one member
        reached = {min(g)}
        for _ in g:
            reached |= {c for e in events if e.id in reached for c in e.requires}
            reached |= {e.id for e in events if e.requires.keys() & reached}
        assert reached == g


# --------------------------------------------------------------------------- the catalog's links

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def _causes(ident):
    """Every event ``ident`` requires, directly or not."""
    return {other for other in CATALOG if ident in consequences(CATALOG, other)}


def test_the_shipped_catalog_passes_and_every_link_gives_a_reason():
    check_requires(CATALOG)
    links = [(e.id, cause, why) for e in CATALOG.values() for cause, why in e.requires.items()]
    assert len(links) >= 30
    assert [x for x in links if len(x[2].split()) < 4] == []


def test_on_a_shared_date_a_cause_comes_first_in_the_catalog():
    order = list(CATALOG)
    for e in CATALOG.values():
        for cause in e.requires:
            assert order.index(cause) < order.index(e.id), (cause, e.id)


@pytest.mark.parametrize(
    "consequence, cause",
    [
        ("russian-sanctions-2015", "su24-downing-2015"),
        ("sanctions-in-force-2016", "russian-sanctions-2015"),
        *[
            (lifted, "russian-sanctions-2015")
            for lifted in (
                "sanctions-tourism-lifted-2016",
                "sanctions-charters-lifted-2016",
                "sanctions-food-partly-lifted-2016",
                "sanctions-works-lifted-2017",
                "sanctions-food-lifted-2017",
                "sanctions-tomatoes-lifted-2017",
            )
        ],
        *[
            (thaw, "su24-downing-2015")
            for thaw in (
                "russia-day-messages-2016",
                "erdogan-letter-2016",
                "putin-erdogan-call-2016",
            )
        ],
        ("turkstream-suspended-2015", "su24-downing-2015"),
        ("turkstream-inauguration-2020", "turkstream-agreement-2016"),
        ("s400-delivery-2019", "s400-contract-2017"),
        ("caatsa-sanctions-2020", "s400-delivery-2019"),
        ("f35-removal-2019", "s400-delivery-2019"),
        ("blue-stream-deliveries-2003", "blue-stream-agreement-1997"),
        ("blue-stream-inauguration-2005", "blue-stream-agreement-1997"),
        ("akkuyu-groundbreaking-2018", "akkuyu-agreement-2010"),
        ("grain-deal-withdrawal-2023", "black-sea-grain-initiative-2022"),
        ("joint-monitoring-centre-opening-2021", "joint-monitoring-memorandum-2020"),
        ("monitoring-centre-closure-2024", "joint-monitoring-memorandum-2020"),
        ("karabakh-ceasefire-2020", "karabakh-war-2020"),
        ("joint-monitoring-memorandum-2020", "karabakh-war-2020"),
        ("moscow-idlib-protocol-2020", "sochi-idlib-memorandum-2018"),
        ("moscow-idlib-protocol-2020", "balyun-strike-2020"),
    ],
)
def test_the_catalog_holds_the_links_the_record_makes(consequence, cause):
    assert cause in _causes(consequence)


@pytest.mark.parametrize(
    "consequence, not_a_cause",
    [
        ("st-petersburg-summit-2016", "su24-downing-2015"),  # the post-coup turn, not the thaw
        ("turkstream-suspended-2015", "turkstream-announced-2014"),  # the crisis's answer only
        ("turkstream-agreement-2016", "su24-downing-2015"),  # the crisis delayed it, no more
        ("su24-downing-2015", "russian-syria-intervention-2015"),  # the setting, not a cause
        ("s400-contract-2017", "coup-attempt-2016"),
    ],
)
def test_the_catalog_leaves_out_what_the_record_does_not_support(consequence, not_a_cause):
    assert not_a_cause not in _causes(consequence)


@pytest.mark.parametrize(
    "scenario, root",
    [
        ("no-su24-downing.toml", "su24-downing-2015"),
        ("no-s400.toml", "s400-contract-2017"),
    ],
)
def test_a_shipped_counterfactual_drops_one_cause_and_its_consequences_go_with_it(scenario, root):
    assert tomllib.loads((SCENARIOS / scenario).read_text())["events"]["drop"] == [root]
    gone = set(CATALOG) - {e.id for e in model.load_scenario(SCENARIOS / scenario).timeline()}
    assert gone == {root} | consequences(CATALOG, root)


def test_the_named_clusters_are_the_computed_ones():
    named = load_clusters()
    assert [c.members for c in named.values()] == clusters(CATALOG)
    # the aviation crisis is a factor of its own: the TurkStream suspension answered the
    # downing and goes with it, the pipeline is a cluster apart
    assert named["aviation-crisis"].members == {"su24-downing-2015"} | consequences(
        CATALOG, "su24-downing-2015"
    )
    assert len(named["aviation-crisis"].members) == 13
    assert named["turkstream"].members == {
        "turkstream-announced-2014",
        "turkstream-agreement-2016",
        "turkstream-construction-2017",
        "turkstream-offshore-completed-2018",
        "turkstream-inauguration-2020",
    }
    assert named["s400-affair"].members == {
        "s400-contract-2017",
        "s400-delivery-2019",
        "f35-removal-2019",
        "caatsa-sanctions-2020",
    }


def _named(ident, *members):
    return Cluster(id=ident, title=ident, members=members)


@pytest.mark.parametrize(
    "named, message",
    [
        (
            [_named("ab", "a", "b")],
            "cluster 'ab' must list exactly the events joined by 'requires': it lacks c",
        ),
        ([_named("abcx", "a", "b", "c", "x")], "it has x, not joined to the others by 'requires'"),
        ([_named("abcd", "a", "b", "c", "d")], "cluster 'abcd' names unknown event 'd'"),
        ([_named("xy", "x", "y")], "cluster 'xy': none of its members is linked"),
        ([], "the events a, b, c are joined by 'requires' but no cluster names them"),
        (
            [_named("abc", "a", "b", "c"), _named("abc", "c", "b", "a")],
            "cluster id 'abc' is used twice",
        ),
        (
            [_named("abc", "a", "b", "c"), _named("cba", "c", "b", "a")],
            "cluster 'cba' lists the same events as 'abc'",
        ),
    ],
)
def test_named_clusters_must_match_the_links_exactly(named, message):
    events = [*_chain("a", "b", "c"), _event("x"), _event("y")]
    check_clusters([_named("abc", "c", "a", "b")], events)
    with pytest.raises(ValueError, match=re.escape(message)):
        check_clusters(named, events)


def test_a_cluster_member_listed_twice_is_refused():
    with pytest.raises(ValidationError, match="'members' lists 'a' more than once"):
        _named("aa", "a", "a", "b")


def _forget():
    catalog._catalog.cache_clear()
    catalog._clusters.cache_clear()


@pytest.fixture
def shipped_data(monkeypatch):
    """Lets a test replace a data file, emptying the loaders' caches each time and after."""

    def replace(name, data):
        _forget()
        read = catalog._data
        monkeypatch.setattr(catalog, "_data", lambda n: data if n == name else read(n))

    yield replace
    monkeypatch.undo()
    _forget()


def test_the_loaders_name_the_file_of_a_broken_link_or_cluster(shipped_data):
    named = tomllib.loads((Path(catalog.__file__).parent / "data" / "clusters.toml").read_text())
    named["clusters"][-1]["members"].remove("grain-deal-withdrawal-2023")
    shipped_data("clusters.toml", named)
    with pytest.raises(
        ValueError,
        match="^model/data/clusters.toml: cluster 'ukraine-war' must "
        "list exactly .* it lacks grain-deal-withdrawal-2023$",
    ):
        load_clusters()
    late = _event("b", dt.date(2020, 2, 1))
    events = {"events": [_event("a", requires=["b"]).model_dump(), late.model_dump()]}
    shipped_data("events.toml", events)
    with pytest.raises(ValueError, match="^model/data/events.toml: event 'a' .* requires 'b'"):
        load_catalog()


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
    for ident in (
        "march-1-memorandum-2003",
        "eu-accession-talks-opened-2005",
        "eu-chapters-frozen-2006",
    ):
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
    brief = Event(
        id="a", date=dt.date(2020, 1, 1), title="a", effects=[{"indicator": "trade", "jump": 1.0}]
    )
    assert "scope" not in brief.model_dump()
    context = brief.model_copy(update={"scope": "context"})
    assert context.model_dump(mode="json")["scope"] == "context"
    assert Event.model_validate(context.model_dump()).scope == "context"
