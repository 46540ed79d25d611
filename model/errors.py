"""The exception hierarchy: every error the package raises on purpose.

`ScenarioError` is bad input (a file, a field, a problem); the CLI turns it
into a one-line message `FILE: field: problem` and exit status 2.
"""

from __future__ import annotations

__all__ = ["ModelError", "ScenarioError", "SimulationError"]


class ModelError(Exception):
    """Root of all errors raised by the package."""


class ScenarioError(ModelError):
    """Bad input: a scenario or data file that cannot be used as it is."""

    def __init__(self, file: str, field: str, problem: str) -> None:
        self.file = str(file)
        self.field = field or "(file)"
        self.problem = problem
        super().__init__(f"{self.file}: {self.field}: {self.problem}")

    def __reduce__(self):
        # rebuilt from its three parts, so it crosses process boundaries intact
        return type(self), (self.file, self.field, self.problem)


class SimulationError(ModelError):
    """A run that cannot proceed (e.g. unstable dynamics)."""
