"""Time the classroom page's work per change, without the browser.

For each change, in seconds of wall time, best of ``--repeat`` runs with the
cache cleared: the quick answer (``model.classroom.compute_path``, the path
without noise, and ``path_chart``, drawn over the kept background), then the
ensemble (``model.classroom.compute``) and its chart and outcome table
(``fan_chart``, ``outcome_table``). Run by hand::

    python benchmarks/app_response.py
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import time

from model import classroom as app
from model.classroom import runs
from model.plotting.classroom import fan_chart, path_chart

CASES = [
    ("switch the Su-24 downing off", {"off": ("su24-downing-2015",)}),
    ("balancing policy", {"policy": "balancing"}),
    ("Russia pivot, 400 replicates", {"policy": "russia_pivot", "replicates": 400}),
    ("incidents at rate 1", {"incidents": 1.0}),
    ("incidents at rate 1, 400 replicates", {"incidents": 1.0, "replicates": 400}),
]


def _time(settings: app.Settings, reference: app.View) -> tuple[float, float, float, float]:
    """Path, path chart, ensemble, chart and table: seconds, with nothing cached."""
    with runs._cache_lock:
        runs._cache.clear()
    t0 = time.perf_counter()
    path = app.compute_path(settings)
    t1 = time.perf_counter()
    path_chart(path, reference)
    t2 = time.perf_counter()
    view = app.compute(settings)
    t3 = time.perf_counter()
    fan_chart(view, reference)
    app.outcome_table(view, reference)
    t4 = time.perf_counter()
    return t1 - t0, t2 - t1, t3 - t2, t4 - t3


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    base = app.Settings()
    reference = app.compute(base)  # the record, as the page shows it beside every change
    path_chart(app.compute_path(base), reference)  # the background, drawn once per server
    print(f"load average at start: {os.getloadavg()[0]:.2f}")
    print(
        "| change | replicates | path s | path chart s | quick answer s "
        "| ensemble s | chart and table s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|")
    for label, change in CASES:
        settings = dataclasses.replace(base, **change)
        best = min((_time(settings, reference) for _ in range(args.repeat)), key=sum)
        print(
            f"| {label} | {settings.replicates} | {best[0]:.3f} | {best[1]:.3f} "
            f"| {best[0] + best[1]:.3f} | {best[2]:.2f} | {best[3]:.2f} |"
        )


if __name__ == "__main__":
    main()
