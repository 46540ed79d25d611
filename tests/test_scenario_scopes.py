"""``events.scopes``: which scopes of the packaged events (the brief's, the context events) a
scenario's timeline draws from, and how ``drop``/``only``/``keep``/``move``/``scale`` and the
cascade of ``requires`` work across them."""

from __future__ import annotations

import datetime as dt

import pandas as pd
import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

import model
from model.catalog import consequences, load_catalog, load_context_events, load_events
from model.cli import main
from model.errors import ScenarioError

from .conftest import SCENARIOS

BASELINE = str(SCENARIOS / "baseline.toml")
CONTEXT = load_context_events()


def _write(tmp_path, events: dict, name: str = "scoped", extends: str | None = BASELINE) -> str:
    """A scenario file with ``[events]`` = ``events``, extending the baseline (or nothing)."""
    path = tmp_path / f"{name}.toml"
    head = {"name": name} | ({"extends": extends} if extends else {})
    path.write_text(tomli_w.dumps(head | {"events": events}))
    return str(path)


def _ids(scenario: model.Scenario) -> list[str]:
    return [e.id for e in scenario.timeline()]


def test_the_default_scope_leaves_the_baseline_as_it_was(baseline, tmp_path):
    explicit = model.load_scenario(_write(tmp_path, {"scopes": ["brief"]}))
    assert baseline.events.scopes == ("brief",)
    assert load_events(("brief",)) == load_catalog()
    assert baseline.timeline() == explicit.timeline()
    assert _ids(baseline) == [e.id for e in baseline.resolution().events]
    assert not set(_ids(baseline)) & set(CONTEXT)
    # the default is left out of the resolved scenario, so every digest stays as it was
    assert "scopes" not in baseline.to_dict()["events"]
    same = explicit.model_copy(update={"name": "baseline", "description": baseline.description})
    assert baseline.digest() == same.digest()


def test_with_context_adds_every_context_event_in_date_order(baseline):
    sc = model.load_scenario(SCENARIOS / "with-context.toml")
    assert sc.events.scopes == ("brief", "context")
    ids = _ids(sc)
    assert sorted(ids) == sorted([*_ids(baseline), *CONTEXT])
    dated = [e.date for e in sc.timeline() if e.date is not None]
    assert dated == sorted(dated)
    brief_only = [i for i in ids if i not in CONTEXT]
    assert brief_only == _ids(baseline)  # the brief's events keep their order
    assert sc.digest() != baseline.digest()


def test_the_context_scope_alone_runs_only_the_context_events(tmp_path):
    sc = model.load_scenario(_write(tmp_path, {"scopes": ["context"]}, extends=None))
    assert _ids(sc) == list(CONTEXT)


def test_context_events_appear_in_the_run_tables(tmp_path, capsys):
    out = tmp_path / "out"
    args = ["run", "with-context", "--out", str(out), "--replicates", "4", "--workers", "1"]
    assert main([*args, "--no-plots"]) == 0
    capsys.readouterr()
    events = pd.read_csv(out / "events.csv")
    assert set(CONTEXT) <= set(events["event"])
    lira = events[(events["event"] == "lira-crisis-2018") & (events["kind"] == "jump")]
    assert list(lira["date"]) == ["2018-08-10"] and lira["delta"].iloc[0] == pytest.approx(-3.0)
    resolved = model.load_scenario(out / "scenario.resolved.toml")
    assert resolved.events.scopes == ("brief", "context")
    assert _ids(resolved) == _ids(model.load_scenario(SCENARIOS / "with-context.toml"))


def test_show_round_trips_the_scopes(tmp_path, capsys):
    assert main(["show", "with-context"]) == 0
    text = capsys.readouterr().out
    path = tmp_path / "resolved.toml"
    path.write_text(text)
    again = model.load_scenario(path)
    original = model.load_scenario(SCENARIOS / "with-context.toml")
    assert again.digest() == original.digest() and again.timeline() == original.timeline()


def test_controls_take_context_ids_when_their_scope_is_selected(tmp_path):
    sc = model.load_scenario(
        _write(
            tmp_path,
            {
                "scopes": ["brief", "context"],
                "drop": ["iraq-war-2003"],
                "move": {"covid-19-2020": dt.date(2021, 3, 1)},
                "scale": {"lira-crisis-2018": 0.5, "global-financial-crisis-2008": {"trade": 2}},
            },
        )
    )
    timeline = {e.id: e for e in sc.timeline()}
    assert "iraq-war-2003" not in timeline
    assert timeline["covid-19-2020"].date == dt.date(2021, 3, 1)
    assert sc.events.scale["lira-crisis-2018"] == 0.5
    only = model.load_scenario(
        _write(tmp_path, {"scopes": ["brief", "context"], "only": ["economy"]}, "only")
    )
    assert {i for i in _ids(only) if i in CONTEXT} == {
        i for i, e in CONTEXT.items() if e.category == "economy"
    }


def _refused(tmp_path, events: dict, capsys) -> str:
    path = _write(tmp_path, events, "refused", extends=None)
    assert main(["validate", path]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err and path in err
    return err


@pytest.mark.parametrize(
    "events, field",
    [
        ({"drop": ["lira-crisis-2018"]}, "events.drop"),
        ({"only": ["covid-19-2020"]}, "events.only"),
        ({"move": {"iraq-war-2003": dt.date(2004, 1, 1)}}, "events.move.iraq-war-2003"),
        ({"scale": {"rouble-collapse-2014": 0.5}}, "events.scale.rouble-collapse-2014"),
        ({"scopes": ["context"], "drop": ["coup-attempt-2016"]}, "events.drop"),
    ],
)
def test_an_event_of_a_scope_left_out_is_a_one_line_error(tmp_path, capsys, events, field):
    err = _refused(tmp_path, events, capsys)
    scope = "brief" if events.get("scopes") == ["context"] else "context"
    assert f"{field}: " in err
    assert f"is an event of scope '{scope}', which this scenario leaves out" in err
    assert f'add "{scope}" to events.scopes' in err


def test_a_misspelt_context_id_suggests_it_and_its_scope(tmp_path, capsys):
    err = _refused(tmp_path, {"drop": ["lira-crisis-2019"]}, capsys)
    unknown = "unknown event id 'lira-crisis-2019' (did you mean 'lira-crisis-2018'?)"
    assert f"events.drop: {unknown}" in err
    assert 'add "context" to events.scopes' in err


@pytest.mark.parametrize(
    "scopes, problem",
    [
        (["brief", "contxt"], "unknown scope 'contxt' (did you mean 'context'?)"),
        ([], "must name at least one scope"),
        (["context", "context"], "lists 'context' more than once"),
        ("context", "events.scopes"),
    ],
)
def test_bad_scopes_are_one_line_errors(tmp_path, capsys, scopes, problem):
    err = _refused(tmp_path, {"scopes": scopes}, capsys)
    assert "events.scopes" in err and problem in err


def _requiring(cause: str) -> dict:
    return {
        "id": "aftershock-2021",
        "date": dt.date(2021, 6, 1),
        "title": "An aftershock",
        "effects": [{"indicator": "trade", "jump": -1.0}],
        "requires": [cause],
    }


def test_the_cascade_works_across_scopes(tmp_path):
    both = ["brief", "context"]
    added = [_requiring("covid-19-2020")]
    sc = model.load_scenario(_write(tmp_path, {"scopes": both, "add": added}))
    assert "aftershock-2021" in _ids(sc)
    dropped = model.load_scenario(
        _write(tmp_path, {"scopes": both, "add": added, "drop": ["covid-19-2020"]}, "dropped")
    )
    assert "aftershock-2021" not in _ids(dropped)
    assert dropped.resolution().dropped() == {
        "russia-flights-resumed-2020": "requires covid-19-2020 (dropped)",
        "aftershock-2021": "requires covid-19-2020 (dropped)",
    }
    kept = model.load_scenario(
        _write(
            tmp_path,
            {"scopes": both, "add": added, "drop": ["covid-19-2020"], "keep": ["aftershock-2021"]},
            "kept",
        )
    )
    assert "aftershock-2021" in _ids(kept) and "covid-19-2020" not in _ids(kept)
    # a brief event dropped takes with it a context-scoped event that requires it
    brief_cause = _requiring("s400-delivery-2019") | {"id": "lira-aftershock-2021"}
    mixed = model.load_scenario(
        _write(
            tmp_path,
            {"scopes": both, "add": [brief_cause], "drop": ["s400-contract-2017"]},
            "mixed",
        )
    )
    assert "lira-aftershock-2021" in mixed.resolution().dropped()


def test_an_added_event_cannot_require_a_context_event_left_out(tmp_path, capsys):
    err = _refused(tmp_path, {"add": [_requiring("covid-19-2020")]}, capsys)
    assert "events.add" in err and 'add "context" to events.scopes' in err


def test_an_added_copy_of_a_selected_context_event_is_refused(tmp_path):
    copy = CONTEXT["covid-19-2020"].model_dump(mode="json", exclude_none=True)
    with pytest.raises(ScenarioError, match="already a catalog event"):
        model.load_scenario(_write(tmp_path, {"scopes": ["brief", "context"], "add": [copy]}))
    alone = model.load_scenario(_write(tmp_path, {"add": [copy]}, "alone"))  # the old recipe
    assert "covid-19-2020" in _ids(alone)


def test_dropping_the_pandemic_drops_the_reopening_that_requires_it(tmp_path, capsys):
    path = _write(tmp_path, {"scopes": ["brief", "context"], "drop": ["covid-19-2020"]})
    assert main(["validate", path]) == 0
    out = capsys.readouterr().out
    assert "dropping covid-19-2020 also drops 1 event that requires it: " in out
    assert "russia-flights-resumed-2020" in out


@given(gone=st.sets(st.sampled_from(sorted(CONTEXT))))
def test_dropping_context_events_removes_them_and_what_requires_them(gone):
    base = model.load_scenario(SCENARIOS / "with-context.toml")
    events = base.events.model_copy(update={"drop": tuple(sorted(gone))})
    sc = base.model_copy(update={"events": events})
    also = consequences(base.timeline(), gone)
    assert _ids(sc) == [i for i in _ids(base) if i not in gone | also]
    assert set(sc.resolution().dropped()) == also - gone
