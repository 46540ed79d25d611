"""Sweeps: the outcomes over a grid of one or two parameters, or over a Latin hypercube.

Every point runs the same replicates with the same seed (common random
numbers), so the differences between points are the parameters' own.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError
from ..scenario import Scenario
from .outcomes import DEFAULT_REPLICATES, Outcomes, as_scenario
from .points import analysis_metadata, default_outcomes, evaluate, select, write_tables

__all__ = ["Sweep", "latin_hypercube", "sweep"]


@dataclass
class Sweep:
    """Outcomes over a grid of one or two parameters, or over a Latin hypercube sample."""

    kind: str  # "grid" or "lhs"
    parameters: list[str]
    table: pd.DataFrame  # parameters, outcomes, se_<outcome>
    outcomes: list[str]  # the outcomes to plot
    metadata: dict = field(default_factory=dict)

    def save(self, out: str | Path, figures: dict[str, Any] | None = None) -> Path:
        """``sweep.csv``, ``metadata.json`` (and ``figures``) into ``out``."""
        return write_tables(out, {"sweep.csv": self.table}, self.metadata, figures)


def sweep(
    scenario: Scenario | str | Path,
    grid: Mapping[str, Sequence[float]],
    replicates: int = DEFAULT_REPLICATES,
    seed: int | None = None,
    outcomes: Sequence[str] | str | None = None,
    spec: Outcomes | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    progress: bool = False,
) -> Sweep:
    """Every combination of the values of one or two parameters, with common random numbers."""
    sc = as_scenario(scenario)
    spec = spec or Outcomes()
    if not 1 <= len(grid) <= 2:
        raise ArgumentError(
            "grid",
            f"give one or two parameters (got {len(grid)}); use a Latin hypercube (--lhs) for more",
        )
    names = list(grid)
    points = pd.DataFrame(
        list(itertools.product(*[np.asarray(v, float) for v in grid.values()])), columns=names
    )
    chosen = select(outcomes, spec.names(sc.indicators), default_outcomes(sc, spec))
    table = evaluate(sc, points, seed, replicates, spec, True, workers, scheduler, progress)
    seed = sc.run.seed if seed is None else int(seed)
    meta = analysis_metadata(
        sc,
        seed,
        replicates,
        {
            "kind": "grid",
            "grid": {k: list(map(float, v)) for k, v in grid.items()},
            "period": list(spec.period),
            "at_year": spec.at_year,
        },
    )
    return Sweep("grid", names, table, chosen, meta)


def latin_hypercube(
    scenario: Scenario | str | Path,
    ranges: Mapping[str, tuple[float, float]],
    samples: int = 100,
    sample_seed: int = 0,
    replicates: int = DEFAULT_REPLICATES,
    seed: int | None = None,
    outcomes: Sequence[str] | str | None = None,
    spec: Outcomes | None = None,
    workers: int | None = 1,
    scheduler: str | None = None,
    progress: bool = False,
) -> Sweep:
    """``samples`` points of a Latin hypercube over ``ranges``, with common random numbers."""
    from scipy.stats import qmc

    sc = as_scenario(scenario)
    spec = spec or Outcomes()
    if samples < 2:
        raise ArgumentError("samples", f"needs at least 2 samples (got {samples})")
    names = list(ranges)
    lows = np.array([r[0] for r in ranges.values()], float)
    highs = np.array([r[1] for r in ranges.values()], float)
    unit = qmc.LatinHypercube(d=len(names), seed=np.random.default_rng(sample_seed)).random(samples)
    points = pd.DataFrame(qmc.scale(unit, lows, highs), columns=names)
    chosen = select(outcomes, spec.names(sc.indicators), default_outcomes(sc, spec))
    table = evaluate(sc, points, seed, replicates, spec, True, workers, scheduler, progress)
    seed = sc.run.seed if seed is None else int(seed)
    meta = analysis_metadata(
        sc,
        seed,
        replicates,
        {
            "kind": "lhs",
            "samples": samples,
            "sample_seed": sample_seed,
            "ranges": {k: list(map(float, v)) for k, v in ranges.items()},
            "period": list(spec.period),
            "at_year": spec.at_year,
        },
    )
    return Sweep("lhs", names, table, chosen, meta)
