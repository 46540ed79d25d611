"""The causal clusters of a timeline as factors, and ``relsim events --clusters``."""

from __future__ import annotations

import io
from contextlib import redirect_stdout

import pandas as pd

import model
from model.catalog import load_catalog, load_clusters
from model.cli import main
from model.scenario import catalog_factors

from .conftest import SCENARIOS


def _over_baseline(events: dict) -> model.Scenario:
    data = model.load_scenario(SCENARIOS / "baseline.toml").to_dict()
    data["events"].update(events)
    return model.scenario_from_dict(data, file="what-if.toml")


def test_every_event_of_the_baseline_is_in_exactly_one_factor(baseline):
    found = baseline.factors()
    members = [i for f in found for i in f.members]
    assert sorted(members) == sorted(e.id for e in baseline.timeline())
    clusters = {f.id: f for f in found if f.is_cluster}
    assert list(clusters) == list(load_clusters())
    assert clusters["aviation-crisis"].roots == ("su24-downing-2015",)
    assert clusters["aviation-crisis"].members[:2] == (
        "su24-downing-2015",
        "russian-sanctions-2015",
    )
    assert clusters["syria-astana-idlib"].roots == ("moscow-declaration-2016", "balyun-strike-2020")
    lone = [f for f in found if not f.is_cluster]
    assert len(lone) == 28 and all(f.members == (f.id,) for f in lone)


def test_a_cluster_split_by_a_drop_names_its_second_part_by_its_root():
    sc = _over_baseline({"drop": ["moscow-idlib-protocol-2020"]})
    ids = [f.id for f in sc.factors() if f.is_cluster]
    assert "syria-astana-idlib" in ids and "syria-astana-idlib:balyun-strike-2020" in ids


def test_added_events_join_the_cluster_of_the_catalog_event_they_require():
    add = [
        {
            "id": "s400-second-batch-2027",
            "date": "2027-01-01",
            "title": "A second S-400 batch",
            "requires": ["s400-delivery-2019"],
            "effects": [{"indicator": "west", "jump": -5.0}],
        },
        {
            "id": "talks-2027",
            "date": "2027-02-01",
            "title": "Talks",
            "effects": [{"indicator": "trade", "jump": 1.0}],
        },
        {
            "id": "deal-2027",
            "date": "2027-03-01",
            "title": "Deal",
            "requires": ["talks-2027"],
            "effects": [{"indicator": "trade", "jump": 1.0}],
        },
    ]
    found = {f.id: f for f in _over_baseline({"add": add}).factors()}
    assert found["s400-affair"].members[-1] == "s400-second-batch-2027"
    assert found["talks-2027"].members == ("talks-2027", "deal-2027")
    assert found["talks-2027"].title == "Talks, and what requires it"


def test_relsim_events_lists_the_clusters_with_their_roots_first():
    text = io.StringIO()
    with redirect_stdout(text):
        assert main(["events", "--clusters"]) == 0
    lines = text.getvalue().splitlines()
    head = next(i for i, line in enumerate(lines) if line.startswith("aviation-crisis (13 events)"))
    assert lines[head + 1].split() == ["2015-11-24", "su24-downing-2015", "(root)"]
    assert lines[head + 2].split() == [
        "2015-11-28",
        "russian-sanctions-2015",
        "<-",
        "su24-downing-2015",
    ]
    text = io.StringIO()
    with redirect_stdout(text):
        assert main(["events", "--clusters", "--format", "csv"]) == 0
    table = pd.read_csv(io.StringIO(text.getvalue()))
    assert list(table["cluster"].unique()) == [f.id for f in catalog_factors()]
    linked = {e.id for e in load_catalog().values() if e.requires}
    assert set(table.loc[table["role"] == "consequence", "event"]) == linked
    assert table.groupby("cluster")["role"].first().eq("root").all()
