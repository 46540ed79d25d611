"""Running a scenario as an ensemble: chunks, workers, streaming summaries.

Replicates are numbered ``0..R-1`` and split into chunks; each chunk runs in
one SimPy environment (:func:`model.engine.simulate_chunk`), in this process,
in a pool of worker processes, or on a Dask cluster. A chunk is reduced on the
spot to mergeable summaries, so memory grows only by the per-replicate metrics
(:mod:`model.memory` estimates a run's needs and refuses what cannot fit):

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

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from . import eventlog
from .engine import simulate_chunk
from .errors import ArgumentError
from .eventlog import (
    FIXED_POINT,
    IncidentRows,
    MonthlyIncidents,
    MonthlySums,
    SharedRow,
    events_table,
    group_by_month,
)
from .memory import Need, check_disk, check_fits, ensemble_need
from .metrics import RunningMetrics, summarise
from .parallel import one_blas_thread, progress_bar, run_tasks, worker_count
from .provenance import run_metadata
from .results import Result, quantile_frame
from .scenario import Scenario

__all__ = ["BIN_WIDTH", "ChunkSummary", "run_need", "simulate", "with_run"]

BIN_WIDTH = 0.05
N_BINS = round(100 / BIN_WIDTH)
#: Up to this many replicates, quantiles are read from each level's bin
#: (the same numbers as from the histograms, without building them).
SPARSE_LIMIT = 1_000
SAMPLE_PATHS = 20


class ChunkSummary:
    """Streaming recorder for one chunk: histograms, exact sums, per-replicate metrics."""

    def __init__(
        self,
        days: list[int],
        n_rows: int,
        crisis: np.ndarray,
        keep_rows: np.ndarray,
        keep_all: bool,
        sparse: bool = False,
    ) -> None:
        n_t, k = len(days), len(crisis)
        # small ensembles keep each level's bin instead of the histograms
        self.counts = None if sparse else np.zeros((n_t, k, N_BINS), dtype=np.int64)
        self.bins = np.empty((n_t, n_rows, k), dtype=np.int16) if sparse else None
        self.sums = np.zeros((n_t, k), dtype=np.int64)
        self._ones = np.ones(n_rows, dtype=np.int64)
        self.running = RunningMetrics(days, n_rows, crisis)
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
        elif self.counts is not None:
            bins += N_BINS * np.arange(k)
            self.counts[i] += np.bincount(bins.ravel(), minlength=k * N_BINS).reshape(k, N_BINS)
        fixed = y * FIXED_POINT
        np.round(fixed, out=fixed)
        # integer sums are exact in any order: a product with ones is the fast way
        self.sums[i] += self._ones @ fixed.astype(np.int64)
        self.running.add(i, y)
        self.kept[i] = y[self.keep_rows]
        if self.paths is not None:
            self.paths[i] = y

    def metrics(self) -> np.ndarray:
        """Per-replicate metrics ``(rows, indices, 5)`` (see :mod:`model.metrics`)."""
        return self.running.values()


@dataclass
class _ChunkOutput:
    ids: np.ndarray
    counts: np.ndarray | None
    sums: np.ndarray
    metrics: np.ndarray
    log: list[SharedRow]
    kept_ids: np.ndarray
    kept: np.ndarray
    paths: np.ndarray | None = field(default=None, repr=False)
    incidents: MonthlyIncidents | None = field(default=None, repr=False)
    bins: np.ndarray | None = field(default=None, repr=False)
    rows: IncidentRows | None = field(default=None, repr=False)


def run_chunk(
    scenario: Scenario,
    ids: np.ndarray,
    seed: int,
    keep_all: bool,
    by_month: bool = False,
    sparse: bool = False,
) -> _ChunkOutput:
    """Simulate replicates ``ids`` and reduce them (runs in a worker process too).

    ``log`` keeps the ensemble-wide log rows; the incident rows leave the
    chunk as arrays: per row (``rows``), or, with ``by_month`` (ensembles above
    ``INCIDENT_ROWS_LIMIT``), grouped by month (``incidents``). With ``sparse``
    (ensembles up to ``SPARSE_LIMIT``), each level's histogram bin is kept
    instead of the histograms.
    """
    days = [(d - scenario.run.start).days for d in scenario.record_dates()]
    crisis = np.array([spec.crisis for spec in scenario.indices.values()])
    keep_rows = np.flatnonzero(ids < SAMPLE_PATHS)
    rec = ChunkSummary(days, len(ids), crisis, keep_rows, keep_all, sparse)
    with one_blas_thread():
        out = simulate_chunk(scenario, ids, seed, rec)
    rows = out.incidents
    incidents = group_by_month(rows, scenario.run.start) if by_month else None
    # counts per chunk fit in 32 bits: half the bytes through the pipes
    counts = rec.counts
    if counts is not None and len(ids) < 2**31:
        counts = counts.astype(np.int32)
    return _ChunkOutput(
        ids,
        counts,
        rec.sums,
        rec.metrics(),
        out.shared,
        ids[keep_rows],
        rec.kept,
        rec.paths,
        incidents,
        rec.bins,
        None if by_month else rows,
    )


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
        raise ArgumentError("replicates", f"must be >= 1 (got {n})")
    scenario = with_run(scenario, n, seed)  # what the result records is what was run
    workers = worker_count(workers)
    size = chunk_size or max(min(10_000, -(-n // workers)), 1)
    # before anything is allocated: refuse what cannot fit (docs/PERFORMANCE.md)
    stream = trajectory_file is not None
    check_fits(run_need(scenario, n, workers, size, keep_paths=trajectories, stream_paths=stream))
    if trajectory_file is not None:
        values = n * len(scenario.record_dates()) * len(scenario.indicators)
        check_disk(trajectory_file, values)
    chunks = [np.arange(a, min(a + size, n)) for a in range(0, n, size)]
    keep_all = trajectories or trajectory_file is not None
    by_month = n > eventlog.INCIDENT_ROWS_LIMIT
    sparse = n <= SPARSE_LIMIT
    merged = _Merge(scenario, n, trajectories, sparse)
    writer = _ParquetWriter(trajectory_file, scenario) if trajectory_file else None
    tasks = [(scenario, ids, seed, keep_all, by_month, sparse) for ids in chunks]
    bar = progress_bar(n, progress, "rep", "replicates")
    try:
        for _, out in run_tasks(
            run_chunk,
            tasks,
            [len(ids) for ids in chunks],
            workers=workers,
            scheduler=scheduler,
            bar=bar,
        ):
            merged.add(out)
            if writer:
                writer.write(out)
    finally:
        bar.close()
        if writer:
            writer.close()
    return merged.result(run_metadata(scenario, n, seed))


def with_run(scenario: Scenario, replicates: int, seed: int) -> Scenario:
    """``scenario`` with the replicate count and seed of its ``[run]`` set to those used."""
    run = scenario.run
    if run.replicates == replicates and run.seed == seed:
        return scenario
    run = run.model_copy(update={"replicates": int(replicates), "seed": int(seed)})
    return scenario.model_copy(update={"run": run})


def run_need(scenario: Scenario, n: int, workers: int, chunk_size: int, **kw: Any) -> Need:
    """The memory an ensemble of ``n`` replicates of ``scenario`` needs
    (:func:`model.memory.ensemble_need`; ``kw``: ``keep_paths``, ``stream_paths``, ``runs``,
    ``paths_needed``, ``path_copies``)."""
    return ensemble_need(
        n,
        len(scenario.record_dates()),
        len(scenario.indicators),
        workers=workers,
        chunk_size=chunk_size,
        bins=N_BINS,
        hazards=bool(scenario.hazards),
        **kw,
    )


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
        if self.bins is not None and out.bins is not None:
            self.bins[:, out.ids] = out.bins
        elif self.counts is not None and out.counts is not None:
            self.counts += out.counts
        self.sums += out.sums
        self.metrics[out.ids] = out.metrics
        if out.kept_ids.size:
            self.kept[out.kept_ids] = out.kept.transpose(1, 0, 2)
        if self.paths is not None and out.paths is not None:
            self.paths[out.ids] = out.paths.transpose(1, 0, 2)
        self.logs.append((int(out.ids[0]), out.log, out.rows))
        if out.incidents is not None:
            self.monthly.add(out.incidents)

    def result(self, meta: dict) -> Result:
        mean = self.sums / FIXED_POINT / self.n
        probs = (0.05, 0.25, 0.5, 0.75, 0.95)
        if self.bins is not None:
            q = bin_quantiles(self.bins, probs)
        elif self.counts is not None:
            q = histogram_quantiles(self.counts, probs)
        else:  # pragma: no cover - one of the two is always kept
            raise ValueError("no levels were recorded")
        quantiles = quantile_frame(self.dates, self.names, mean, q)
        summary = summarise(self.metrics, self.names)
        chunks = sorted(self.logs, key=lambda item: item[0])
        rows = [r for _, _, r in chunks if r is not None]
        events = events_table(
            [row for _, log, _ in chunks for row in log],
            IncidentRows.concat(rows),
            self.n,
            self.sc.run.start,
            self.monthly,
        )
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
    """Writes the trajectories as chunks arrive, in replicate order (tidy columns).

    Chunks may finish in any order; each waits until the chunks before it are
    written. Rows are grouped in fixed blocks of ``GROUP`` replicates, so the
    file is the same, byte for byte, for any chunk size or worker count.
    """

    GROUP = 256  # replicates per Parquet row group

    def __init__(self, path, scenario: Scenario) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        self.pa, self.path = pa, Path(path)
        self.dates = pd.DatetimeIndex(scenario.record_dates()).values.astype("datetime64[ns]")
        self.names = list(scenario.indicators)
        schema = pa.schema(
            [
                ("replicate", pa.int64()),
                ("date", pa.timestamp("ns")),
                ("indicator", pa.string()),
                ("value", pa.float64()),
            ]
        )
        self.writer = pq.ParquetWriter(self.path, schema)
        self.waiting: dict[int, tuple[np.ndarray, np.ndarray]] = {}  # first id: (ids, paths)
        self.next_id = 0
        self.block: list[tuple[np.ndarray, np.ndarray]] = []  # in order, not yet written

    def write(self, out: _ChunkOutput) -> None:
        if out.paths is None:
            return
        self.waiting[int(out.ids[0])] = (out.ids, out.paths.transpose(1, 0, 2))
        while self.next_id in self.waiting:
            ids, paths = self.waiting.pop(self.next_id)
            self.next_id = int(ids[-1]) + 1
            self.block.append((ids, paths))
            self._flush(final=False)

    def _flush(self, final: bool) -> None:
        """Write every whole block of ``GROUP`` replicates held (and the rest if ``final``)."""
        if not self.block:
            return
        ids = np.concatenate([i for i, _ in self.block])
        paths = np.concatenate([p for _, p in self.block])
        cut = len(ids) if final else len(ids) - int(ids[-1] + 1) % self.GROUP
        for a in range(0, cut, self.GROUP):
            b = min(a + self.GROUP, cut)
            self.writer.write_table(self._table(ids[a:b], paths[a:b]))
        self.block = [(ids[cut:], paths[cut:])] if cut < len(ids) else []

    def _table(self, ids: np.ndarray, paths: np.ndarray) -> Any:
        n_r, n_t, k = paths.shape
        return self.pa.table(
            {
                "replicate": np.repeat(ids, n_t * k),
                "date": np.tile(np.repeat(self.dates, k), n_r),
                "indicator": np.tile(self.names, n_r * n_t),
                "value": paths.reshape(-1),
            },
            schema=self.writer.schema,
        )

    def close(self) -> None:
        self._flush(final=True)
        self.writer.close()
