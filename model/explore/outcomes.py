"""The model as a function: named parameters in, named scalar outcomes out.

:func:`experiment` is a plain function from parameters (dotted paths, see
:mod:`model.params`) to outcomes, so that outside tools (SALib, EMA
Workbench, an optimiser, a notebook loop) can drive the model unchanged.
**Outcomes** (:class:`Outcomes`) are per-replicate summaries of the recorded
paths (the mean level over an outlook period, the minimum, the final level,
years in crisis, the level at the start of a year), averaged over the
replicates. **Common random numbers**: every parameter point runs the same
replicate numbers with the same seed, so two points differ only by their
parameters; the noise is not counted as sensitivity.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..engine import KeepAll, simulate_chunk
from ..errors import ArgumentError
from ..memory import check_fits, ensemble_need
from ..metrics import step_years, years_in_crisis
from ..parallel import one_blas_thread
from ..params import apply
from ..scenario import Scenario, load_scenario

__all__ = [
    "DEFAULT_REPLICATES",
    "Outcomes",
    "as_scenario",
    "experiment",
    "outcome_names",
    "replicate_outcomes",
]

#: Replicates per parameter point: averaged, with common random numbers.
DEFAULT_REPLICATES = 8


@dataclass(frozen=True)
class Outcomes:
    """Which scalar outcomes a run yields; each is computed per replicate.

    For each index ``k`` (in points, from the recorded values):

    - ``mean_k_A_B``: mean level over the records of years A..B (the outlook);
    - ``min_k``: lowest recorded level over the whole run;
    - ``final_k``: level at the last record;
    - ``years_in_crisis_k``: years spent below the index's crisis threshold;
    - ``k_Y``: level at the first record of year Y.
    """

    period: tuple[int, int] = (2026, 2035)
    at_year: int = 2030

    def names(self, indicators: Iterable[str]) -> list[str]:
        a, b = self.period
        out = []
        for k in indicators:
            out += [
                f"mean_{k}_{a}_{b}",
                f"min_{k}",
                f"final_{k}",
                f"years_in_crisis_{k}",
                f"{k}_{self.at_year}",
            ]
        return out

    def check(self, scenario: Scenario) -> None:
        """The period and the year must lie inside the run's records."""
        years = pd.DatetimeIndex(scenario.record_dates()).year
        a, b = self.period
        if a > b or not ((years >= a) & (years <= b)).any():
            raise ArgumentError(
                "period", f"{a}:{b} has no record in the run {years.min()}..{years.max()}"
            )
        if self.at_year not in set(years):
            raise ArgumentError(
                "at_year", f"{self.at_year} has no record in the run {years.min()}..{years.max()}"
            )

    def compute(self, values: np.ndarray, scenario: Scenario) -> dict[str, np.ndarray]:
        """Per-replicate outcomes from ``values[t, r, k]`` (points at the record dates)."""
        dates = pd.DatetimeIndex(scenario.record_dates())
        years = dates.year
        a, b = self.period
        sel = (years >= a) & (years <= b)
        at = int(np.flatnonzero(years == self.at_year)[0])
        step = step_years(dates)
        out: dict[str, np.ndarray] = {}
        for j, (k, spec) in enumerate(scenario.indices.items()):
            y = values[:, :, j]
            out[f"mean_{k}_{a}_{b}"] = y[sel].mean(axis=0)
            out[f"min_{k}"] = y.min(axis=0)
            out[f"final_{k}"] = y[-1]
            out[f"years_in_crisis_{k}"] = years_in_crisis(y, spec.crisis, step, time_axis=0)
            out[f"{k}_{self.at_year}"] = y[at]
        return out


def outcome_names(scenario: Scenario, outcomes: Outcomes | None = None) -> list[str]:
    """The names :func:`experiment` returns for ``scenario``."""
    return (outcomes or Outcomes()).names(scenario.indicators)


def as_scenario(scenario: Scenario | str | Path) -> Scenario:
    return scenario if isinstance(scenario, Scenario) else load_scenario(scenario)


def _paths(scenario: Scenario, replicates: int, seed: int) -> np.ndarray:
    """Recorded levels ``[t, r, k]`` of replicates ``0..replicates-1``.

    The same engine call the ensemble runner makes for each chunk: replicate
    ``r`` has the same path here as in ``model.simulate``.
    """
    need = ensemble_need(
        replicates,
        len(scenario.record_dates()),
        len(scenario.indicators),
        workers=1,
        chunk_size=replicates,
        bins=0,
        keep_paths=True,
        paths_needed=True,
        chunk_copies=False,
        hazards=bool(scenario.hazards),
    )
    check_fits(need)  # before the recorder allocates every path
    recorder = KeepAll(len(scenario.record_dates()), replicates, len(scenario.indicators))
    simulate_chunk(scenario, np.arange(replicates), seed, recorder)
    return recorder.values


def replicate_outcomes(
    params: Mapping[str, Any],
    scenario: Scenario | str | Path,
    seed: int | None = None,
    replicates: int = DEFAULT_REPLICATES,
    outcomes: Outcomes | None = None,
) -> pd.DataFrame:
    """One row per replicate, one column per outcome, at one parameter point."""
    base = as_scenario(scenario)
    spec = outcomes or Outcomes()
    spec.check(base)
    sc = apply(base, params)
    seed = base.run.seed if seed is None else int(seed)
    n = 1 if not sc.run.noise and not _uncertain(sc) else int(replicates)
    with one_blas_thread():
        values = _paths(sc, n, seed)
    frame = pd.DataFrame(spec.compute(values, sc))
    frame.index.name = "replicate"
    return frame


def _uncertain(sc: Scenario) -> bool:
    """Whether anything is drawn per replicate (a distribution or a hazard)."""

    def has_dist(node: Any) -> bool:
        if isinstance(node, dict):
            return "dist" in node or any(has_dist(v) for v in node.values())
        return isinstance(node, list) and any(has_dist(v) for v in node)

    return bool(sc.hazards) or has_dist(sc.to_dict())


def experiment(
    params: Mapping[str, Any],
    scenario: Scenario | str | Path,
    seed: int | None = None,
    replicates: int = DEFAULT_REPLICATES,
    outcomes: Outcomes | None = None,
) -> dict[str, float]:
    """Run ``scenario`` with ``params`` laid over it; the outcomes, averaged over replicates.

    ``params`` maps dotted paths to numbers (see :func:`apply_params`);
    ``seed`` defaults to the scenario's. The same ``seed`` and ``replicates``
    give the same random draws at every parameter point (common random
    numbers), so two calls differ only by their parameters. A run without
    noise or anything uncertain is deterministic and runs one replicate.

    >>> import model.explore as ex                                              # doctest: +SKIP
    >>> ex.experiment({"damping": 0.3}, "scenarios/baseline.toml")["final_west"]  # doctest: +SKIP
    """
    frame = replicate_outcomes(params, scenario, seed, replicates, outcomes)
    return {k: float(v) for k, v in frame.mean().items()}
