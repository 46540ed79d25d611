"""Scenarios: the schema (:mod:`.schema`), loading with ``extends`` (:mod:`.loading`), the
checks across fields (:mod:`.checks`), what goes with a drop (:mod:`.cascade`) and the causal
clusters of a timeline (:mod:`.factors`).

A scenario is a TOML file (see ``docs/SCENARIOS.md``); :func:`load_scenario`
reads a file, or a shipped scenario by name, into a frozen, validated
:class:`Scenario`. Every problem becomes a :class:`~model.errors.ScenarioError`
naming the file that holds the bad value, the field and what is wrong.
"""

from .cascade import Removed, Resolution
from .factors import Factor, catalog_factors
from .loading import (
    SHIPPED,
    find_scenario,
    load_scenario,
    read_shipped,
    scenario_from_dict,
    shipped_scenarios,
)
from .schema import EventsControl, Hazard, IndexSpec, PolicyRule, PolicySpec, RunSettings, Scenario

__all__ = [
    "SHIPPED",
    "EventsControl",
    "Factor",
    "Hazard",
    "IndexSpec",
    "PolicyRule",
    "PolicySpec",
    "Removed",
    "Resolution",
    "RunSettings",
    "Scenario",
    "catalog_factors",
    "find_scenario",
    "load_scenario",
    "read_shipped",
    "scenario_from_dict",
    "shipped_scenarios",
]
