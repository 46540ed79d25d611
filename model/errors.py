"""The exception hierarchy: every error the package raises on purpose, and
the one helper that suggests what was meant.

- :class:`ScenarioError`: bad input in a file (a scenario, a data file): the
  file, the field and the problem. The command line prints it as one line
  ``FILE: field: problem`` and exits with status 2.
- :class:`ArgumentError`: a bad value given to a library function (a
  parameter name, a year, a method): the argument and the problem. The
  command line names the flag that set the argument when it prints it.
- :class:`SimulationError`: a run that cannot proceed (unstable dynamics).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable

__all__ = ["ArgumentError", "ModelError", "ScenarioError", "SimulationError", "did_you_mean"]


class ModelError(Exception):
    """Root of all errors raised by the package."""


class ScenarioError(ModelError):
    """Bad input: a scenario or data file that cannot be used as it is."""

    def __init__(self, file: str | os.PathLike[str], field: str, problem: str) -> None:
        self.file = _one_line(str(file))
        self.field = _one_line(field) or "(file)"
        self.problem = _one_line(problem)
        super().__init__(f"{self.file}: {self.field}: {self.problem}")

    def __reduce__(self) -> tuple:
        # rebuilt from its three parts, so it crosses process boundaries intact
        return type(self), (self.file, self.field, self.problem)


def _one_line(text: str) -> str:
    """``text`` with its line breaks written as ``\\n``: a message is always one line."""
    return text.replace("\r", "\\r").replace("\n", "\\n")


class ArgumentError(ModelError):
    """A bad argument of a library function: ``argument`` names it, ``problem`` says why."""

    def __init__(self, argument: str, problem: str) -> None:
        self.argument = argument
        self.problem = problem
        super().__init__(f"{argument}: {problem}")

    def __reduce__(self) -> tuple:
        return type(self), (self.argument, self.problem)


class SimulationError(ModelError):
    """A run that cannot proceed (e.g. unstable dynamics)."""


def did_you_mean(word: object, choices: Iterable[str], n: int = 3, cutoff: float = 0.6) -> str:
    """``" (did you mean 'a' or 'b'?)"`` for the closest of ``choices``, or ``""``."""
    close = difflib.get_close_matches(str(word), list(choices), n=n, cutoff=cutoff)
    return f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
