"""Ensembles: reproducibility across chunks, workers and backends; streaming accuracy."""

from __future__ import annotations

import numpy as np
import pytest

import model
from model import ensemble, eventlog, provenance
from model.cli import main
from model.engine import simulate_chunk
from model.ensemble import BIN_WIDTH, histogram_quantiles
from model.eventlog import IncidentRows, events_table

from .conftest import SCENARIOS


@pytest.fixture(scope="module")
def stress():
    """Uncertain drift, four hazards, the balancing policy and the reactions."""
    sc = model.load_scenario(SCENARIOS / "stress.toml")
    policy = sc.policy.model_copy(update={"name": "balancing", "reactions": True})
    return sc.model_copy(update={"policy": policy})


def _chunk_table(sc, n: int, size: int, seed: int = 11):
    """The events table of replicates ``0..n-1`` run chunk by chunk, straight from the engine."""
    outs = [simulate_chunk(sc, np.arange(a, min(a + size, n)), seed) for a in range(0, n, size)]
    shared = [row for out in outs for row in out.shared]
    incidents = IncidentRows.concat([out.incidents for out in outs])
    return events_table(shared, incidents, n, sc.run.start), shared, incidents


def same(a: model.Result, b: model.Result) -> None:
    assert a.quantiles.equals(b.quantiles)
    assert a.summary.equals(b.summary)
    assert a.events.equals(b.events)
    np.testing.assert_array_equal(a.sample, b.sample)


@pytest.fixture(scope="module")
def reference(stress):
    return model.simulate(stress, replicates=240, seed=11, chunk_size=240)


def test_same_seed_gives_identical_output(stress, reference):
    same(reference, model.simulate(stress, replicates=240, seed=11, chunk_size=240))


@pytest.mark.parametrize("size", [1, 37, 100])
def test_chunk_size_does_not_matter(stress, reference, size):
    n = 40 if size == 1 else 240
    small = model.simulate(stress, replicates=n, seed=11, chunk_size=size)
    np.testing.assert_array_equal(reference.paths[:n], small.paths)
    if n == 240:
        same(reference, small)


def test_worker_count_does_not_matter(stress, reference):
    same(reference, model.simulate(stress, replicates=240, seed=11, chunk_size=60, workers=2))


def test_dask_gives_the_same_result(stress, reference):
    pytest.importorskip("dask.distributed")
    same(
        reference,
        model.simulate(stress, replicates=240, seed=11, chunk_size=120, scheduler="local"),
    )


def test_streamed_quantiles_are_within_one_bin_of_exact(reference):
    exact = np.quantile(
        reference.paths, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0, method="inverted_cdf"
    )
    q = reference.quantiles
    for j, col in enumerate(["q05", "q25", "q50", "q75", "q95"]):
        streamed = q[col].to_numpy().reshape(exact.shape[1], exact.shape[2])
        assert np.abs(streamed - exact[j]).max() <= BIN_WIDTH + 1e-9
    np.testing.assert_allclose(
        q["mean"].to_numpy(), reference.paths.mean(axis=0).ravel(), atol=1e-8
    )


def test_histogram_quantiles_of_known_samples():
    rng = np.random.default_rng(0)
    y = rng.uniform(0, 100, size=20_000)
    counts = np.bincount((y / BIN_WIDTH).astype(int), minlength=ensemble.N_BINS)[None, :]
    q = histogram_quantiles(counts, (0.1, 0.5, 0.9))[:, 0]
    np.testing.assert_allclose(
        q, np.quantile(y, [0.1, 0.5, 0.9], method="inverted_cdf"), atol=BIN_WIDTH
    )


def test_metrics_match_the_paths(reference):
    s = reference.summary.set_index(["indicator", "metric"])
    k = reference.indicators.index("trade")
    np.testing.assert_allclose(
        s.loc[("trade", "min"), "mean"], reference.paths[:, :, k].min(axis=1).mean()
    )
    np.testing.assert_allclose(
        s.loc[("trade", "final"), "q50"], np.median(reference.paths[:, -1, k])
    )


def test_incidents_are_logged_per_replicate(reference):
    inc = reference.events[reference.events["event"] == "military-incident"]
    assert len(inc) > 0 and inc["replicate"].notna().all()
    assert inc["replicate"].between(0, 239).all()


def test_an_interrupted_run_leaves_nothing(monkeypatch, tmp_path, capsys):
    calls = {"n": 0}
    real = ensemble.run_chunk

    def flaky(*args, **kw):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt
        return real(*args, **kw)

    monkeypatch.setattr(ensemble, "run_chunk", flaky)
    out = tmp_path / "out"
    args = [
        "run",
        str(SCENARIOS / "baseline.toml"),
        "--out",
        str(out),
        "--replicates",
        "40",
        "--chunk-size",
        "10",
        "--workers",
        "1",
        "--trajectories",
    ]
    assert main(args) == 130
    assert "interrupted" in capsys.readouterr().err
    assert not out.exists()
    assert list(tmp_path.iterdir()) == []


def test_trajectories_stream_to_parquet(tmp_path):
    import pandas as pd

    out = tmp_path / "run"
    args = [
        "run",
        str(SCENARIOS / "baseline.toml"),
        "--out",
        str(out),
        "--replicates",
        "30",
        "--chunk-size",
        "7",
        "--workers",
        "1",
        "--trajectories",
        "--no-plots",
    ]
    assert main(args) == 0
    traj = pd.read_parquet(out / "trajectories.parquet")
    assert sorted(traj["replicate"].unique()) == list(range(30))
    res = model.simulate(model.load_scenario(SCENARIOS / "baseline.toml"), replicates=30)
    mine = traj.sort_values(["replicate", "date"], kind="stable")
    np.testing.assert_allclose(
        mine.pivot_table(index=["replicate", "date"], columns="indicator", values="value")[
            res.indicators
        ]
        .to_numpy()
        .reshape(res.paths.shape),
        res.paths,
    )


def test_no_progress_bar_when_not_a_terminal(capsys, stress):
    model.simulate(stress, replicates=20, progress=True)
    assert capsys.readouterr().err == ""


def test_monthly_incident_sums_in_chunks_equal_grouping_every_row(stress, monkeypatch):
    """Above the row limit, chunks group incidents by month; the table is the
    one grouping all the chunks' rows at once (in replicate order) gives,
    whatever order the chunks finish in."""
    monkeypatch.setattr(eventlog, "INCIDENT_ROWS_LIMIT", 50)
    n = 120
    tables = []
    for size, workers in ((37, 1), (25, 2), (120, 1)):
        expected = _chunk_table(stress, n, size)[0]
        assert expected["replicate"].isna().all() and len(expected) > 50
        got = model.simulate(
            stress, replicates=n, seed=11, chunk_size=size, workers=workers, trajectories=False
        )
        assert got.events.equals(expected)
        tables.append(got.events)
    # the monthly means are sums in fixed point: exact, whatever the chunks
    assert all(t.equals(tables[0]) for t in tables[1:])


def test_quantiles_from_bins_equal_those_from_histograms():
    rng = np.random.default_rng(3)
    probs = (0.05, 0.25, 0.5, 0.75, 0.95)
    for n in (1, 2, 7, 40):
        bins = rng.integers(0, ensemble.N_BINS, size=(5, n, 3))
        bins[:, : n // 2, 0] = ensemble.N_BINS - 1
        bins[:, n // 3 :, 1] = 17
        counts = np.stack(
            [
                [np.bincount(bins[t, :, k], minlength=ensemble.N_BINS) for k in range(3)]
                for t in range(5)
            ]
        )
        assert np.array_equal(
            ensemble.bin_quantiles(bins.astype(np.int16), probs), histogram_quantiles(counts, probs)
        )


def test_small_ensembles_skip_the_histograms_with_the_same_result(stress, reference, monkeypatch):
    monkeypatch.setattr(ensemble, "SPARSE_LIMIT", 0)
    same(reference, model.simulate(stress, replicates=240, seed=11, chunk_size=100))


def test_the_commit_is_read_without_git(tmp_path):
    import subprocess
    from pathlib import Path

    root = Path(provenance.__file__).resolve().parent.parent
    if not (root / ".git").exists():
        pytest.skip("not a checkout")
    done = subprocess.run(
        ["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True, text=True, check=False
    )
    if done.returncode:
        pytest.skip("git not available")
    assert provenance._read_head(root / ".git") == done.stdout.strip()
    # a detached head, and a branch only in packed-refs
    sha = "0123456789abcdef0123456789abcdef01234567"
    (tmp_path / "HEAD").write_text(sha + "\n")
    assert provenance._read_head(tmp_path) == sha
    (tmp_path / "HEAD").write_text("ref: refs/heads/work\n")
    (tmp_path / "packed-refs").write_text(f"# pack-refs with: peeled\n{sha} refs/heads/work\n")
    assert provenance._read_head(tmp_path) == sha


def _pandas_table(shared, incidents, start):
    """The events table built the slow way, with pandas, from the named rows."""
    import pandas as pd

    keys = ["day", "event", "title", "indicator", "kind"]
    rows = pd.DataFrame(shared, columns=keys + ["total", "n"]).astype({"total": object})
    rows = rows.groupby(keys, as_index=False, sort=False).agg(
        total=("total", lambda v: sum(v)), n=("n", "sum")
    )
    rows = rows.assign(
        delta=[w / eventlog.FIXED_POINT / n for w, n in zip(rows["total"], rows["n"])], replicate=-1
    ).rename(columns={"n": "replicates"})
    each = pd.DataFrame(incidents.rows(), columns=["replicate"] + keys + ["delta"]).assign(
        replicates=1
    )
    each = each.sort_values(["day", "replicate"], kind="stable")
    table = pd.concat([rows, each], ignore_index=True).rename(columns={"day": "date"})[
        eventlog.EVENT_COLUMNS
    ]
    table["date"] = pd.Timestamp(start) + pd.to_timedelta(table["date"], unit="D")
    table["replicate"] = table["replicate"].astype("Int64").where(table["replicate"] >= 0)
    return table.sort_values(
        ["date", "event", "indicator", "replicate"], kind="stable", ignore_index=True
    )


def test_the_events_table_equals_the_one_pandas_builds(stress):
    fast, shared, incidents = _chunk_table(stress, 60, 30)
    slow = _pandas_table(shared, incidents, stress.run.start)
    assert fast.equals(slow)
    assert list(fast.dtypes) == list(slow.dtypes)
    assert fast["replicate"].notna().sum() > 100


def test_incident_rows_as_arrays_give_the_table_of_the_log_rows(stress):
    """Chunks send their rows as arrays; the events table is the one the engine's
    rows of one chunk give, whatever the chunks and workers."""
    n = 90
    for size, workers in ((31, 1), (45, 2)):
        expected = _chunk_table(stress, n, 90)[0]
        got = model.simulate(
            stress, replicates=n, seed=11, chunk_size=size, workers=workers, trajectories=False
        )
        assert expected["replicate"].notna().sum() > 100
        assert got.events.equals(expected)
        assert list(got.events.dtypes) == list(expected.dtypes)
