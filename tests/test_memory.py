"""Resource bounds: what a run needs in memory and on disk is estimated before anything is
allocated, and a run that cannot fit is refused with one line naming the flag to change."""

from __future__ import annotations

import re
import time
import tracemalloc

import pytest
from hypothesis import given
from hypothesis import strategies as st

import model
from model import memory
from model.cli import main
from model.ensemble import N_BINS, _Merge, run_need
from model.errors import ArgumentError

from .conftest import SCENARIOS

BASELINE = str(SCENARIOS / "baseline.toml")
GB = 2**30


@pytest.fixture
def small_machine(monkeypatch):
    """A machine with 1 GB of memory available."""
    monkeypatch.setattr(memory, "available_memory", lambda: 1 * GB)


def refused_run(tmp_path, capsys, replicates: str) -> str:
    """``relsim run`` of the baseline with ``replicates``: refused within seconds, with one
    line and nothing written; the line."""
    out = tmp_path / "out"
    started = time.perf_counter()
    assert main(["run", BASELINE, "--replicates", replicates, "--out", str(out)]) == 2
    assert time.perf_counter() - started < 10
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert not out.exists()
    return err


def test_a_trillion_replicates_is_refused_at_once_with_one_line(tmp_path, capsys):
    """Beyond the schema's maximum the flag itself is refused, before anything is estimated."""
    err = refused_run(tmp_path, capsys, "1000000000000")
    assert "--replicates must be <= 100,000,000" in err


def test_a_run_that_cannot_fit_names_the_flag_and_what_would_fit(tmp_path, capsys, small_machine):
    err = refused_run(tmp_path, capsys, "100000000")
    assert re.fullmatch(
        r"error: relsim run: --replicates: the run needs about 1[67]\.\d GB of memory, more than "
        r"the 1\.0 GB available on this machine: the replicates take 16\.4 GB, 176 bytes a "
        r"replicate; run fewer replicates \(at most about [\d,]+ replicates fit\)\n",
        err,
    )
    most = int(err.rsplit("at most about ", 1)[1].split()[0].replace(",", ""))
    assert 0 < most < 1 * GB / 176


def test_comparisons_are_refused_before_the_first_run(tmp_path, capsys, small_machine):
    out = tmp_path / "out"
    argv = ["compare", BASELINE, str(SCENARIOS / "no-s400.toml"), "--replicates", "100000"]
    assert main([*argv, "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: relsim compare: --replicates: the run needs about")
    assert err.count("\n") == 1 and not out.exists()


def test_the_cost_per_replicate_is_what_the_ensemble_keeps(baseline):
    """The estimate's per-replicate bytes are the arrays the parent keeps per replicate: the
    metrics, and the paths when they are kept (a change to those arrays fails here)."""
    n, k = 300, len(baseline.indicators)
    records = len(baseline.record_dates())
    merged = _Merge(baseline, n, keep_paths=True)
    need = run_need(baseline, n, 1, n // 3, keep_paths=True)
    by_argument = {p.argument: p for p in need.parts}
    assert by_argument["replicates"].per_replicate - memory.REPLICATE_EXTRA == (
        merged.metrics.nbytes / n
    )
    assert by_argument["trajectories"].per_replicate == merged.paths.nbytes / n
    assert merged.paths.nbytes / n == records * k * 8


def test_analyses_refuse_too_many_replicates_per_point(tmp_path, capsys):
    """sensitivity, sweep and attribute run each point as one chunk that keeps its paths."""
    out = tmp_path / "out"
    argv = ["sweep", BASELINE, "--grid", "dummy=0:1:2", "--replicates", "100000000"]
    assert main([*argv, "--no-plots", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: relsim sweep: --replicates: the run needs about")
    assert err.count("\n") == 1 and "replicates fit)" in err
    assert not out.exists()


def test_the_estimate_bounds_what_a_run_allocates(baseline):
    """Measured with tracemalloc (which sees numpy's arrays, not the libraries): a run that
    keeps its paths allocates at least the paths, and less than the estimate without the
    program itself."""
    n = 1500
    need = run_need(baseline, n, 1, n, keep_paths=True)
    tracemalloc.start()
    try:
        model.simulate(baseline, replicates=n, trajectories=True, workers=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    paths = next(p.bytes for p in need.parts if p.argument == "trajectories")
    assert paths < peak < need.total - memory.PROCESS


def test_paths_kept_in_memory_name_the_trajectories(baseline, small_machine):
    with pytest.raises(ArgumentError, match="leave the trajectories out") as err:
        model.simulate(baseline, replicates=200_000, trajectories=True)
    assert err.value.argument == "trajectories"
    with pytest.raises(ArgumentError) as err:
        model.simulate(baseline, replicates=10_000_000, trajectories=False)
    assert err.value.argument == "replicates"


def test_too_many_workers_or_too_large_chunks_are_named(baseline, small_machine):
    with pytest.raises(ArgumentError, match="use fewer workers") as err:
        model.simulate(baseline, replicates=1000, workers=64, trajectories=False)
    assert err.value.argument == "workers"
    stress = model.load_scenario("stress")
    with pytest.raises(ArgumentError, match="use smaller chunks") as err:
        model.simulate(stress, replicates=400_000, chunk_size=200_000, trajectories=False)
    assert err.value.argument == "chunk_size"


def test_comparisons_hold_every_run(baseline, small_machine):
    """compare and compare_policies hold a result with paths per scenario or policy: they are
    refused before the first run starts."""
    other = model.load_scenario("no-s400")
    started = time.perf_counter()
    with pytest.raises(ArgumentError, match="fewer replicates") as err:
        model.compare([baseline, other], replicates=20_000)
    assert err.value.argument == "replicates"
    with pytest.raises(ArgumentError) as err:
        model.compare_policies(model.load_scenario("stress"), replicates=10_000)
    assert err.value.argument == "replicates"
    assert time.perf_counter() - started < 5


def test_a_file_that_cannot_fit_on_disk_names_the_flag(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(memory, "available_memory", lambda: 1024 * GB)
    free = memory.shutil.disk_usage(tmp_path)
    monkeypatch.setattr(memory.shutil, "disk_usage", lambda _: free._replace(free=2 * GB))
    out = tmp_path / "out"
    argv = ["run", BASELINE, "--replicates", "1000000", "--trajectories", "--out", str(out)]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: relsim run: --trajectories: the trajectories would take about")
    assert err.count("\n") == 1
    assert not out.exists() and not list(tmp_path.glob(".*"))


@given(
    replicates=st.integers(1, 10**13),
    records=st.integers(1, 2000),
    indices=st.integers(1, 8),
    workers=st.integers(1, 64),
    keep=st.booleans(),
    room=st.integers(2**28, 2**40),
)
def test_refusal_is_exactly_not_fitting_and_what_it_suggests_fits(
    replicates, records, indices, workers, keep, room
):
    def need(n: int) -> memory.Need:
        return memory.ensemble_need(
            n, records, indices, workers=workers, chunk_size=10_000, bins=N_BINS, keep_paths=keep
        )

    big = need(replicates)
    assert need(replicates + 1).total >= big.total
    try:
        memory.check_fits(big, room)
    except ArgumentError as exc:
        assert big.total > room
        part = big.largest()
        assert exc.argument == part.argument
        if "at most about" in exc.problem:
            most = int(exc.problem.rsplit("at most about ", 1)[1].split(" ")[0].replace(",", ""))
            assert most < replicates
            smaller = need(most)
            if smaller.largest().argument == part.argument:
                assert smaller.total <= room
    else:
        assert big.total <= room


def test_sizes_read_plainly():
    assert [memory.size(b) for b in (512, 1536, 3 * GB, 5 * 2**50)] == [
        "512 bytes",
        "1.5 KB",
        "3.0 GB",
        "5.0 PB",
    ]
    assert memory.available_memory() is None or memory.available_memory() > 0
