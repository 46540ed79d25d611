"""Running a scenario as an ensemble: chunks, workers, streaming summaries.

Replicates are numbered ``0..R-1`` and split into chunks; each chunk runs in
one SimPy environment (:func:`model.engine.simulate_chunk`), in this process,
in a pool of worker processes, or on a Dask cluster. A chunk is reduced on the
spot to mergeable summaries, so memory does not grow with the replicate count:

- per record date and index, a histogram of levels on fixed bins of
  ``BIN_WIDTH`` points (quantiles are read off the merged histogram by linear
  interpolation inside a bin, so they are within one bin width of the exact
  ones) and a fixed-point sum (the mean is exact to 1e-9 whatever the order of
  merging);
- per replicate, five metrics per index (``mean, min, final, years_in_crisis,
  volatility``), a few numbers each;
- the event log (ensemble-wide rows merged as weighted means; incidents kept
  per replicate up to ``INCIDENT_ROWS_LIMIT`` replicates, aggregated by month
  beyond).

Because every replicate draws from its own random streams and every merge is
exact, the output is identical for any chunk size, worker count or backend.
"""

from __future__ import annotations

import datetime as dt
import os
import platform
import subprocess
import sys
from dataclasses import dataclass, field
from functools import cache
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
import pandas as pd

from . import eventlog
from .engine import simulate_chunk
from .eventlog import (
    FIXED_POINT,
    IncidentRows,
    MonthlyIncidents,
    MonthlySums,
    SharedRow,
    events_table,
    group_by_month,
)
from .results import FORMAT_VERSION, Result, quantile_frame, summarise_metrics
from .scenario import Scenario

__all__ = ["BIN_WIDTH", "ChunkSummary", "run_metadata", "simulate"]

BIN_WIDTH = 0.05
N_BINS = round(100 / BIN_WIDTH)
#: Up to this many replicates, quantiles are read from each level's bin
#: (the same numbers as from the histograms, without building them).
SPARSE_LIMIT = 1_000
SAMPLE_PATHS = 20
_LIBRARIES = ("numpy", "pandas", "scipy", "simpy", "pydantic", "matplotlib")


class ChunkSummary:
    """Streaming recorder for one chunk: histograms, exact sums, per-replicate metrics."""

    def __init__(self, days: list[int], n_rows: int, crisis: np.ndarray, keep_rows: np.ndarray,
                 keep_all: bool, sparse: bool = False) -> None:
        n_t, k = len(days), len(crisis)
        # small ensembles keep each level's bin instead of the histograms
        self.counts = None if sparse else np.zeros((n_t, k, N_BINS), dtype=np.int64)
        self.bins = np.empty((n_t, n_rows, k), dtype=np.int16) if sparse else None
        self.sums = np.zeros((n_t, k), dtype=np.int64)
        self._ones = np.ones(n_rows, dtype=np.int64)
        self.years = np.diff(np.asarray(days, dtype=float)) / 365.25
        self.crisis = crisis
        self.total = np.zeros((n_rows, k))
        self.low = np.full((n_rows, k), np.inf)
        self.in_crisis = np.zeros((n_rows, k))
        self.d1 = np.zeros((n_rows, k))
        self.d2 = np.zeros((n_rows, k))
        self.prev: np.ndarray | None = None
        self.keep_rows = keep_rows
        self.kept = np.empty((n_t, keep_rows.size, k))
        self.paths = np.empty((n_t, n_rows, k)) if keep_all else None

    def record(self, i: int, y: np.ndarray) -> None:
        k = y.shape[1]
        bins = (y * (N_BINS / 100.0)).astype(np.int64)
        np.minimum(bins, N_BINS - 1, out=bins)
        if self.bins is not None:
            if bins.min() < 0:
                raise ValueError("levels below 0 cannot be binned")
            self.bins[i] = bins
        else:
            bins += N_BINS * np.arange(k)
            self.counts[i] += np.bincount(bins.ravel(), minlength=k * N_BINS).reshape(k, N_BINS)
        fixed = y * FIXED_POINT
        np.round(fixed, out=fixed)
        # integer sums are exact in any order: a product with ones is the fast way
        self.sums[i] += self._ones @ fixed.astype(np.int64)
        self.total += y
        np.minimum(self.low, y, out=self.low)
        if self.prev is not None:
            np.add(self.in_crisis, self.years[i - 1], out=self.in_crisis, where=self.prev < self.crisis)
            d = y - self.prev
            self.d1 += d
            d *= d
            self.d2 += d
        self.prev = y
        self.kept[i] = y[self.keep_rows]
        if self.paths is not None:
            self.paths[i] = y

    def metrics(self) -> np.ndarray:
        """Per-replicate metrics ``(rows, indices, 5)``: mean, min, final, years in crisis, volatility."""
        n_t = len(self.years) + 1
        n_d = max(n_t - 1, 1)
        var = np.maximum(self.d2 / n_d - (self.d1 / n_d) ** 2, 0.0)
        return np.stack([self.total / n_t, self.low, self.prev, self.in_crisis, np.sqrt(var)], axis=-1)


@dataclass
class _ChunkOutput:
    ids: np.ndarray
    counts: np.ndarray
    sums: np.ndarray
    metrics: np.ndarray
    log: list[SharedRow]
    kept_ids: np.ndarray
    kept: np.ndarray
    paths: np.ndarray | None = field(default=None, repr=False)
    incidents: MonthlyIncidents | None = field(default=None, repr=False)
    bins: np.ndarray | None = field(default=None, repr=False)
    rows: IncidentRows | None = field(default=None, repr=False)


def run_chunk(scenario: Scenario, ids: np.ndarray, seed: int, keep_all: bool,
              by_month: bool = False, sparse: bool = False) -> _ChunkOutput:
    """Simulate replicates ``ids`` and reduce them (runs in a worker process too).

    ``log`` keeps the ensemble-wide log rows; the incident rows leave the
    chunk as arrays: per row (``rows``), or, with ``by_month`` (ensembles above
    ``INCIDENT_ROWS_LIMIT``), grouped by month (``incidents``). With ``sparse``
    (ensembles up to ``SPARSE_LIMIT``), each level's histogram bin is kept
    instead of the histograms.
    """
    _single_threaded_blas()
    days = [(d - scenario.run.start).days for d in scenario.record_dates()]
    crisis = np.array([spec.crisis for spec in scenario.indices.values()])
    keep_rows = np.flatnonzero(ids < SAMPLE_PATHS)
    rec = ChunkSummary(days, len(ids), crisis, keep_rows, keep_all, sparse)
    out = simulate_chunk(scenario, ids, seed, rec)
    rows = out.incidents
    incidents = group_by_month(rows, scenario.run.start) if by_month else None
    # counts per chunk fit in 32 bits: half the bytes through the pipes
    counts = rec.counts
    if counts is not None and len(ids) < 2**31:
        counts = counts.astype(np.int32)
    return _ChunkOutput(ids, counts, rec.sums, rec.metrics(), out.shared, ids[keep_rows],
                        rec.kept, rec.paths, incidents, rec.bins, None if by_month else rows)


def _single_threaded_blas() -> None:
    """Pin BLAS to one thread: threads inside a worker only slow it down."""
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # pragma: no cover - threadpoolctl comes with scipy's stack
        pass


def simulate(
    scenario: Scenario,
    replicates: int | None = None,
    seed: int | None = None,
    trajectories: bool = True,
    workers: int | None = 1,
    chunk_size: int | None = None,
    scheduler: str | None = None,
    progress: bool = False,
    trajectory_file: str | Path | None = None,
) -> Result:
    """Run ``scenario`` as an ensemble and return its :class:`~model.results.Result`.

    ``replicates``/``seed`` default to the scenario's ``[run]``. ``trajectories``
    keeps every path in memory (``Result.paths``); ``trajectory_file`` streams
    them to Parquet chunk by chunk instead. ``workers`` > 1 runs chunks in
    processes (``None``: all cores); ``scheduler`` (``"local"`` or a Dask
    scheduler address) runs them on Dask. The result does not depend on
    ``chunk_size``, ``workers`` or ``scheduler``.
    """
    n = scenario.run.replicates if replicates is None else int(replicates)
    seed = scenario.run.seed if seed is None else int(seed)
    if n < 1:
        raise ValueError(f"replicates must be >= 1 (got {n})")
    workers = (os.cpu_count() or 1) if workers is None else max(int(workers), 1)
    size = chunk_size or max(min(10_000, -(-n // workers)), 1)
    chunks = [np.arange(a, min(a + size, n)) for a in range(0, n, size)]
    keep_all = trajectories or trajectory_file is not None
    by_month = n > eventlog.INCIDENT_ROWS_LIMIT
    sparse = n <= SPARSE_LIMIT
    merged = _Merge(scenario, n, trajectories, sparse)
    writer = _ParquetWriter(trajectory_file, scenario) if trajectory_file else None
    try:
        for out in _execute(scenario, chunks, seed, keep_all, workers, scheduler, progress, n,
                            (by_month, sparse)):
            merged.add(out)
            if writer:
                writer.write(out)
    finally:
        if writer:
            writer.close()
    return merged.result(run_metadata(scenario, n, seed))


def _execute(scenario, chunks, seed, keep_all, workers, scheduler, progress, n, modes=(False, False)):
    """Yield chunk outputs as they finish, from the chosen backend.

    ``modes`` are ``run_chunk``'s ``(by_month, sparse)``.
    """
    bar = _progress(n, progress)
    try:
        if scheduler is not None:
            yield from _on_dask(scenario, chunks, seed, keep_all, scheduler, bar, modes)
        elif workers <= 1 or len(chunks) == 1:
            for ids in chunks:
                out = run_chunk(scenario, ids, seed, keep_all, *modes)
                bar.update(len(ids))
                yield out
        else:
            yield from _on_processes(scenario, chunks, seed, keep_all, workers, bar, modes)
    finally:
        bar.close()


def _on_processes(scenario, chunks, seed, keep_all, workers, bar, modes=(False, False)):
    """Chunks in worker processes, at most two per worker in flight.

    A finished chunk's output is handed on and then dropped, so the parent
    never holds more than a few chunks' outputs, however many chunks there are.
    """
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    todo = list(reversed(chunks))
    with ProcessPoolExecutor(max_workers=min(workers, len(chunks))) as pool:
        running: set = set()
        try:
            while todo or running:
                while todo and len(running) < 2 * workers:
                    running.add(pool.submit(run_chunk, scenario, todo.pop(), seed, keep_all, *modes))
                done, running = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    out = fut.result()
                    bar.update(len(out.ids))
                    yield out
        except BaseException:
            for fut in running:
                fut.cancel()
            raise


def _on_dask(scenario, chunks, seed, keep_all, scheduler, bar, modes=(False, False)):
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = LocalCluster(n_workers=2, threads_per_worker=1, processes=True,
                           dashboard_address=None) if scheduler == "local" else None
    client = Client(cluster if cluster is not None else scheduler)
    try:
        futures = client.map(run_chunk, [scenario] * len(chunks), chunks, [seed] * len(chunks),
                             [keep_all] * len(chunks), [modes[0]] * len(chunks), [modes[1]] * len(chunks),
                             pure=False)
        for fut in as_completed(futures):
            out = fut.result()
            bar.update(len(out.ids))
            yield out
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _progress(total: int, wanted: bool):
    from tqdm import tqdm  # plain bar: no widget warning in notebooks (it is off there anyway)

    return tqdm(total=total, unit="rep", delay=1.0, disable=not (wanted and sys.stderr.isatty()),
                desc="replicates", leave=False)


class _Merge:
    """Accumulates chunk outputs exactly, then builds the Result."""

    def __init__(self, scenario: Scenario, n: int, keep_paths: bool, sparse: bool = False) -> None:
        self.sc = scenario
        self.n = n
        self.dates = pd.DatetimeIndex(scenario.record_dates())
        self.names = list(scenario.indicators)
        k = len(self.names)
        self.counts = None if sparse else np.zeros((len(self.dates), k, N_BINS), dtype=np.int64)
        self.bins = np.empty((len(self.dates), n, k), dtype=np.int16) if sparse else None
        self.sums = np.zeros((len(self.dates), k), dtype=np.int64)
        self.metrics = np.empty((n, k, 5))
        self.kept = np.empty((min(n, SAMPLE_PATHS), len(self.dates), k))
        self.paths = np.empty((n, len(self.dates), k)) if keep_paths else None
        self.logs: list = []
        self.monthly = MonthlySums()

    def add(self, out: _ChunkOutput) -> None:
        if self.bins is not None:
            self.bins[:, out.ids] = out.bins
        else:
            self.counts += out.counts
        self.sums += out.sums
        self.metrics[out.ids] = out.metrics
        if out.kept_ids.size:
            self.kept[out.kept_ids] = out.kept.transpose(1, 0, 2)
        if self.paths is not None:
            self.paths[out.ids] = out.paths.transpose(1, 0, 2)
        self.logs.append((int(out.ids[0]), out.log, out.rows))
        if out.incidents is not None:
            self.monthly.add(out.incidents)

    def result(self, meta: dict) -> Result:
        mean = self.sums / FIXED_POINT / self.n
        probs = (0.05, 0.25, 0.5, 0.75, 0.95)
        if self.bins is not None:
            q = bin_quantiles(self.bins, probs)
        else:
            q = histogram_quantiles(self.counts, probs)
        quantiles = quantile_frame(self.dates, self.names, mean, q)
        summary = summarise_metrics(self.metrics, self.names)
        chunks = sorted(self.logs, key=lambda item: item[0])
        rows = [r for _, _, r in chunks if r is not None]
        events = events_table([row for _, log, _ in chunks for row in log], IncidentRows.concat(rows),
                              self.n, self.sc.run.start, self.monthly)
        meta = dict(meta, quantile_accuracy=f"within {BIN_WIDTH} index points (histogram bins)")
        return Result(quantiles, events, summary, meta, self.paths, self.sc.to_toml(), self.kept)


def histogram_quantiles(counts: np.ndarray, probs) -> np.ndarray:
    """Quantiles from fixed-bin histograms ``counts[..., bins]`` on [0, 100].

    Linear interpolation inside the bin where the cumulative count reaches
    ``p * total``: at most one bin width from the exact sample quantile.
    """
    cum = np.cumsum(counts, axis=-1)
    total = cum[..., -1:]
    out = []
    for p in probs:
        target = p * total
        idx = np.minimum((cum < target).sum(axis=-1, keepdims=True), N_BINS - 1)
        below = np.where(idx > 0, np.take_along_axis(cum, np.maximum(idx - 1, 0), -1), 0)
        inside = np.take_along_axis(counts, idx, -1)
        frac = np.where(inside > 0, (target - below) / np.maximum(inside, 1), 0.5)
        out.append(((idx + np.clip(frac, 0, 1)) * BIN_WIDTH)[..., 0])
    return np.stack(out)


def bin_quantiles(bins: np.ndarray, probs) -> np.ndarray:
    """:func:`histogram_quantiles` from each sample's bin ``bins[t, replicate, k]``.

    The same numbers, bit for bit, without building the histograms: the
    bin where the cumulative count first reaches ``p * n`` is the bin of the
    ``ceil(p * n)``-th smallest sample.
    """
    s = np.moveaxis(np.sort(bins.astype(np.int64), axis=1), 1, -1)  # (t, k, n)
    n = s.shape[-1]
    total = np.full(s.shape[:-1] + (1,), n, dtype=np.int64)
    out = []
    for p in probs:
        target = p * total
        j = np.ceil(target).astype(np.int64)
        idx = np.minimum(np.take_along_axis(s, np.clip(j - 1, 0, n - 1), -1), N_BINS - 1)
        below = (s < idx).sum(axis=-1, keepdims=True)
        inside = (s == idx).sum(axis=-1, keepdims=True)
        frac = np.where(inside > 0, (target - below) / np.maximum(inside, 1), 0.5)
        out.append(((idx + np.clip(frac, 0, 1)) * BIN_WIDTH)[..., 0])
    return np.stack(out)


class _ParquetWriter:
    """Writes each chunk's trajectories as it arrives (tidy columns)."""

    def __init__(self, path, scenario: Scenario) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa, self.path = pa, Path(path)
        self.dates = pd.DatetimeIndex(scenario.record_dates()).values.astype("datetime64[ns]")
        self.names = list(scenario.indicators)
        schema = pa.schema([("replicate", pa.int64()), ("date", pa.timestamp("ns")),
                            ("indicator", pa.string()), ("value", pa.float64())])
        self.writer = pq.ParquetWriter(self.path, schema)

    def write(self, out: _ChunkOutput) -> None:
        n_t, n_r, k = out.paths.shape
        table = self.pa.table({
            "replicate": np.repeat(out.ids, n_t * k),
            "date": np.tile(np.repeat(self.dates, k), n_r),
            "indicator": np.tile(self.names, n_r * n_t),
            "value": out.paths.transpose(1, 0, 2).reshape(-1),
        }, schema=self.writer.schema)
        self.writer.write_table(table)

    def close(self) -> None:
        self.writer.close()


def run_metadata(scenario: Scenario, replicates: int, seed: int) -> dict:
    """Everything needed to reproduce a run: scenario hash, seed, versions."""
    from . import __version__

    return {
        "format_version": FORMAT_VERSION,
        "scenario": scenario.name,
        "description": scenario.description,
        "scenario_sha256": scenario.digest(),
        "seed": seed,
        "replicates": replicates,
        "indicators": list(scenario.indicators),
        "start": str(scenario.run.start),
        "end": str(scenario.run.end),
        "record": scenario.run.record,
        "noise": scenario.run.noise,
        "package_version": __version__,
        "git_commit": _git_commit(),
        "python": platform.python_version(),
        "libraries": {lib: _version(lib) for lib in _LIBRARIES},
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


@cache
def _version(lib: str) -> str:
    """Installed version of ``lib`` (looked up once per process)."""
    try:
        return importlib_metadata.version(lib)
    except importlib_metadata.PackageNotFoundError:
        return "not installed"


def _git_commit() -> str | None:
    """The commit of the checkout the package runs from, if it is one.

    Read from the repository's files (``HEAD``, the branch's ref or
    ``packed-refs``), which is cheap and always current; ``git rev-parse``
    only when they cannot be read.
    """
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        return _read_head(root / ".git")
    except (OSError, ValueError):
        pass
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def _read_head(dot_git: Path) -> str:
    """The commit ``HEAD`` points to, read from the files (no ``git`` process)."""
    git_dir = dot_git
    if dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
        text = dot_git.read_text().strip()
        if not text.startswith("gitdir:"):
            raise ValueError(text)
        git_dir = (dot_git.parent / text[len("gitdir:"):].strip()).resolve()
    common = git_dir
    if (git_dir / "commondir").is_file():
        common = (git_dir / (git_dir / "commondir").read_text().strip()).resolve()
    head = (git_dir / "HEAD").read_text().strip()
    if not head.startswith("ref:"):
        return _commit_id(head)
    ref = head[len("ref:"):].strip()
    for base in (git_dir, common):
        if (base / ref).is_file():
            return _commit_id((base / ref).read_text().strip())
    packed = common / "packed-refs"
    for line in packed.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == ref and not line.startswith(("#", "^")):
            return _commit_id(parts[0])
    raise ValueError(f"{ref} not found")


def _commit_id(text: str) -> str:
    if len(text) not in (40, 64) or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(text)
    return text
