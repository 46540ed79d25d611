"""Shared fixtures: the shipped scenarios and small, fast runs of them."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

import model

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BAD = Path(__file__).resolve().parent / "data" / "bad_scenarios"

settings.register_profile(
    "ci", max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile(
    "dev", max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


@pytest.fixture(scope="session")
def baseline() -> model.Scenario:
    return model.load_scenario(SCENARIOS / "baseline.toml")


@pytest.fixture(scope="session")
def deterministic(baseline) -> model.Result:
    """The baseline replayed once without noise."""
    sc = baseline.model_copy(update={"run": baseline.run.model_copy(update={"noise": False})})
    return model.simulate(sc, replicates=1)


@pytest.fixture(scope="session")
def baseline_run(baseline) -> model.Result:
    return model.simulate(baseline, replicates=40)
