"""EMA Workbench adapter: relsim as an EMA ``Model`` for scenario discovery.

The model is exposed as a plain function of named parameters returning named
outcomes (:func:`model.explore.experiment`), wrapped in an EMA Workbench
``Model`` with uncertainties, levers and scalar outcomes, so EMA's
experiments, PRIM, feature scoring and optimisation work on it unchanged.

- **Uncertainties and levers** are dotted-path parameters of the scenario
  (``indices.trade.half_life``, ``events.scale.<id>``,
  ``hazards.<id>.rate``, ``policy.name``): a ``(low, high)`` pair becomes a
  ``RealParameter``, a list of strings a ``CategoricalParameter``.
- **Outcomes** are the names of :func:`model.explore.outcome_names`, each the
  mean over the replicates of one experiment; all experiments run the same
  replicate numbers with the same seed (common random numbers).

EMA Workbench is an optional extra: ``pip install -e ".[ema]"``. On Python
3.11 that installs EMA Workbench 2.5 (3.x needs Python 3.12 or newer), the
version this module is tested with. Nothing else in the package imports this
module.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import ArgumentError
from ..parallel import one_blas_thread
from ..scenario import Scenario
from .outcomes import DEFAULT_REPLICATES, Outcomes, as_scenario, experiment, outcome_names

__all__ = [
    "Discovery",
    "RelsimFunction",
    "discover",
    "make_model",
    "policies",
    "run_experiments",
    "sample_scenarios",
]

#: Columns EMA adds to the experiments table that are not parameters.
_BOOKKEEPING = ("scenario", "policy", "model")


class RelsimFunction:
    """``f(**params) -> {outcome: value}`` for one scenario; picklable for EMA's workers."""

    def __init__(
        self,
        scenario: Scenario,
        replicates: int = DEFAULT_REPLICATES,
        seed: int | None = None,
        outcomes: Outcomes | None = None,
        names: Sequence[str] | None = None,
    ) -> None:
        self.scenario = scenario
        self.replicates = int(replicates)
        self.seed = scenario.run.seed if seed is None else int(seed)
        self.outcomes = outcomes or Outcomes()
        self.names = list(names) if names is not None else None

    def __call__(self, **params: Any) -> dict[str, float]:
        out = experiment(params, self.scenario, self.seed, self.replicates, self.outcomes)
        return out if self.names is None else {k: out[k] for k in self.names}


def _parameter(name: str, spec: Any):
    from ema_workbench import CategoricalParameter, RealParameter

    if isinstance(spec, (list, tuple)) and spec and all(isinstance(v, str) for v in spec):
        return CategoricalParameter(name, list(spec))
    if isinstance(spec, (list, tuple)) and len(spec) == 2:
        low, high = float(spec[0]), float(spec[1])
        if not low < high:
            raise ArgumentError(name, f"low must be below high (got {low}, {high})")
        return RealParameter(name, low, high)
    raise ArgumentError(name, f"expected (low, high) or a list of names (got {spec!r})")


def make_model(
    scenario: Scenario | str | Path,
    uncertainties: Mapping[str, Any],
    levers: Mapping[str, Any] | None = None,
    outcomes: Sequence[str] | None = None,
    replicates: int = DEFAULT_REPLICATES,
    seed: int | None = None,
    spec: Outcomes | None = None,
    name: str | None = None,
):
    """An EMA Workbench ``Model`` running ``scenario`` with the given parameters.

    ``uncertainties`` and ``levers`` map dotted paths to ``(low, high)`` or to
    a list of values (``{"policy.name": ["passive", "balancing"]}``).
    ``outcomes`` are outcome names (default: all of them).
    """
    from ema_workbench import Model, ScalarOutcome

    sc = as_scenario(scenario)
    spec = spec or Outcomes()
    spec.check(sc)
    available = outcome_names(sc, spec)
    names = list(outcomes) if outcomes is not None else available
    unknown = [n for n in names if n not in available]
    if unknown:
        raise ArgumentError(
            "outcomes", f"unknown outcome(s) {unknown}; known: {', '.join(available)}"
        )
    clash = set(uncertainties) & set(levers or {})
    if clash:
        raise ArgumentError("levers", f"{sorted(clash)} are uncertainties and levers at once")
    label = name or re.sub(r"[^A-Za-z0-9]", "", sc.name) or "relsim"
    model = Model(label, function=RelsimFunction(sc, replicates, seed, spec, names))
    model.uncertainties = [_parameter(k, v) for k, v in uncertainties.items()]
    if levers:
        model.levers = [_parameter(k, v) for k, v in levers.items()]
    model.outcomes = [ScalarOutcome(n) for n in names]
    return model


def _latin(params: list, n: int, seed: int) -> list[dict]:
    """``n`` points of a seeded Latin hypercube over EMA parameters (categories by stratum)."""
    from ema_workbench import CategoricalParameter
    from scipy.stats import qmc

    unit = qmc.LatinHypercube(d=len(params), seed=np.random.default_rng(seed)).random(n)
    rows = []
    for u in unit:
        values = {}
        for p, x in zip(params, u):
            if isinstance(p, CategoricalParameter):
                names = [c.value for c in p.categories]
                values[p.name] = names[min(int(x * len(names)), len(names) - 1)]
            else:
                values[p.name] = float(p.lower_bound + x * (p.upper_bound - p.lower_bound))
        rows.append(values)
    return rows


def sample_scenarios(model, n: int, seed: int = 0) -> list:
    """``n`` EMA scenarios from a Latin hypercube over the model's uncertainties, seeded.

    EMA's own samplers draw from numpy's global random state; this one does not.
    """
    from ema_workbench import Scenario as EmaScenario

    return [
        EmaScenario(f"s{i}", **v) for i, v in enumerate(_latin(list(model.uncertainties), n, seed))
    ]


def policies(model, n: int | None = None, seed: int = 0) -> list:
    """EMA policies over the model's levers.

    Every combination of the levers when all are categorical (``n`` not
    given); otherwise ``n`` points of a seeded Latin hypercube.
    """
    from ema_workbench import CategoricalParameter, Policy

    levers = list(model.levers)
    if n is None:
        if not all(isinstance(p, CategoricalParameter) for p in levers):
            raise ArgumentError(
                "levers", "give the number of policies to sample for real-valued levers"
            )
        combos = itertools.product(*[[c.value for c in p.categories] for p in levers])
        rows = [dict(zip([p.name for p in levers], combo)) for combo in combos]
    else:
        rows = _latin(levers, n, seed)
    return [
        Policy("-".join(str(v) for v in row.values()) if n is None else f"p{i}", **row)
        for i, row in enumerate(rows)
    ]


def run_experiments(
    model, scenarios: int | list = 100, policies: int | list = 0, seed: int = 0, workers: int = 1
) -> tuple[pd.DataFrame, dict[str, np.ndarray]]:
    """EMA's ``perform_experiments`` on ``model``: a seeded design, here or in ``workers``.

    ``policies`` is a number of lever points (sampled by EMA) or a list of
    EMA ``Policy`` objects. Returns EMA's ``(experiments, outcomes)``.
    """
    from ema_workbench import MultiprocessingEvaluator, SequentialEvaluator, perform_experiments

    design = sample_scenarios(model, scenarios, seed) if isinstance(scenarios, int) else scenarios
    evaluator = (
        SequentialEvaluator(model)
        if workers <= 1
        else MultiprocessingEvaluator(model, n_processes=workers)
    )
    with evaluator, one_blas_thread():
        return perform_experiments(model, scenarios=design, policies=policies, evaluator=evaluator)


@dataclass
class Discovery:
    """The outcome of a PRIM search: the experiments, which are of interest, and the box."""

    experiments: pd.DataFrame
    outcomes: dict[str, np.ndarray]
    of_interest: np.ndarray
    prim: Any
    box: Any

    @property
    def limits(self) -> pd.DataFrame:
        """The restricted dimensions of the box: ``min, max, qp_lower, qp_upper`` per parameter.

        ``qp_*`` are PRIM's quasi-p-values of each restriction (small: the
        restriction is unlikely to be chance; NaN: that side is not
        restricted). For a categorical parameter ``min`` holds the set of
        values kept and ``max`` is empty.
        """
        box = self.box
        lims = box.box_lims[box._cur_box]
        rows = {}
        for name, qp in dict(box.qp[box._cur_box]).items():
            low, high = lims[name].iloc[0], lims[name].iloc[1]
            qp = [np.nan if q is None or q < 0 else float(q) for q in qp]
            if isinstance(low, set):
                rows[name] = {
                    "min": sorted(low),
                    "max": None,
                    "qp_lower": qp[0],
                    "qp_upper": qp[-1],
                }
            else:
                rows[name] = {
                    "min": float(low),
                    "max": float(high),
                    "qp_lower": qp[0],
                    "qp_upper": qp[-1],
                }
        frame = pd.DataFrame.from_dict(
            rows, orient="index", columns=["min", "max", "qp_lower", "qp_upper"]
        )
        frame.index.name = "parameter"
        return frame

    def summary(self) -> dict[str, float]:
        """Coverage, density, mass and restricted dimensions of the chosen box."""
        box = self.box
        return {
            "coverage": float(box.coverage),
            "density": float(box.density),
            "mass": float(box.mass),
            "restricted": int(box.res_dim),
            "cases_of_interest": int(self.of_interest.sum()),
            "experiments": len(self.of_interest),
        }


def discover(
    experiments: pd.DataFrame,
    outcomes: Mapping[str, np.ndarray],
    outcome: str,
    threshold: float,
    below: bool = True,
    density: float = 0.8,
    peel_alpha: float = 0.05,
    significance: float | None = 0.05,
) -> Discovery:
    """PRIM: the region of the parameters where ``outcome`` is below (or above) ``threshold``.

    ``density`` is PRIM's threshold: the box is the last one on the peeling
    trajectory whose share of cases of interest is at least that much. Then
    every restriction whose quasi-p-values all exceed ``significance`` (a
    restriction PRIM could have made by chance, as on a dummy parameter) is
    dropped from the box; ``None`` keeps them.
    """
    from ema_workbench.analysis import prim

    y = np.asarray(outcomes[outcome])
    hits = y < threshold if below else y > threshold
    if not hits.any() or hits.all():
        side = "below" if below else "above"
        raise ArgumentError(
            "threshold",
            f"{'no' if not hits.any() else 'every'} {outcome} is {side} "
            f"{threshold}: choose another threshold (range {y.min():.3g}..{y.max():.3g})",
        )
    x = experiments.drop(columns=[c for c in _BOOKKEEPING if c in experiments.columns])
    x = x.loc[:, x.nunique() > 1]
    finder = prim.Prim(x, hits, threshold=density, peel_alpha=peel_alpha)
    box = finder.find_box()
    if box.res_dim == 0:
        best = prim.Prim(x, hits, threshold=1e-9, peel_alpha=peel_alpha).find_box()
        reach = float(best.peeling_trajectory["density"].max())
        raise ArgumentError(
            "density",
            f"PRIM found no box with density >= {density}: the densest box "
            f"on the peeling trajectory reaches {reach:.2f} "
            f"(cases of interest: {hits.mean():.0%}); "
            "lower the density or choose another threshold",
        )
    if significance is not None:
        for name, qp in dict(box.qp[box._cur_box]).items():
            values = [v for v in qp if v is not None and v >= 0 and not np.isnan(v)]
            if values and min(values) > significance:
                box.drop_restriction(name)
    return Discovery(experiments, dict(outcomes), hits, finder, box)
