"""Output folders: one run per folder, replaced whole, never lost by surprise (model/outputs.py)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from model.cli import main
from model.errors import ArgumentError
from model.outputs import Interrupted, atomic_output, claiming

from .conftest import SCENARIOS

BASELINE = str(SCENARIOS / "baseline.toml")
NO_S400 = str(SCENARIOS / "no-s400.toml")
FAST = ["--replicates", "4", "--no-plots"]


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir())}


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


def nothing_beside(folder: Path) -> list[str]:
    """Hidden leftovers next to ``folder`` (temporary folders, locks)."""
    return sorted(p.name for p in folder.parent.iterdir() if p.name.startswith("."))


@pytest.fixture
def child(tmp_path):
    """A child of the baseline without its own name (so it inherits 'baseline')."""
    path = tmp_path / "my-child.toml"
    path.write_text(f'extends = "{Path(BASELINE).resolve()}"\ndescription = "no name of its own"\n')
    return path


def test_default_folder_is_the_scenario_files_stem(child, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", BASELINE, *FAST]) == 0
    baseline_files = contents(tmp_path / "results" / "baseline")
    assert main(["run", str(child), *FAST]) == 0
    assert (tmp_path / "results" / "my-child" / "quantiles.csv").is_file()
    assert contents(tmp_path / "results" / "baseline") == baseline_files


def test_a_taken_folder_is_refused_before_the_work(tmp_path, capsys, monkeypatch):
    import model.ensemble

    out = tmp_path / "out"
    assert main(["run", NO_S400, "--out", str(out), *FAST]) == 0

    def never(*args, **kwargs):
        raise AssertionError("the run started")

    monkeypatch.setattr(model.ensemble, "simulate", never)
    for command in (["run", BASELINE], ["sweep", BASELINE, "--grid", "dummy=0:1:2"]):
        capsys.readouterr()
        assert main([*command, "--out", str(out)]) == 2
        assert "holds the results of 'relsim run" in one_error_line(capsys)


def test_another_scenarios_folder_is_refused_without_force(child, tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", BASELINE, "--out", str(out), *FAST]) == 0
    before = contents(out)
    capsys.readouterr()
    assert main(["run", str(child), "--out", str(out), *FAST]) == 2
    err = one_error_line(capsys)
    assert "--out" in err and "holds the results of 'relsim run" in err and "--force" in err
    assert contents(out) == before and nothing_beside(out) == []
    # another command on the same scenario is someone else's results too
    assert main(["policies", BASELINE, "--out", str(out), "--policies", "passive", *FAST]) == 2
    assert contents(out) == before
    assert main(["run", str(child), "--out", str(out), *FAST, "--force"]) == 0
    meta = json.loads((out / "metadata.json").read_text())
    assert meta["output"] == {"command": "run", "scenarios": [str(child.resolve())]}


def test_a_rerun_replaces_the_whole_folder(tmp_path):
    out = tmp_path / "out"
    assert main(["run", BASELINE, "--out", str(out), *FAST, "--trajectories"]) == 0
    assert (out / "trajectories.parquet").is_file()
    assert main(["run", BASELINE, "--out", str(out), "--replicates", "3", "--no-plots"]) == 0
    assert sorted(contents(out)) == [
        "events.csv",
        "metadata.json",
        "quantiles.csv",
        "scenario.resolved.toml",
        "summary.csv",
    ]
    assert json.loads((out / "metadata.json").read_text())["replicates"] == 3
    assert nothing_beside(out) == []


@pytest.mark.parametrize(
    "target, message",
    [
        ("", "--out is empty"),
        ("afile", "afile: is a file, not a folder"),
        ("afile/sub", "is a file, not a folder"),
        (".", "is the current folder or above it"),
        ("notes", "holds files that are not a relsim result"),
    ],
)
def test_unusable_out_is_one_line_and_exit_2(target, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "afile").write_text("mine\n")
    (tmp_path / "notes").mkdir()
    (tmp_path / "notes" / "todo.txt").write_text("mine\n")
    before = sorted(p.name for p in tmp_path.rglob("*"))
    assert main(["run", BASELINE, "--out", target, *FAST]) == 2
    assert message in one_error_line(capsys)
    assert main(["run", BASELINE, "--out", target, *FAST, "--force"]) == 2  # not for these
    assert sorted(p.name for p in tmp_path.rglob("*")) == before
    assert (tmp_path / "afile").read_text() == "mine\n"


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_read_only_parent_is_one_line(tmp_path, capsys):
    ro = tmp_path / "ro"
    ro.mkdir()
    ro.chmod(0o555)
    try:
        assert main(["run", BASELINE, "--out", str(ro / "x"), *FAST]) == 2
        assert "permission denied" in one_error_line(capsys)
    finally:
        ro.chmod(0o755)


def test_unwritable_parent_is_one_line(tmp_path, monkeypatch, capsys):
    import model.outputs

    monkeypatch.setattr(model.outputs.os, "access", lambda path, mode: False)
    assert main(["run", BASELINE, "--out", str(tmp_path / "x"), *FAST]) == 2
    assert "cannot write in" in one_error_line(capsys)
    assert not (tmp_path / "x").exists()


def test_a_second_run_into_a_folder_in_use_is_refused(tmp_path, capsys):
    out = tmp_path / "out"
    assert main(["run", BASELINE, "--out", str(out), *FAST]) == 0
    before = contents(out)
    capsys.readouterr()
    owner = {"command": "run", "scenarios": [str(Path(BASELINE).resolve())]}
    with claiming(owner), atomic_output(out) as tmp:  # a run in progress holds the lock
        (tmp / "half.csv").write_text("x\n")
        assert main(["run", BASELINE, "--out", str(out), *FAST]) == 2
        assert "another run is writing into this folder" in one_error_line(capsys)
    # the run that held the lock replaced the folder with its own files
    assert sorted(contents(out)) == ["half.csv", "metadata.json"]
    assert contents(out) != before
    assert nothing_beside(out) == []


def test_a_failed_or_interrupted_write_leaves_the_previous_results_whole(tmp_path):
    out = tmp_path / "out"
    (out).mkdir()
    (out / "metadata.json").write_text("{}\n")
    (out / "quantiles.csv").write_text("old\n")
    before = contents(out)
    for stop in (RuntimeError("disk full"), Interrupted(15)):
        with pytest.raises(type(stop)), atomic_output(out) as tmp:
            (tmp / "quantiles.csv").write_text("new\n")
            raise stop
        assert contents(out) == before
        assert nothing_beside(out) == []


def test_library_save_refuses_a_folder_that_is_not_a_result(tmp_path, baseline_run):
    folder = tmp_path / "mine"
    folder.mkdir()
    (folder / "thesis.tex").write_text("x")
    with pytest.raises(ArgumentError, match="not a relsim result"):
        baseline_run.save(folder)
    assert (folder / "thesis.tex").read_text() == "x"
    baseline_run.save(tmp_path / "fresh")
    baseline_run.save(tmp_path / "fresh")  # its own result again: replaced
    assert (tmp_path / "fresh" / "quantiles.csv").is_file()


def test_the_folder_is_replaced_whole_without_renameat2(tmp_path, monkeypatch):
    import model.outputs

    monkeypatch.setattr(model.outputs, "_exchange", lambda a, b: False)
    out = tmp_path / "out"
    for files in (["metadata.json", "a.csv", "b.csv"], ["metadata.json", "c.csv"]):
        with atomic_output(out) as tmp:
            for name in files:
                (tmp / name).write_text("{}\n")
        assert sorted(contents(out)) == sorted(files)
        assert nothing_beside(out) == []


def test_a_folder_that_cannot_be_made_is_one_line(tmp_path, monkeypatch, capsys):
    import model.outputs

    def refuse(*args, **kwargs):
        raise OSError(30, "Read-only file system")

    monkeypatch.setattr(model.outputs.tempfile, "mkdtemp", refuse)
    out = tmp_path / "out"
    assert main(["run", BASELINE, "--out", str(out), "--replicates", "2", "--no-plots"]) == 2
    assert "cannot write there (Read-only file system)" in one_error_line(capsys)
    assert list(tmp_path.iterdir()) == []
