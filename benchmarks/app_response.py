"""Time the classroom page's work per change, without the browser.

For each change: the simulation (``model.classroom.compute``) and the chart and
outcome table (``fan_chart``, ``outcome_table``), in seconds of wall time, best
of ``--repeat`` runs with the cache cleared. Run by hand::

    python benchmarks/app_response.py
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

from model import classroom as app
from model.plotting.classroom import fan_chart

CASES = [
    ("switch the Su-24 downing off", {"off": ("su24-downing-2015",)}),
    ("balancing policy", {"policy": "balancing"}),
    ("Russia pivot, 400 replicates", {"policy": "russia_pivot", "replicates": 400}),
    ("incidents at rate 1", {"incidents": 1.0}),
    ("incidents at rate 1, 400 replicates", {"incidents": 1.0, "replicates": 400}),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = app.Settings()
    reference = app.compute(base)  # the record, as the page shows it beside every change
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print("| change | replicates | simulation s | chart and table s | total s |")
    print("|---|---:|---:|---:|---:|")
    for label, change in CASES:
        settings = dataclasses.replace(base, **change)
        best = None
        for _ in range(args.repeat):
            with app._cache_lock:
                app._cache.clear()
            t0 = time.perf_counter()
            view = app.compute(settings)
            t1 = time.perf_counter()
            fan_chart(view, reference)
            app.outcome_table(view, reference)
            t2 = time.perf_counter()
            if best is None or t2 - t0 < best[2]:
                best = (t1 - t0, t2 - t1, t2 - t0)
        print(
            f"| {label} | {settings.replicates} | {best[0]:.2f} | {best[1]:.2f} | {best[2]:.2f} |"
        )


if __name__ == "__main__":
    main()
