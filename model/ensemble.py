"""Running a scenario as an ensemble of replicates and packaging the result.

``simulate`` draws the replicates (global numbers ``0..R-1``), runs them
through the engine, reduces the paths to quantiles and summary metrics, and
attaches the metadata that makes the run reproducible.
"""

from __future__ import annotations

import datetime as dt
import platform
import subprocess
from importlib import metadata as importlib_metadata
from pathlib import Path

import numpy as np
import pandas as pd

from .engine import record_dates, simulate_chunk
from .results import FORMAT_VERSION, QUANTILES, Result, event_frame, quantile_frame, summarise
from .scenario import Scenario

__all__ = ["run_metadata", "simulate"]

_LIBRARIES = ("numpy", "pandas", "scipy", "simpy", "pydantic", "matplotlib")


def simulate(
    scenario: Scenario,
    replicates: int | None = None,
    seed: int | None = None,
    trajectories: bool = True,
) -> Result:
    """Run ``scenario`` and return its :class:`~model.results.Result`.

    ``replicates`` and ``seed`` default to the scenario's ``[run]`` settings.
    """
    n = scenario.run.replicates if replicates is None else int(replicates)
    seed = scenario.run.seed if seed is None else int(seed)
    if n < 1:
        raise ValueError(f"replicates must be >= 1 (got {n})")
    out = simulate_chunk(scenario, np.arange(n), seed)
    values = out.recorder.values  # (time, replicate, indicator)
    dates = pd.DatetimeIndex(record_dates(scenario))
    names = list(scenario.indicators)
    paths = np.ascontiguousarray(values.transpose(1, 0, 2))
    quantiles = quantile_frame(dates, names, values.mean(axis=1), np.quantile(values, QUANTILES, axis=1))
    crisis = {k: spec.crisis for k, spec in scenario.indices.items()}
    summary = summarise(paths, dates, names, crisis)
    events = event_frame(out.log, pd.Timestamp(scenario.run.start))
    meta = run_metadata(scenario, n, seed)
    return Result(quantiles, events, summary, meta, paths if trajectories else None, scenario.to_toml())


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
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }


def _version(lib: str) -> str:
    try:
        return importlib_metadata.version(lib)
    except importlib_metadata.PackageNotFoundError:
        return "not installed"


def _git_commit() -> str | None:
    """The commit of the checkout the package runs from, if it is one."""
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        done = subprocess.run(["git", "-C", str(root), "rev-parse", "HEAD"], capture_output=True,
                              text=True, timeout=5, check=False)
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None
