"""Scenario loading: extends, merging by id, errors naming the right file, and fuzzing."""

from __future__ import annotations

import copy
import datetime as dt
import tomllib

import pytest
import tomli_w
from hypothesis import given
from hypothesis import strategies as st

import model
from model.errors import ScenarioError

from .conftest import SCENARIOS

SHIPPED = sorted(SCENARIOS.glob("*.toml"))


def write(path, data):
    path.write_text(tomli_w.dumps(data))
    return path


def ev(ident, date="2027-01-01", **kw):
    return {
        "id": ident,
        "date": dt.date.fromisoformat(date),
        "title": ident,
        "effects": [{"indicator": "trade", "jump": -5.0}],
        **kw,
    }


def test_child_adding_an_event_keeps_the_parents(tmp_path):
    write(
        tmp_path / "parent.toml",
        {"name": "parent", "events": {"add": [ev("a-2027"), ev("b-2027")]}},
    )
    write(
        tmp_path / "child.toml",
        {
            "name": "child",
            "extends": "parent.toml",
            "events": {"add": [ev("c-2028", "2028-01-01")]},
        },
    )
    sc = model.load_scenario(tmp_path / "child.toml")
    assert [e.id for e in sc.events.add] == ["a-2027", "b-2027", "c-2028"]


def test_child_overrides_an_event_by_id_and_keys_by_key(tmp_path):
    write(
        tmp_path / "parent.toml",
        {"name": "parent", "run": {"replicates": 7, "seed": 3}, "events": {"add": [ev("a-2027")]}},
    )
    write(
        tmp_path / "child.toml",
        {
            "name": "child",
            "extends": "parent.toml",
            "run": {"seed": 9},
            "events": {"add": [{"id": "a-2027", "date": dt.date(2029, 1, 1)}]},
        },
    )
    sc = model.load_scenario(tmp_path / "child.toml")
    assert (sc.run.replicates, sc.run.seed) == (7, 9)
    assert sc.events.add[0].date == dt.date(2029, 1, 1) and sc.events.add[0].title == "a-2027"


def test_an_error_in_the_parent_names_the_parent(tmp_path):
    write(
        tmp_path / "parent.toml",
        {"name": "parent", "events": {"add": [ev("a-2027", "2050-01-01")]}},
    )
    write(tmp_path / "child.toml", {"name": "child", "extends": "parent.toml"})
    with pytest.raises(ScenarioError) as err:
        model.load_scenario(tmp_path / "child.toml")
    assert err.value.file.endswith("parent.toml") and "events.add[a-2027].date" == err.value.field


def test_resolved_scenario_round_trips_through_toml(tmp_path, baseline):
    path = tmp_path / "resolved.toml"
    path.write_text(baseline.to_toml())
    again = model.load_scenario(path)
    assert again.digest() == baseline.digest()


def test_only_and_move_and_scale(tmp_path):
    write(
        tmp_path / "s.toml",
        {
            "name": "s",
            "events": {
                "only": ["sanctions", "su24-downing-2015"],
                "move": {"russian-sanctions-2015": dt.date(2016, 1, 1)},
                "scale": {"russian-sanctions-2015": {"dist": "uniform", "low": 0.5, "high": 1.5}},
            },
        },
    )
    sc = model.load_scenario(tmp_path / "s.toml")
    timeline = sc.timeline()
    assert timeline[0].id == "su24-downing-2015"
    assert all("sanctions" in (e.category, *e.tags) for e in timeline[1:])
    # the CAATSA sanctions are selected but require the S-400 delivery, which only leaves out
    assert "caatsa-sanctions-2020" not in {e.id for e in timeline}
    assert sc.resolution().dropped() == {
        "caatsa-sanctions-2020": "requires s400-delivery-2019 (left out by events.only)"
    }
    assert [e.date for e in timeline if e.id == "russian-sanctions-2015"] == [dt.date(2016, 1, 1)]
    res = model.simulate(sc, replicates=20)
    rows = res.events[
        (res.events["event"] == "russian-sanctions-2015") & (res.events["kind"] == "shift")
    ]
    assert rows["date"].dt.date.tolist() == [dt.date(2016, 1, 1)]
    assert -45 < rows["delta"].iloc[0] < -15


@pytest.mark.parametrize("path", SHIPPED, ids=[p.stem for p in SHIPPED])
def test_every_shipped_scenario_validates_runs_and_describes_itself(path):
    sc = model.load_scenario(path)
    assert len(sc.description.split()) >= 15, "each scenario says what it asks and assumes"
    res = model.simulate(sc, replicates=min(sc.run.replicates, 20))
    assert (res.paths > 0).all() and (res.paths < 100).all()


# ---------------------------------------------------------------- fuzzing the loader

VALID = (
    tomllib.loads((SCENARIOS / "stress.toml").read_text())
    if (SCENARIOS / "stress.toml").exists()
    else {}
)
VALID = {k: v for k, v in VALID.items() if k != "extends"} | {"name": "fuzz"}

junk = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**6), 10**6),
    st.floats(allow_nan=True),
    st.text(max_size=12),
    st.dates(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=6), st.integers(), max_size=2),
)


def _paths(node, prefix=()):
    yield prefix
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, prefix + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, prefix + (i,))


ALL_PATHS = [p for p in _paths(VALID) if p]


@given(
    st.lists(
        st.tuples(st.sampled_from(ALL_PATHS), st.sampled_from(["replace", "delete", "add"]), junk),
        min_size=1,
        max_size=3,
    )
)
def test_mutated_scenarios_give_a_scenario_or_a_scenario_error(mutations):
    data = copy.deepcopy(VALID)
    for path, action, value in mutations:
        parent = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            last = path[-1]
            if action == "replace":
                parent[last] = value
            elif action == "delete":
                del parent[last]
            elif isinstance(parent, dict):
                parent[f"{last}_x"] = value
        except (KeyError, IndexError, TypeError):
            continue
    try:
        model.scenario_from_dict(data)
    except ScenarioError as exc:
        assert str(exc).count("\n") == 0


def test_scenario_error_survives_pickling():
    """Errors raised in worker processes reach the parent with their three parts."""
    import pickle

    err = ScenarioError("runs/a.toml", "run.end", "is before run.start")
    back = pickle.loads(pickle.dumps(err))
    assert (back.file, back.field, back.problem) == (
        "runs/a.toml",
        "run.end",
        "is before run.start",
    )
    assert str(back) == "runs/a.toml: run.end: is before run.start"


def test_every_example_file_in_the_reference_is_valid(tmp_path):
    """The complete TOML examples of docs/SCENARIOS.md load and validate."""
    import re
    import shutil
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    text = (root / "docs" / "SCENARIOS.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```toml\n# scenarios/([\w.-]+\.toml)\n(.*?)```", text, re.DOTALL)
    assert len(blocks) >= 10
    for shipped in (root / "scenarios").glob("*.toml"):
        shutil.copy(shipped, tmp_path / shipped.name)
    for name, body in blocks:
        (tmp_path / name).write_text(body, encoding="utf-8")
    for name, _ in blocks:
        sc = model.load_scenario(tmp_path / name)
        assert sc.name, name
    # the re-timed S-400 example moves the events that require the delivery with it
    assert model.load_scenario(tmp_path / "s400-later.toml").resolution().dropped() == {}


def test_a_shipped_name_is_found_even_beside_a_folder_of_that_name(tmp_path, monkeypatch, capsys):
    """``relsim compare baseline oil-50`` run where ``--out oil-50`` made a folder: the name
    still means the shipped scenario; a name that is no shipped scenario keeps its path."""
    from model.cli import main
    from model.scenario import find_scenario

    monkeypatch.chdir(tmp_path)
    (tmp_path / "oil-50").mkdir()
    (tmp_path / "mine").mkdir()
    assert find_scenario("oil-50").parent.name == "scenarios"
    assert str(find_scenario("mine")) == "mine"
    assert main(["validate", "oil-50"]) == 0
    assert main(["validate", "mine"]) == 2
    assert "is a folder" in capsys.readouterr().err
