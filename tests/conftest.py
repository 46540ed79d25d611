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


# End-to-end tests that take seconds each: a browser, the notebooks, the type checker, a
# built wheel, a Dask cluster, EMA Workbench, a whole evaluation. CI runs them all
# (`python -m pytest -q`); `python -m pytest -q -m "not slow"` is the quick loop.
SLOW_TESTS = (
    "test_notebooks.py::test_notebook_runs",
    "test_lint.py::test_mypy_finds_nothing",
    "test_ensemble.py::test_dask_gives_the_same_result",
    "test_explore.py::test_dask_gives_the_same_numbers",
    "test_explore.py::test_ema_adapter_runs_experiments_and_prim",
    "test_evaluate.py::test_the_command_writes_the_contracted_files",
    "test_evaluate.py::test_on_a_random_walk_persistence_wins",
    "test_suite.py::test_the_slow_marker",  # collects the suite twice in subprocesses
)
SLOW_FIXTURES = {"page"}  # the classroom page in a headless browser


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if any(name in item.nodeid for name in SLOW_TESTS) or fixtures & SLOW_FIXTURES:
            item.add_marker(pytest.mark.slow)
