"""relsim: a scenario and ensemble model of Türkiye–Russia relations.

Cooperation indices (0–100) for trade, energy and security between Türkiye and
Russia, and Türkiye's alignment with the West, move with the events of the
historical record and relax toward a structural baseline between them.

>>> import model
>>> sc = model.load_scenario("baseline")      # a shipped scenario, or a path   # doctest: +SKIP
>>> res = model.simulate(sc, replicates=50)                                      # doctest: +SKIP
>>> res.quantiles.head()                                                         # doctest: +SKIP

The pictures are in :mod:`model.plotting` (imported on first use, so
``import model`` never imports matplotlib).
"""

from ._version import __version__
from .catalog import Effect, Event, load_catalog
from .compare import compare, compare_policies
from .distributions import Dist
from .ensemble import simulate
from .errors import ArgumentError, ModelError, ScenarioError, SimulationError
from .explore import experiment, outcome_names
from .results import Result
from .scenario import Scenario, load_scenario, scenario_from_dict, shipped_scenarios


def __getattr__(name: str) -> object:
    """``model.plotting`` on first use, so ``import model`` never imports matplotlib."""
    if name == "plotting":
        import importlib

        return importlib.import_module(".plotting", __name__)
    raise AttributeError(f"module 'model' has no attribute {name!r}")


__all__ = [
    "ArgumentError",
    "Dist",
    "Effect",
    "Event",
    "ModelError",
    "Result",
    "Scenario",
    "ScenarioError",
    "SimulationError",
    "__version__",
    "compare",
    "compare_policies",
    "experiment",
    "load_catalog",
    "load_scenario",
    "outcome_names",
    "scenario_from_dict",
    "shipped_scenarios",
    "simulate",
]
