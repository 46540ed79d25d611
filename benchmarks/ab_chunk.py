"""Side-by-side CPU time of one chunk on two checkouts (run by hand).

On a shared 2-core machine the speed drifts by tens of percent between runs,
which hides changes of a few percent. This script runs the same chunk on two
checkouts *at the same time*, one process per core, so that both see the
same machine; it repeats that in pairs and reports each side's CPU seconds
(``time.process_time`` around one ``model.simulate`` call) and their ratio::

    git worktree add /tmp/old <commit>
    python benchmarks/ab_chunk.py /tmp/old . --pairs 5

Each side imports ``model`` from its own checkout (checked), warms up with a
small run, then simulates ``--replicates`` replicates of the stress scenario
in one chunk in one process (``workers=1``, no trajectories).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import sys, time
root = sys.argv[1]
sys.path.insert(0, root)
import model
assert model.__file__.startswith(root), f"model imported from {model.__file__}, not {root}"
sc = model.load_scenario(root + "/scenarios/stress.toml")
model.simulate(sc, replicates=100, seed=1, workers=1, trajectories=False)
n = int(sys.argv[2])
t = time.process_time()
model.simulate(sc, replicates=n, seed=1, workers=1, trajectories=False, chunk_size=n)
print(time.process_time() - t)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("a", help="checkout A (e.g. a git worktree of the old commit)")
    parser.add_argument("b", help="checkout B")
    parser.add_argument("--pairs", type=int, default=5)
    parser.add_argument("--replicates", type=int, default=10_000)
    args = parser.parse_args()
    roots = [str(Path(x).resolve()) for x in (args.a, args.b)]
    cpu: dict[str, list[float]] = {"A": [], "B": []}
    for i in range(args.pairs):
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", CHILD, root, str(args.replicates)],
                stdout=subprocess.PIPE,
                text=True,
                cwd="/",
            )
            for root in roots
        ]
        outs = [p.communicate()[0] for p in procs]
        if any(p.returncode for p in procs):
            sys.exit(f"pair {i + 1}: a child failed")
        a, b = (float(o.strip()) for o in outs)
        cpu["A"].append(a)
        cpu["B"].append(b)
        print(f"pair {i + 1}: A {a:.2f} s, B {b:.2f} s, B/A {b / a:.3f}", flush=True)
    ratios = [b / a for a, b in zip(cpu["A"], cpu["B"])]
    print(f"A: {roots[0]}\nB: {roots[1]}")
    print(
        f"median CPU s: A {statistics.median(cpu['A']):.2f}, B {statistics.median(cpu['B']):.2f}; "
        f"median B/A {statistics.median(ratios):.3f} (range {min(ratios):.3f}-{max(ratios):.3f})"
    )


if __name__ == "__main__":
    main()
