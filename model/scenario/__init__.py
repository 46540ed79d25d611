"""Scenarios: the schema (:mod:`.schema`), loading with ``extends`` (:mod:`.loading`) and the
checks across fields (:mod:`.checks`).

A scenario is a TOML file (see ``docs/SCENARIOS.md``); :func:`load_scenario`
reads a file, or a shipped scenario by name, into a frozen, validated
:class:`Scenario`. Every problem becomes a :class:`~model.errors.ScenarioError`
naming the file that holds the bad value, the field and what is wrong.
"""

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
    "Hazard",
    "IndexSpec",
    "PolicyRule",
    "PolicySpec",
    "RunSettings",
    "Scenario",
    "find_scenario",
    "load_scenario",
    "read_shipped",
    "scenario_from_dict",
    "shipped_scenarios",
]
