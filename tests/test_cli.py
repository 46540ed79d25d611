"""The relsim command end to end: outputs, exit codes and one-line errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from model.cli import main

from .conftest import BAD, SCENARIOS

BASELINE = str(SCENARIOS / "baseline.toml")


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("run") / "baseline"
    assert main(["run", BASELINE, "--out", str(out), "--replicates", "20", "--trajectories"]) == 0
    return out


def test_run_writes_the_contracted_files(run_dir):
    for name in [
        "quantiles.csv",
        "events.csv",
        "summary.csv",
        "metadata.json",
        "trajectories.png",
        "scenario.resolved.toml",
        "trajectories.parquet",
    ]:
        assert (run_dir / name).stat().st_size > 0, name
    assert not [p for p in run_dir.parent.iterdir() if p.name.startswith(".")]


def test_output_columns(run_dir):
    q = pd.read_csv(run_dir / "quantiles.csv")
    assert list(q.columns) == ["date", "indicator", "mean", "q05", "q25", "q50", "q75", "q95"]
    assert set(q["indicator"]) == {"trade", "energy", "security", "west"}
    ev = pd.read_csv(run_dir / "events.csv")
    assert {"date", "event", "indicator", "delta", "replicate"} <= set(ev.columns)
    assert "su24-downing-2015" in set(ev["event"])
    s = pd.read_csv(run_dir / "summary.csv")
    assert not s.duplicated(["indicator", "metric"]).any()
    traj = pd.read_parquet(run_dir / "trajectories.parquet")
    assert list(traj.columns) == ["replicate", "date", "indicator", "value"]
    assert traj["replicate"].nunique() == 20


def test_metadata_makes_the_run_reproducible(run_dir, tmp_path):
    meta = json.loads((run_dir / "metadata.json").read_text())
    for key in ("package_version", "scenario_sha256", "seed", "python", "libraries", "git_commit"):
        assert key in meta
    assert meta["replicates"] == 20
    again = tmp_path / "again"
    assert main(["run", BASELINE, "--out", str(again), "--replicates", "20", "--no-plots"]) == 0
    assert (again / "quantiles.csv").read_text() == (run_dir / "quantiles.csv").read_text()


def test_events_lists_the_catalog_as_csv(capsys):
    assert main(["events", "--format", "csv"]) == 0
    from io import StringIO

    table = pd.read_csv(StringIO(capsys.readouterr().out))
    assert {"id", "date", "title", "source"} <= set(table.columns)
    assert len(table) >= 30


def test_show_prints_resolved_toml(capsys):
    import tomllib

    assert main(["show", BASELINE]) == 0
    data = tomllib.loads(capsys.readouterr().out)
    assert data["name"] == "baseline" and "trade" in data["indices"]


def test_show_validate_and_run_say_what_goes_with_a_drop(capsys, tmp_path):
    import tomllib

    no_s400 = str(SCENARIOS / "no-s400.toml")
    line = (
        "dropping s400-contract-2017 also drops 3 events that require it: "
        "s400-delivery-2019, f35-removal-2019, caatsa-sanctions-2020"
    )
    assert main(["show", no_s400]) == 0
    text = capsys.readouterr().out
    assert text.splitlines()[0] == f"# {line}"
    assert set(tomllib.loads(text)["events"]["dropped"]) == {
        "s400-delivery-2019",
        "f35-removal-2019",
        "caatsa-sanctions-2020",
    }
    assert main(["validate", no_s400]) == 0
    assert capsys.readouterr().out.splitlines()[1] == f"  {line}"
    out = tmp_path / "run"
    assert main(["run", no_s400, "--replicates", "2", "--no-plots", "--out", str(out)]) == 0
    assert line in capsys.readouterr().out.splitlines()
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["events_dropped"]["caatsa-sanctions-2020"] == (
        "requires s400-delivery-2019, which goes with s400-contract-2017 (dropped)"
    )
    resolved = tomllib.loads((out / "scenario.resolved.toml").read_text())
    assert resolved["events"]["dropped"] == meta["events_dropped"]


EXPECTED = {
    "syntax_error.toml": "(syntax)",
    "unknown_top_key.toml": "did you mean 'description'",
    "unknown_run_key.toml": "did you mean 'replicates'",
    "unknown_event_drop.toml": "did you mean 'su24-downing-2015'",
    "unknown_event_move.toml": "did you mean 's400-delivery-2019'",
    "move_outside_run.toml": "outside the run",
    "end_before_start.toml": "must be after",
    "impossible_date.toml": "run.end: '2035-02-30' is not a valid date",
    "added_event_outside_run.toml": "outside the run",
    "negative_duration.toml": "duration must be a positive number",
    "bad_distribution.toml": "'sd' must be >= 0",
    "unknown_distribution.toml": "'normal', 'uniform'",
    "unknown_indicator.toml": "unknown index 'tourism'",
    "jump_and_shift.toml": "exactly one of 'jump' or 'shift'",
    "negative_replicates.toml": "greater than or equal to 1",
    "wrong_type.toml": "valid integer",
    "half_life_zero.toml": "'half_life' must be > 0",
    "initial_out_of_range.toml": "between 0 and 100",
    "bad_condition.toml": "cannot read condition",
    "extends_cycle_a.toml": "cycle in 'extends'",
    "extends_missing.toml": "not found",
    "unknown_followup.toml": "unknown event id 'incident-2027'",
    "duplicate_catalog_id.toml": "already a catalog event",
    "missing_name.toml": "required key 'name'",
    "unstable_spillover.toml": "unstable",
    "negative_spillover.toml": "spill-over rates must be >= 0",
    "damping_above_one.toml": "'damping' must be between 0 and 1",
    "hazard_unknown_damped_by.toml": "unknown index 'enrgy'",
    "hazard_elasticity_too_large.toml": "10,000-fold",
    "unknown_policy.toml": "did you mean 'balancing'",
    "unknown_policy_param.toml": "did you mean 'west_floor'",
    "unknown_policy_action.toml": "did you mean 'nato-reassurance'",
    "half_life_normal.toml": "use lognormal",
    "duplicate_added_id.toml": "added twice",
    "requires_cycle.toml": "requires form a cycle: talks-2027 -> deal-2027 -> talks-2027",
    "unknown_required_event.toml": "did you mean 's400-delivery-2019'",
    "keep_not_dropped.toml": "'coup-attempt-2016' does not go with any dropped or moved event",
    "scale_unknown_index.toml": "event 'russian-sanctions-2015' has no effect on 'west'",
    "unknown_driver.toml": "unknown driver 'oil_pric' (did you mean 'oil_price'?)",
    "driver_normal.toml": "'drivers.oil_price' must stay positive",
    "unknown_scope.toml": "events.scopes: unknown scope 'contxt' (did you mean 'context'?)",
    "context_without_scope.toml": "events.drop: 'lira-crisis-2018' is an event of scope "
    "'context', which this scenario leaves out: add \"context\" to events.scopes",
}


def test_every_bad_fixture_has_an_expectation():
    assert sorted(p.name for p in BAD.glob("*.toml") if p.name != "extends_cycle_b.toml") == sorted(
        EXPECTED
    )


@pytest.mark.parametrize("name", sorted(EXPECTED))
@pytest.mark.parametrize("command", ["validate", "run"])
def test_bad_scenarios_get_one_line_and_status_2(name, command, capsys, tmp_path):
    out = tmp_path / "out"
    args = [command, str(BAD / name)] + (["--out", str(out)] if command == "run" else [])
    assert main(args) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert EXPECTED[name] in err
    assert name.split("_cycle")[0] in err or "extends_cycle" in err
    assert not out.exists()


def test_missing_file_and_bad_arguments(capsys, tmp_path):
    assert main(["run", str(tmp_path / "nope.toml")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert main(["run", BASELINE, "--replicates", "0", "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert "--replicates" in err and err.count("\n") == 1
    assert main(["frobnicate"]) == 2
    assert not (tmp_path / "x").exists()


def test_validate_many_files_reports_each(capsys):
    assert main(["validate", BASELINE, str(BAD / "wrong_type.toml")]) == 2
    out, err = capsys.readouterr()
    assert "ok: " in out and "wrong_type.toml" in err


def test_module_entry_point():
    import subprocess
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "model", "validate", BASELINE],
        capture_output=True,
        text=True,
        check=False,
    )
    assert done.returncode == 0 and "ok:" in done.stdout


def test_resolved_scenario_in_an_output_folder_loads_again(tmp_path):
    out = tmp_path / "run"
    assert (
        main(
            [
                "run",
                str(SCENARIOS / "no-s400.toml"),
                "--out",
                str(out),
                "--replicates",
                "4",
                "--no-plots",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    assert (out / "scenario.diff").read_text().startswith("---")
    assert (
        main(
            [
                "run",
                str(out / "scenario.resolved.toml"),
                "--out",
                str(tmp_path / "again"),
                "--replicates",
                "4",
                "--no-plots",
                "--workers",
                "1",
            ]
        )
        == 0
    )
    assert (tmp_path / "again" / "quantiles.csv").read_text() == (out / "quantiles.csv").read_text()


def test_compare_refuses_scenarios_with_other_indices(tmp_path, capsys):
    extra = tmp_path / "tourism.toml"
    extra.write_text(
        f'name = "tourism"\nextends = "{SCENARIOS / "baseline.toml"}"\n'
        "[indices.tourism]\ninitial = 40.0\nbaseline = 40.0\nhalf_life = 1.0\n"
    )
    assert (
        main(["compare", BASELINE, str(extra), "--replicates", "3", "--out", str(tmp_path / "c")])
        == 2
    )
    assert "other indices" in capsys.readouterr().err


def test_run_says_how_often_each_conditional_event_fired(tmp_path, capsys):
    """A conditional event that fires nowhere leaves no row in events.csv; the
    command says so, and gives the count for the others."""
    scenario = tmp_path / "conditional.toml"
    scenario.write_text(f'''name = "conditional"
extends = "{BASELINE}"

[[events.add]]
id = "never-2027"
date = 2027-05-01
title = "Needs a trade index above 99"
condition = "trade > 99"
effects = [{{ indicator = "security", jump = -5.0 }}]

[[events.add]]
id = "sometimes-2027"
date = 2027-05-01
title = "Needs security above its median"
condition = "security > 66.5"
effects = [{{ indicator = "trade", shift = -2.0 }}]
''')
    out = tmp_path / "out"
    assert main(["run", str(scenario), "--out", str(out), "--replicates", "40", "--no-plots"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "conditional event never-2027 (trade > 99): fired in 0 of 40 replicates" in lines
    events = pd.read_csv(out / "events.csv")
    assert "never-2027" not in set(events["event"])
    k = int(events.loc[events["event"] == "sometimes-2027", "replicates"].max())
    assert 0 < k < 40
    assert (
        f"conditional event sometimes-2027 (security > 66.5): fired in {k} of 40 replicates"
        in lines
    )
