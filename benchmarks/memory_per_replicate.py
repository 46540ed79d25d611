"""How much memory an ensemble needs per replicate (run by hand).

Each size runs in a fresh process: ``model.simulate(sc, replicates=N, trajectories=False,
workers=W)``; the process reports its peak resident set (``ru_maxrss``, and the largest
worker's with ``--workers`` > 1) and its resident set before the run. The cost per
replicate is the slope of the peak between sizes::

    python benchmarks/memory_per_replicate.py --sizes 10000 100000 400000 --workers 1

and the cost per replicate of a chunk, from one size run in chunks of several sizes::

    python benchmarks/memory_per_replicate.py --sizes 20000 --chunk-sizes 2000 20000

With ``--trajectories`` the paths are kept in memory (``trajectories=True``), with
``--trajectory-file`` streamed to a Parquet file in a temporary folder. The figures are
quoted in ``docs/PERFORMANCE.md`` ("Memory per replicate") and used by ``model.memory``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

CHILD = """
import json, resource, sys, tempfile, time
from pathlib import Path
import model

def rss_kb():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) for line in f if line.startswith("VmRSS:"))

n, workers, scenario, mode = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
chunk = int(sys.argv[5]) or None
sc = model.load_scenario(scenario)
model.simulate(sc, replicates=2, workers=1)  # warm: imports, caches
before = rss_kb()
with tempfile.TemporaryDirectory() as tmp:
    kwargs = {"trajectories": mode == "memory", "chunk_size": chunk}
    if mode == "file":
        kwargs["trajectory_file"] = Path(tmp) / "t.parquet"
    t = time.perf_counter()
    res = model.simulate(sc, replicates=n, workers=workers, **kwargs)
    seconds = time.perf_counter() - t
me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(json.dumps({"replicates": n, "chunk_size": chunk, "seconds": round(seconds, 2),
                  "rss_before_mb": before / 1024, "peak_mb": me / 1024,
                  "largest_worker_mb": kids / 1024}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[10_000, 100_000, 400_000])
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--chunk-sizes", type=int, nargs="+", default=[0], help="0: the default")
    ap.add_argument("--scenario", default=str(ROOT / "scenarios" / "baseline.toml"))
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--trajectories", action="store_true", help="keep the paths in memory")
    mode.add_argument("--trajectory-file", action="store_true", help="stream them to Parquet")
    args = ap.parse_args()
    kind = "memory" if args.trajectories else "file" if args.trajectory_file else "none"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    rows = []
    for n in args.sizes:
        for chunk in args.chunk_sizes:
            argv = [str(n), str(args.workers), args.scenario, kind, str(chunk)]
            done = subprocess.run(
                [sys.executable, "-c", CHILD, *argv],
                check=False,
                capture_output=True,
                text=True,
                env=env,
            )
            if done.returncode:
                sys.exit(done.stderr)
            rows.append(json.loads(done.stdout))
            print(json.dumps(rows[-1]), flush=True)
    for a, b in itertools.pairwise(rows):
        what, x, y = (
            ("replicate", a["replicates"], b["replicates"])
            if a["replicates"] != b["replicates"]
            else ("replicate of a chunk", a["chunk_size"] or 0, b["chunk_size"] or 0)
        )
        if x != y:
            slope = (b["peak_mb"] - a["peak_mb"]) * 2**20 / (y - x)
            print(f"{x} -> {y}: {slope:.0f} bytes per {what}")


if __name__ == "__main__":
    main()
