"""SIGTERM and SIGINT halfway through a run: workers end with the parent, the temporary
folder goes, one line is printed and the previous results stay whole."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
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
@pytest.mark.parametrize("signum, status", [(signal.SIGTERM, 143), (signal.SIGINT, 130)])
def test_a_signal_halfway_leaves_nothing_behind(signum, status, tmp_path):
    out = tmp_path / "out"
    assert main(["run", BASELINE, "--out", str(out), "--replicates", "5", "--no-plots"]) == 0
    before = {p.name: p.read_bytes() for p in out.iterdir()}
    args = [sys.executable, "-m", "model", "run", BASELINE, "--out", str(out), "--workers", "2"]
    args += ["--replicates", "3000", "--chunk-size", "50", "--trajectories", "--no-plots"]
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    proc = subprocess.Popen(
        args, stderr=subprocess.PIPE, text=True, env=env, start_new_session=True, cwd=tmp_path
    )
    try:
        # halfway: the workers have sent results and the first trajectories are on disk
        started = wait_for(lambda: written(tmp_path) > 100_000, 60)
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
