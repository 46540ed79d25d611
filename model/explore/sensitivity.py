"""Global sensitivity analysis with SALib: Sobol and Morris indices of the outcomes.

Every parameter point averages a few replicates run with common random
numbers (:mod:`.points`), so a parameter that enters nothing (``dummy``)
gets indices of exactly zero. The parameters, their ranges and the outcomes
are named as everywhere else (:mod:`model.params`, :class:`.Outcomes`).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError
from ..params import DUMMY
from ..scenario import Scenario
from .outcomes import DEFAULT_REPLICATES, Outcomes, as_scenario
from .points import analysis_metadata, default_outcomes, evaluate, select, write_tables

__all__ = ["DEFAULT_PARAMS", "Sensitivity", "sensitivity"]

#: The assumptions ranged by ``relsim sensitivity`` when no ``--params`` are given:
#: persistence, the two main spill-overs, the damping of energy shocks, the
#: size of the events that leave lasting shifts, and the dummy. ``*=`` ranges
#: are multiples of the scenario's own value (an event scale's is 1 unless the
#: scenario sets it).
DEFAULT_PARAMS = (
    "indices.trade.half_life*=0.5:2",
    "indices.energy.half_life*=0.5:2",
    "indices.security.half_life*=0.5:2",
    "indices.west.half_life*=0.5:2",
    "spillover.trade.security*=0:2",
    "spillover.security.trade*=0:2",
    "damping*=0.5:1.5",
    "events.scale.russian-sanctions-2015*=0.8:1.2",
    "events.scale.su24-downing-2015*=0.5:1.5",
    "events.scale.s400-delivery-2019*=0.5:1.5",
    "events.scale.caatsa-sanctions-2020*=0.5:1.5",
    "events.scale.ukraine-war-trade-2022*=0.5:1.5",
    f"{DUMMY}=0:1",
)
#: The columns of the indices of each method.
_KEYS = {
    "sobol": ("S1", "S1_conf", "ST", "ST_conf"),
    "morris": ("mu_star", "mu_star_conf", "mu", "sigma"),
}


@dataclass
class Sensitivity:
    """Sobol or Morris indices of chosen outcomes, with the runs behind them."""

    method: str
    problem: dict
    samples: pd.DataFrame  # one row per parameter point: parameters, outcomes, se_<outcome>
    indices: (
        pd.DataFrame
    )  # outcome, parameter, S1, S1_conf, ST, ST_conf | mu_star, mu_star_conf, mu, sigma
    outcomes: list[str]
    metadata: dict = field(default_factory=dict)

    def save(self, out: str | Path, figures: dict[str, Any] | None = None) -> Path:
        """``indices.csv``, ``samples.csv``, ``metadata.json`` (and ``figures``) into ``out``."""
        return write_tables(
            out, {"indices.csv": self.indices, "samples.csv": self.samples}, self.metadata, figures
        )


def sensitivity(
    scenario: Scenario | str | Path,
    ranges: Mapping[str, tuple[float, float]],
    method: str = "sobol",
    samples: int = 256,
    replicates: int = DEFAULT_REPLICATES,
    seed: int | None = None,
    sample_seed: int = 0,
    outcomes: Sequence[str] | str | None = None,
    spec: Outcomes | None = None,
    common_random_numbers: bool = True,
    conf_level: float = 0.95,
    num_resamples: int = 1000,
    workers: int | None = 1,
    scheduler: str | None = None,
    progress: bool = False,
) -> Sensitivity:
    """Global sensitivity of the outcomes to the parameters in ``ranges`` (uniform).

    ``method="sobol"``: Saltelli sampling, ``samples`` x (D + 2) runs (D
    parameters; ``samples`` a power of 2), first-order ``S1`` and total ``ST``
    indices with bootstrap confidence intervals. ``method="morris"``:
    ``samples`` trajectories of D + 1 runs, ``mu_star`` (mean absolute
    elementary effect, in outcome units) with its interval, ``mu`` and
    ``sigma``. Every point averages ``replicates`` replicates run with common
    random numbers, so a parameter that enters nothing (``dummy``) gets
    indices of exactly zero.
    """
    sc = as_scenario(scenario)
    spec = spec or Outcomes()
    spec.check(sc)
    _check_design(method, ranges, samples)
    chosen = select(outcomes, spec.names(sc.indicators), default_outcomes(sc, spec))
    design = _Design(method, _problem(ranges), samples, sample_seed, conf_level, num_resamples)
    x = design.sample()
    points = pd.DataFrame(x, columns=design.problem["names"])
    table = evaluate(
        sc, points, seed, replicates, spec, common_random_numbers, workers, scheduler, progress
    )
    rows = []
    for name in chosen:
        indices = design.analyse(x, table[name].to_numpy())
        rows += [
            {"outcome": name, "parameter": p, **v} for p, v in zip(design.problem["names"], indices)
        ]
    seed = sc.run.seed if seed is None else int(seed)
    settings = design.settings(len(table), common_random_numbers, spec)
    meta = analysis_metadata(sc, seed, replicates, settings)
    return Sensitivity(method, design.problem, table, pd.DataFrame(rows), chosen, meta)


def _check_design(method: str, ranges: Mapping[str, tuple[float, float]], samples: int) -> None:
    """The method is known, some parameter is ranged, and Sobol's sample size a power of 2."""
    if method not in ("sobol", "morris"):
        raise ArgumentError("method", f"must be 'sobol' or 'morris' (got {method!r})")
    if len(ranges) < 1:
        raise ArgumentError("ranges", "give at least one parameter")
    if method == "sobol" and (samples < 2 or samples & (samples - 1)):
        up = 2 ** max(1, math.ceil(math.log2(max(samples, 2))))
        raise ArgumentError(
            "samples", f"Sobol sampling needs a power of 2 (got {samples}; try {up})"
        )


def _problem(ranges: Mapping[str, tuple[float, float]]) -> dict[str, Any]:
    """The SALib problem of ``ranges``: the parameters' names and uniform bounds."""
    return {
        "num_vars": len(ranges),
        "names": list(ranges),
        "bounds": [list(map(float, b)) for b in ranges.values()],
    }


@dataclass(frozen=True)
class _Design:
    """The SALib side of a sensitivity analysis: a problem, its sample, the analysis of an
    outcome over it, and the settings the results' metadata records.
    """

    method: str
    problem: dict[str, Any]
    samples: int
    sample_seed: int
    conf_level: float
    num_resamples: int

    def sample(self) -> np.ndarray:
        """The points (point x parameter): Saltelli's for Sobol, trajectories for Morris."""
        from SALib.sample import morris as morris_sample
        from SALib.sample import sobol as sobol_sample

        if self.method == "sobol":
            return sobol_sample.sample(
                self.problem, self.samples, calc_second_order=False, seed=self.sample_seed
            )
        return morris_sample.sample(self.problem, self.samples, num_levels=4, seed=self.sample_seed)

    def analyse(self, x: np.ndarray, y: np.ndarray) -> list[dict[str, float]]:
        """The indices of one outcome (``y`` at the points ``x``), one dict per parameter.

        An outcome that never moves over the sample has no variance to
        apportion: its indices are NaN.
        """
        from SALib.analyze import morris as morris_analyze
        from SALib.analyze import sobol as sobol_analyze

        keys = _KEYS[self.method]
        if np.ptp(y) == 0:
            return [{k: math.nan for k in keys} for _ in self.problem["names"]]
        if self.method == "sobol":
            res = sobol_analyze.analyze(
                self.problem,
                y,
                calc_second_order=False,
                conf_level=self.conf_level,
                num_resamples=self.num_resamples,
                seed=self.sample_seed,
            )
        else:
            res = morris_analyze.analyze(
                self.problem,
                x,
                y,
                conf_level=self.conf_level,
                num_resamples=self.num_resamples,
                num_levels=4,
                seed=self.sample_seed,
            )
        return [{k: float(res[k][j]) for k in keys} for j in range(len(self.problem["names"]))]

    def settings(self, runs: int, common_random_numbers: bool, spec: Outcomes) -> dict[str, Any]:
        """The analysis' settings as its metadata records them."""
        return {
            "kind": "sensitivity",
            "method": self.method,
            "samples": self.samples,
            "runs": runs,
            "sample_seed": self.sample_seed,
            "common_random_numbers": common_random_numbers,
            "conf_level": self.conf_level,
            "num_resamples": self.num_resamples,
            "problem": self.problem,
            "period": list(spec.period),
            "at_year": spec.at_year,
        }
