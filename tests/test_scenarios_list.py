"""``relsim scenarios``: the shipped scenarios (or given files) with their questions and what
each changes."""

from __future__ import annotations

import csv
import io
import tomllib

from model.cli import main
from model.scenario import load_scenario, shipped_scenarios
from model.scenario.overview import describe, overview

from .conftest import BAD, SCENARIOS


def _table(capsys) -> str:
    assert main(["scenarios"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    return out


def test_every_shipped_scenario_is_listed_once_with_its_question(capsys):
    out = _table(capsys)
    text = " ".join(out.split())  # the wrapping does not matter
    heads = [line.split(" (")[0] for line in out.splitlines() if line and line[0] != " "]
    shipped = shipped_scenarios()
    assert heads[0] == f"{len(shipped)} shipped scenarios"
    assert heads[1:] == list(shipped)
    for name, path in shipped.items():
        description = tomllib.loads(path.read_text(encoding="utf-8"))["description"]
        first = " ".join(description.split()).split("? ")[0].split(". ")[0]
        assert first.split(": ", 1)[-1] in text, name


def test_what_each_changes_is_read_from_the_file_and_its_cascade(capsys):
    text = " ".join(_table(capsys).split())
    gone = len(load_scenario("no-su24-downing").resolution().dropped())
    assert gone == 12
    assert f"drops su24-downing-2015, and the {gone} events that require it" in text
    assert "no-s400 (counterfactual, extends baseline.toml)" in text
    assert "adds 4 random hazards from 2026-01-01: military-incident, trade-dispute" in text
    assert "makes uncertain damping (uniform), indices.trade.half_life (lognormal)" in text
    assert "the reference: 80 events of the catalog, 2000-01-01..2035-12-31, 200 replicates" in text
    assert "akkuyu-unit2-online-2028 (540 days after akkuyu-unit1-online-2026)" in text, (
        "a follow-up is dated by what it follows"
    )


def test_csv_has_one_row_per_scenario(capsys):
    assert main(["scenarios", "--format", "csv"]) == 0
    rows = list(csv.DictReader(io.StringIO(capsys.readouterr().out)))
    assert [r["name"] for r in rows] == list(shipped_scenarios())
    kinds = {r["name"]: r["kind"] for r in rows}
    assert kinds["no-s400"] == "counterfactual" and kinds["stress"] == "stress test"
    assert kinds["ukraine-ceasefire-2026"] == "future"
    assert all(r["question"] and r["changes"] for r in rows)


def test_a_file_of_ones_own(tmp_path):
    (tmp_path / "baseline.toml").write_text((SCENARIOS / "baseline.toml").read_text())
    mine = tmp_path / "mine.toml"
    mine.write_text(
        'name = "mine"\nextends = "baseline.toml"\n'
        'description = "What if the coup came a year later? More text. And more."\n'
        "damping = 0.5\n[run]\nreplicates = 50\n"
        '[events]\nmove = { "coup-attempt-2016" = 2017-07-15 }\n'
        'scale = { "s400-contract-2017" = 0.5 }\n'
    )
    o = describe(mine)
    assert (o.name, o.kind, o.question) == ("mine", "", "What if the coup came a year later?")
    assert o.changes == (
        "moves coup-attempt-2016 to 2017-07-15",
        "scales s400-contract-2017 x0.5",
        "sets damping = 0.5, run.replicates = 50",
    )
    same = tmp_path / "same.toml"
    same.write_text('name = "same"\nextends = "baseline.toml"\n')
    assert describe(same).changes == ("nothing: the same run as its parent",)
    assert [o.name for o in overview([mine, same])] == ["mine", "same"]


def test_a_bad_file_is_one_line_and_status_2(capsys):
    assert main(["scenarios", str(BAD / "unknown_event_drop.toml")]) == 2
    out, err = capsys.readouterr()
    assert out == "" and err.count("\n") == 1
    assert "unknown_event_drop.toml: events.drop:" in err


def test_a_listed_name_runs(tmp_path, capsys):
    out = tmp_path / "out"
    argv = ["run", "no-s400", "--replicates", "2", "--no-plots", "--workers", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    assert "+++ no-s400.toml" in (out / "scenario.diff").read_text()
