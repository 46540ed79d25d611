"""relsim: a scenario and ensemble model of Türkiye–Russia relations.

Cooperation indices (0–100) for trade, energy and security between Türkiye and
Russia, and Türkiye's alignment with the West, move with the events of the
historical record and relax toward a structural baseline between them.

>>> import model
>>> sc = model.load_scenario("baseline")      # a shipped scenario, or a path   # doctest: +SKIP
>>> res = model.simulate(sc, replicates=50)                                      # doctest: +SKIP
>>> res.quantiles.head()                                                         # doctest: +SKIP

The names below are imported on first use, and the pictures in :mod:`model.plotting`
too, so ``import model`` never imports pandas, SciPy or matplotlib by itself.
"""

import sys
import types
from typing import TYPE_CHECKING

from ._version import __version__
from .errors import ArgumentError, ModelError, ScenarioError, SimulationError

#: Where each public name lives. They are imported on first use, so that ``import model``
#: (and with it ``relsim --help`` and ``relsim validate``) stays light: no pandas, SciPy,
#: matplotlib or SALib until a name that needs them is used.
_LAZY = {
    "Effect": "catalog",
    "Event": "catalog",
    "load_catalog": "catalog",
    "compare_policies": "compare",
    "Dist": "distributions",
    "simulate": "ensemble",
    "experiment": "explore",
    "outcome_names": "explore",
    "Result": "results",
    "Scenario": "scenario",
    "load_scenario": "scenario",
    "scenario_from_dict": "scenario",
    "shipped_scenarios": "scenario",
}

if TYPE_CHECKING:
    from .catalog import Effect, Event, load_catalog
    from .compare import compare, compare_policies
    from .distributions import Dist
    from .ensemble import simulate
    from .explore import experiment, outcome_names
    from .results import Result
    from .scenario import Scenario, load_scenario, scenario_from_dict, shipped_scenarios


def __getattr__(name: str) -> object:
    """A public name, or a room of the package (``model.plotting``), imported on first use."""
    import importlib

    if name in _LAZY:
        value = getattr(importlib.import_module("." + _LAZY[name], __name__), name)
        globals()[name] = value
        return value
    if not name.startswith("_"):  # a room of the package (model.plotting, model.scenario, ...)
        try:
            return importlib.import_module("." + name, __name__)
        except ModuleNotFoundError as exc:
            if exc.name != f"{__name__}.{name}":
                raise
    raise AttributeError(f"module 'model' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY) | {"plotting"})


class _Package(types.ModuleType):
    """The package, whose ``compare`` stays the function once the module of that name is
    imported (the import system sets the submodule as an attribute of its package)."""

    @property
    def compare(self) -> object:
        from .compare import compare

        return compare

    @compare.setter
    def compare(self, value: object) -> None:
        pass


sys.modules[__name__].__class__ = _Package


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
