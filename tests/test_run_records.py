"""What an output folder records: metadata.json for every writer, the run as actually run,
and trajectories that do not depend on how the work was shared out."""

from __future__ import annotations

import itertools
import json
import tomllib
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from model.cli import main

from .conftest import SCENARIOS

BASELINE = str(SCENARIOS / "baseline.toml")
NO_S400 = str(SCENARIOS / "no-s400.toml")
CONTRACT = {"format_version", "package_version", "seed", "command", "lineage", "output"}


def metadata(folder: Path) -> dict:
    return json.loads((folder / "metadata.json").read_text())


@pytest.mark.parametrize(
    "command",
    [
        ["run", BASELINE, "--replicates", "3", "--no-plots"],
        ["compare", BASELINE, NO_S400, "--replicates", "3", "--no-plots"],
        ["policies", BASELINE, "--replicates", "3", "--policies", "passive", "--no-plots"],
        ["calibrate", BASELINE, "--fit", "none", "--no-plots"],
        ["hindcast", BASELINE, "--until", "2015", "--fit", "none", "--replicates", "3"]
        + ["--no-plots"],
        ["sweep", BASELINE, "--grid", "dummy=0:1:2", "--replicates", "2", "--no-plots"],
    ],
    ids=lambda c: c[0],
)
def test_every_writer_writes_metadata(command, tmp_path, capsys):
    out = tmp_path / "out"
    assert main([*command, "--out", str(out)]) == 0
    assert "metadata.json" in capsys.readouterr().out
    meta = metadata(out)
    assert CONTRACT <= set(meta)
    assert meta["command"] == "relsim " + " ".join([*command, "--out", str(out)])
    assert meta["output"]["command"] == command[0]
    assert "scenario_sha256" in meta or all("scenario_sha256" in s for s in meta["scenarios"])
    # the lineage: each scenario file, then each file it extends, with the hash of its bytes
    files = [[Path(f["file"]).name for f in chain] for chain in meta["lineage"]]
    expected = {"compare": [["baseline.toml"], ["no-s400.toml", "baseline.toml"]]}
    assert files == expected.get(command[0], [["baseline.toml"]])
    assert all(len(f["sha256"]) == 64 for chain in meta["lineage"] for f in chain)


def test_the_resolved_scenario_records_the_seed_and_replicates_used(tmp_path):
    hashes = {}
    for seed in ("1", "2"):
        out = tmp_path / seed
        args = ["run", BASELINE, "--out", str(out), "--seed", seed, "--replicates", "3"]
        assert main([*args, "--no-plots"]) == 0
        resolved = tomllib.loads((out / "scenario.resolved.toml").read_text())
        assert resolved["run"]["seed"] == int(seed) and resolved["run"]["replicates"] == 3
        hashes[seed] = metadata(out)["scenario_sha256"]
    assert hashes["1"] != hashes["2"]
    # the resolved scenario, run as it stands, gives the same tables
    again = tmp_path / "again"
    resolved = str(tmp_path / "2" / "scenario.resolved.toml")
    assert main(["run", resolved, "--out", str(again), "--no-plots"]) == 0
    assert (again / "quantiles.csv").read_bytes() == (tmp_path / "2" / "quantiles.csv").read_bytes()
    assert metadata(again)["scenario_sha256"] == hashes["2"]


def test_trajectories_are_the_same_file_for_any_worker_count(tmp_path):
    files = {}
    for workers, chunk in (("1", None), ("2", "37")):
        out = tmp_path / f"w{workers}"
        args = ["run", BASELINE, "--out", str(out), "--replicates", "300", "--no-plots"]
        args += ["--trajectories", "--workers", workers, "--seed", "5"]
        assert main(args + (["--chunk-size", chunk] if chunk else [])) == 0
        files[workers] = (out / "trajectories.parquet").read_bytes()
    assert files["1"] == files["2"]
    import pandas as pd

    frame = pd.read_parquet(tmp_path / "w2" / "trajectories.parquet")
    assert frame["replicate"].is_monotonic_increasing
    first = frame[frame["replicate"] == 0]
    assert first["date"].is_monotonic_increasing
    assert np.array_equal(frame["replicate"].unique(), np.arange(300))


def test_calibrate_toml_follows_the_overwrite_rule(tmp_path, capsys):
    mine = tmp_path / "mine.toml"
    mine.write_text('name = "mine"\n')
    args = ["calibrate", BASELINE, "--fit", "none", "--no-plots", "--out", str(tmp_path / "c")]
    assert main([*args, "--toml", str(mine)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--toml" in err and "--force" in err
    assert mine.read_text() == 'name = "mine"\n' and not (tmp_path / "c").exists()
    fitted = tmp_path / "fitted.toml"
    assert main([*args, "--toml", str(fitted)]) == 0
    first = fitted.read_text()
    assert main([*args, "--toml", str(fitted)]) == 0  # the same scenario's calibration: replaced
    assert fitted.read_text() == first
    assert main([*args, "--toml", str(mine), "--force"]) == 0
    assert "extends" in mine.read_text()
    assert main([*args, "--toml", str(tmp_path)]) == 2
    assert "is a folder, not a file" in capsys.readouterr().err
    assert main([*args, "--toml", ""]) == 2
    assert "--toml is empty" in capsys.readouterr().err


@settings(max_examples=15, deadline=None)
@given(
    sizes=st.lists(st.integers(1, 300), min_size=1, max_size=8),
    order=st.randoms(use_true_random=False),
)
def test_trajectory_file_does_not_depend_on_chunks_or_arrival(tmp_path_factory, sizes, order):
    """Any chunking, chunks arriving in any order: the same bytes as one chunk."""
    import datetime as dt
    from types import SimpleNamespace

    from model.ensemble import _ParquetWriter

    dates = [dt.date(2000 + y, 1, 1) for y in range(12)]
    sc = SimpleNamespace(record_dates=lambda: dates, indicators=("trade", "west"))
    n, n_t, k = sum(sizes), len(dates), 2
    paths = np.random.default_rng(n).random((n_t, n, k))
    folder = tmp_path_factory.mktemp("traj")

    def write(name: str, bounds: list[int], shuffle: bool) -> bytes:
        chunks = [
            SimpleNamespace(ids=np.arange(a, b), paths=paths[:, a:b])
            for a, b in itertools.pairwise(bounds)
        ]
        if shuffle:
            order.shuffle(chunks)
        writer = _ParquetWriter(folder / name, sc)  # type: ignore[arg-type]
        for chunk in chunks:
            writer.write(chunk)
        writer.close()
        return (folder / name).read_bytes()

    cuts = list(np.cumsum([0, *sizes]))
    assert write("chunked.parquet", cuts, True) == write("whole.parquet", [0, n], False)
