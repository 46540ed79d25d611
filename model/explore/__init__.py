"""Exploratory analysis: the model as a function, sensitivity, sweeps, event attribution.

- :mod:`.outcomes`: :func:`experiment`, a plain function from named
  parameters (:mod:`model.params`) to named scalar outcomes;
- :mod:`.points`: many parameter points, here, in workers or on Dask;
- :mod:`.sensitivity`: Sobol and Morris indices with SALib;
- :mod:`.sweep`: grids and Latin hypercube samples;
- :mod:`.attribution`: what each event contributed to each index at a date;
- :mod:`.ema`: an adapter to EMA Workbench (scenario discovery with PRIM),
  the ``ema`` extra.

Every point runs the same replicates with the same seed (common random
numbers), so the analyses see the parameters' effects, not the noise's. The
pictures are in :mod:`model.plotting.explore`.
"""

from ..params import DUMMY, apply, parse_grid, parse_range
from .attribution import MAX_SHAPLEY, Attribution, attribute, without_events
from .outcomes import DEFAULT_REPLICATES, Outcomes, experiment, outcome_names, replicate_outcomes
from .points import evaluate
from .sensitivity import DEFAULT_PARAMS, Sensitivity, sensitivity
from .sweep import Sweep, latin_hypercube, sweep

__all__ = [
    "DEFAULT_PARAMS",
    "DEFAULT_REPLICATES",
    "DUMMY",
    "MAX_SHAPLEY",
    "Attribution",
    "Outcomes",
    "Sensitivity",
    "Sweep",
    "apply",
    "attribute",
    "evaluate",
    "experiment",
    "latin_hypercube",
    "outcome_names",
    "parse_grid",
    "parse_range",
    "replicate_outcomes",
    "sensitivity",
    "sweep",
    "without_events",
]
