"""Where the time of an ensemble run goes (run by hand).

Profiles, with cProfile, one in-process run (``workers=1``, so every call is
seen) of the stress scenario, and the single deterministic replay of the
baseline; prints the top entries and a breakdown by phase of the engine::

    python benchmarks/profile_ensemble.py --replicates 10000

With ``--groups`` it also counts, in a separate untimed pass, how the state is
advanced: how many exact steps are taken and for how many rows each. With
``--chunk-sizes`` it times (without the profiler) one chunk of each size in
this process, to show the fixed cost per chunk::

    python benchmarks/profile_ensemble.py --replicates 0 --chunk-sizes 1000 5000 10000 20000 50000

With ``--log-memory N`` it measures the output of one chunk of ``N``
replicates (its event log above all) and the cost of merging ten of them.
Outputs are checked bit for bit against a saved run by
``benchmarks/check_identity.py``.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# (label, function): cumulative time of these functions
PHASES = [
    ("simulate (total)", "model.ensemble.simulate"),
    ("  chunk: set-up (parameter draws, eigenvectors)", "model.engine.run.Run.__init__"),
    ("  chunk: hazards, windowed rounds", "model.engine.hazards.Hazards._window"),
    ("  chunk: hazards, day by day (shifts with durations)", "model.engine.hazards.Hazards._day"),
    ("  chunk: records (advance all rows + summaries)", "model.engine.run.Run.record"),
    ("    of which streaming summaries", "model.ensemble.ChunkSummary.record"),
    ("  chunk: dated events", "model.engine.run.Run.fire"),
    ("  chunk: shift ends", "model.engine.run.Run.undo"),
    ("  state advance, rows to one day (records, events)", "model.engine.state.State.advance"),
    ("  state advance, rows to their own days", "model.engine.state.State.advance_each"),
    ("    per-row matrices computed for the chunk", "model.engine.state.State._slot"),
    ("    per-row matrices (eigenvector route)", "model.dynamics.Spectral.matrices"),
    ("    whole-chunk matrices (matrix exponentials)", "model.dynamics.transition"),
    ("      of which Cholesky roots", "model.dynamics.cholesky"),
    ("      of which elementwise stacked products", "model.dynamics._matmul_last"),
    ("    noise draws", "model.rng.Streams.normals"),
    ("    exact step", "model.dynamics.step"),
    ("  merge and result tables", "model.ensemble._Merge.result"),
    ("    quantiles from histograms", "model.ensemble.histogram_quantiles"),
    ("    quantiles from bins (small ensembles)", "model.ensemble.bin_quantiles"),
    ("    event log merge", "model.eventlog.events_table"),
    ("    run metadata (versions, git)", "model.provenance.run_metadata"),
]


def _code_key(dotted: str):
    """``(file, first line, name)`` of a function, as cProfile keys it; None if it is gone."""
    import importlib

    parts = dotted.split(".")
    for cut in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        try:
            for name in parts[cut:]:
                obj = getattr(obj, name)
        except AttributeError:
            return None
        code = getattr(obj, "__code__", None)
        return (code.co_filename, code.co_firstlineno, code.co_name) if code else None
    return None


def phases(stats: pstats.Stats) -> list[tuple[str, float, int]]:
    out = []
    for label, dotted in PHASES:
        key = _code_key(dotted)
        _cc, nc, _tt, ct, _callers = stats.stats.get(key, (0, 0, 0.0, 0.0, None))
        out.append((label, ct, nc))
    return out


def profile(fn, top: int, title: str, warm=None) -> None:
    (warm or fn)()  # warm-up: imports, caches
    pr = cProfile.Profile()
    t0 = time.perf_counter()
    pr.enable()
    fn()
    pr.disable()
    wall = time.perf_counter() - t0
    st = pstats.Stats(pr)
    print(f"## {title}: {wall:.3f} s under the profiler\n")
    print("| phase | seconds | share | calls |\n|---|---:|---:|---:|")
    for label, secs, calls in phases(st):
        print(f"| {label} | {secs:.3f} | {100 * secs / wall:.0f}% | {calls:,} |")
    buf = io.StringIO()
    pstats.Stats(pr, stream=buf).sort_stats("tottime").print_stats(top)
    print("\nTop entries by own time:\n```")
    print(
        "\n".join(
            line
            for line in buf.getvalue().splitlines()
            if line.strip()
            and "function calls" not in line
            and "Ordered by" not in line
            and "List reduced" not in line
        )
    )
    print("```\n")


def groups(sc, replicates: int) -> None:
    """Count exact steps by size (an untimed pass that wraps the engine's advance)."""
    import numpy as np

    import model
    from model import engine

    sizes: Counter = Counter()
    calls = {"advance": 0, "groups": 0, "rows": 0, "each": 0, "each_rows": 0}
    original = engine._State.advance
    original_each = engine._State.advance_each

    def advance(self, day, rows=None):
        r = np.arange(len(self.z)) if rows is None else rows
        h = day - self.day[r]
        h = h[h > 0]
        if h.size:
            calls["advance"] += 1
            u, c = np.unique(h, return_counts=True)
            calls["groups"] += u.size
            calls["rows"] += int(c.sum())
            for n in c:
                sizes[min(int(n), 10**6)] += 1
        return original(self, day, rows)

    def advance_each(self, days, rows):
        moving = int((days - self.day[rows] > 0).sum())
        if moving:
            calls["each"] += 1
            calls["each_rows"] += moving
        return original_each(self, days, rows)

    engine._State.advance = advance
    engine._State.advance_each = advance_each
    try:
        model.simulate(sc, replicates=replicates, trajectories=False, workers=1)
    finally:
        engine._State.advance = original
        engine._State.advance_each = original_each
    per = calls["rows"] / max(calls["groups"], 1)
    small = sum(v for k, v in sizes.items() if k <= 10)
    print(f"## Exact steps in one chunk of {replicates:,} replicates\n")
    print(f"- advance calls that move rows: {calls['advance']:,}")
    print(f"- exact steps (one per distinct step length per call): {calls['groups']:,}")
    print(f"- rows moved in total: {calls['rows']:,} (mean {per:.1f} rows per step)")
    print(f"- steps of at most 10 rows: {small:,} ({100 * small / max(calls['groups'], 1):.0f}%)")
    print("  (advance calls that hand rows at several days to advance_each are counted above too)")
    print(
        f"- advance_each calls (each row to its own day, one pass): {calls['each']:,}, "
        f"moving {calls['each_rows']:,} rows (mean "
        f"{calls['each_rows'] / max(calls['each'], 1):.0f})\n"
    )


def chunk_sizes(sc, sizes: list[int]) -> None:
    import model

    model.simulate(sc, replicates=50, trajectories=False, workers=1)
    print("## One chunk of each size, workers=1 (no profiler)\n")
    print("| replicates in the chunk | seconds | ms per replicate | replicate-years/s | load |")
    print("|---:|---:|---:|---:|---|")
    years = ((sc.run.end - sc.run.start).days + 1) / 365.25
    for n in sizes:
        t0 = time.perf_counter()
        model.simulate(sc, replicates=n, trajectories=False, workers=1, chunk_size=n)
        secs = time.perf_counter() - t0
        load = " ".join(f"{x:.2f}" for x in os.getloadavg())
        print(
            f"| {n:,} | {secs:.1f} | {1000 * secs / n:.2f} | {n * years / secs:,.0f} | {load} |",
            flush=True,
        )
    print()


def log_memory(sc, n: int, copies: int = 10) -> None:
    """Size of one chunk's output and event log, and the cost of merging ``copies`` of it.

    Measured both ways a chunk can send its incidents: one row each, as arrays
    (ensembles up to ``INCIDENT_ROWS_LIMIT`` replicates), and grouped by month
    (larger ensembles).
    """
    import pickle
    import tracemalloc

    import numpy as np

    from model import ensemble, eventlog

    def mb(obj) -> float:
        return len(pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)) / 2**20

    out = ensemble.run_chunk(sc, np.arange(n), sc.run.seed, False)
    rows = len(out.log) + len(out.rows)
    print(f"## Output of one chunk of {n:,} replicates\n")
    print(
        f"- event-log rows: {rows:,} ({rows / n:.1f} per replicate): {len(out.log):,} "
        "ensemble-wide, "
        f"{len(out.rows):,} incidents"
    )
    print(
        f"- with every incident kept (ensembles up to {eventlog.INCIDENT_ROWS_LIMIT:,} "
        "replicates): the "
        f"chunk's output pickled {mb(out):.1f} MB, of which the incident arrays "
        f"{mb(out.rows):.1f} MB, the "
        f"ensemble-wide rows {mb(out.log):.2f} MB and the histogram counts "
        f"{out.counts.nbytes / 2**20:.1f} MB"
    )
    grouped = ensemble.run_chunk(sc, np.arange(n), sc.run.seed, False, True)
    sent = pickle.dumps(grouped, protocol=pickle.HIGHEST_PROTOCOL)
    inc = grouped.incidents
    print(
        f"- grouped by month (larger ensembles): output pickled {len(sent) / 2**20:.1f} MB; "
        f"{len(grouped.log):,} ensemble-wide log rows, {len(inc.keys):,} incident groups, "
        f"{inc.values.size:,} incident changes ({inc.values.nbytes / 2**20:.1f} MB)"
    )
    tracemalloc.start()
    t0 = time.perf_counter()
    merge = ensemble._Merge(sc, n * copies, False)
    for c in range(copies):
        piece = pickle.loads(sent)
        piece.ids = piece.ids + c * n
        merge.add(piece)
    res = merge.result({})
    secs = time.perf_counter() - t0
    peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    print(
        f"- merging {copies} such outputs ({n * copies:,} replicates) into the result: "
        f"{secs:.1f} s, "
        f"{peak_mb:.0f} MB allocated at the peak, {len(res.events):,} event rows out\n"
    )


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--replicates", type=int, default=10_000)
    p.add_argument("--scenario", default=str(ROOT / "scenarios" / "stress.toml"))
    p.add_argument("--top", type=int, default=20)
    p.add_argument("--groups", action="store_true")
    p.add_argument("--chunk-sizes", type=int, nargs="*", default=[])
    p.add_argument("--no-replay", action="store_true")
    p.add_argument(
        "--log-memory", type=int, default=0, help="replicates of a chunk for the log-size probe"
    )
    a = p.parse_args()

    import model

    sc = model.load_scenario(a.scenario)
    base = model.load_scenario(ROOT / "scenarios" / "baseline.toml")
    base = base.model_copy(update={"run": base.run.model_copy(update={"noise": False})})
    if a.replicates > 0:
        profile(
            lambda: model.simulate(sc, replicates=a.replicates, trajectories=False, workers=1),
            a.top,
            f"{sc.name}, {a.replicates:,} replicates, workers=1",
            warm=lambda: model.simulate(sc, replicates=100, trajectories=False, workers=1),
        )
    if not a.no_replay:
        profile(
            lambda: model.simulate(base, replicates=1, trajectories=False, workers=1),
            a.top,
            "deterministic replay of the baseline (1 replicate, noise off)",
        )
    if a.groups and a.replicates > 0:
        groups(sc, a.replicates)
    if a.chunk_sizes:
        chunk_sizes(sc, a.chunk_sizes)
    if a.log_memory:
        log_memory(sc, a.log_memory)


if __name__ == "__main__":
    main()
