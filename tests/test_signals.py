"""SIGTERM and SIGINT halfway through a run: workers end with the parent, the temporary
folder goes, one line is printed and the previous results stay whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import tomllib
from pathlib import Path

import pytest

from model.cli import main

from .conftest import ROOT, SCENARIOS

BASELINE = str(SCENARIOS / "baseline.toml")


def session_processes(sid: int) -> list[int]:
    """The processes still alive (not zombies) in session ``sid``."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            continue
        if int(fields[3]) == sid and fields[0] != "Z":  # state, ppid, pgrp, session
            pids.append(int(stat.parent.name))
    return pids


def written(folder: Path) -> int:
    """Bytes of trajectories in the run's temporary folder so far."""
    return sum(p.stat().st_size for p in folder.glob(".out.tmp-*/trajectories.parquet"))


def wait_for(condition, seconds: float) -> bool:
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.slow  # an end-to-end run in a subprocess, stopped halfway (seconds each)
@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads the process table from /proc")
def command(how: str) -> list[str]:
    """``python -m model``, or what the installed ``relsim`` script runs: the function its entry
    point in pyproject.toml names, its status passed to ``sys.exit``."""
    if how == "module":
        return [sys.executable, "-m", "model"]
    target = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]["relsim"]
    module, function = target.split(":")
    code = f"import sys; from {module} import {function}; sys.exit({function}())"
    return [sys.executable, "-c", code]


@pytest.mark.parametrize(
    "signum, status, how",
    [
        (signal.SIGTERM, 143, "module"),
        (signal.SIGINT, 130, "module"),
        (signal.SIGTERM, 143, "script"),
    ],
)
def test_a_signal_halfway_leaves_nothing_behind(signum, status, how, tmp_path):
    out = tmp_path / "out"
    assert main(["run", BASELINE, "--out", str(out), "--replicates", "5", "--no-plots"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    args = [*command(how), "run", BASELINE, "--out", str(out), "--workers", "2"]
    if how == "module":  # small chunks: stopped while trajectories are being written
        args += ["--replicates", "3000", "--chunk-size", "50", "--trajectories", "--no-plots"]
    else:  # two large chunks: stopped while each worker is busy with one
        args += ["--replicates", "20000", "--trajectories", "--no-plots"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        args, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True, cwd=tmp_path
    )
    try:
        if how == "module":  # halfway: results sent and the first trajectories on disk
            started = wait_for(lambda: written(tmp_path) > 100_000, 60)
        else:  # both workers at work
            started = wait_for(lambda: len(session_processes(proc.pid)) >= 3, 60)
            time.sleep(2)
        assert started and proc.poll() is None, "the run ended before it could be stopped"
        workers = [p for p in session_processes(proc.pid) if p != proc.pid]
        assert len(workers) >= 2
        if signum == signal.SIGINT:  # Ctrl-C: the whole process group gets it
            os.killpg(proc.pid, signum)
        else:  # a process manager stopping the parent only
            os.kill(proc.pid, signum)
        _, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == status
    assert err == "interrupted: nothing was written; previous results kept\n"
    time.sleep(3)
    assert session_processes(proc.pid) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]  # no temporary folder, no lock
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_a_signal_raises_interrupted_and_is_not_lost_when_swallowed():
    from model.outputs import Interrupted, raise_if_stopped, raise_on_signals

    with raise_on_signals():
        with pytest.raises(Interrupted) as caught:
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        assert caught.value.signum == signal.SIGTERM
        try:  # a library that catches everything swallows the exception ...
            os.kill(os.getpid(), signal.SIGTERM)
            time.sleep(1)
        except BaseException:  # noqa: BLE001, S110 - on purpose
            pass
        with pytest.raises(Interrupted):  # ... and the next check raises it again
            raise_if_stopped()
    raise_if_stopped()  # outside the block: nothing pending


def test_a_signal_during_the_swap_waits_for_it_and_says_what_was_written(tmp_path, monkeypatch):
    import model.outputs
    from model.outputs import Interrupted, atomic_output, raise_on_signals

    swap = model.outputs._swap

    def swap_then_signal(new, out):
        os.kill(os.getpid(), signal.SIGTERM)  # arrives between the steps of the swap
        swap(new, out)

    monkeypatch.setattr(model.outputs, "_swap", swap_then_signal)
    out = tmp_path / "out"
    with raise_on_signals(), pytest.raises(Interrupted) as caught, atomic_output(out) as tmp:
        (tmp / "metadata.json").write_text("{}\n")
    assert caught.value.wrote == out
    assert sorted(p.name for p in out.iterdir()) == ["metadata.json"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out"]


def test_the_relsim_script_exits_at_once_after_a_stop():
    """The installed script runs :func:`model.cli.program`, which exits without waiting for the
    process pool's threads once everything is cleaned up. Through ``main`` the interpreter's
    shutdown joined them, and a run stopped while a worker sent a large chunk back stayed
    alive after printing that it was interrupted."""
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["relsim"] == "model.cli:program"
