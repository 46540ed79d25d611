"""The limits of a scenario: how big a file, how deep its tables, how large its numbers.

A scenario file is input from anywhere, so every bound that keeps loading and
running finite lives here, with the reason (``docs/SCENARIOS.md``, "Limits"):

- a file is at most :data:`MAX_BYTES` long, refused before it is read whole;
- tables and arrays nest at most :data:`MAX_DEPTH` levels (a dotted key counts
  one level per part), so loading never runs out of stack, and a key is at
  most :data:`MAX_KEY` characters, so a message naming it stays readable;
- every number is finite and within ``±``:data:`MAX_NUMBER`, apart from the
  counts with their own bounds (:data:`MAX_REPLICATES`, :data:`MAX_SEED`, a
  follow-up's ``days``), so no sum or product of them overflows;
- a hazard's rate is at most :data:`MAX_RATE` a year where it is highest, so a
  run draws a bounded number of incidents;
- a half-life is at least :data:`MIN_HALF_LIFE` and a noise ``sigma`` at most
  :data:`MAX_SIGMA`, for every value a distribution can draw, so the exact
  transitions stay finite.

:func:`walk_problem` finds the first value that breaks the depth or number
rules, as a location and a one-line problem.
"""

from __future__ import annotations

import math
from typing import Any

__all__ = [
    "MAX_BYTES",
    "MAX_DEPTH",
    "MAX_GRID_STEPS",
    "MAX_KEY",
    "MAX_NUMBER",
    "MAX_POINTS",
    "MAX_RATE",
    "MAX_REPLICATES",
    "MAX_SEED",
    "MAX_SIGMA",
    "MIN_HALF_LIFE",
    "depth_problem",
    "number_problem",
    "walk_problem",
]

#: The largest scenario file, in bytes (the shipped ones are under 10 kB).
MAX_BYTES = 4 * 1024 * 1024
#: The deepest nesting of tables and arrays (the schema needs 7).
MAX_DEPTH = 16
#: The longest key, in characters (the longest event id of the catalog has 37).
MAX_KEY = 100
#: The largest magnitude of any number in a scenario (index points, rates, factors, ...).
MAX_NUMBER = 1e6
#: The highest hazard rate, per year, at the level where incidents are likeliest.
MAX_RATE = 365.0
#: The shortest half-life, in years: one day, the engine's step (a draw included).
MIN_HALF_LIFE = 1 / 365.25
#: The largest latent noise ``sigma`` per square root of a year (a draw included).
MAX_SIGMA = 10.0
#: The most replicates of a run (the schema's and the command line's).
MAX_REPLICATES = 100_000_000
#: The largest seed: a signed 64-bit integer, the largest integer TOML can hold.
MAX_SEED = 2**63 - 1
#: The most steps of one ``--grid`` axis.
MAX_GRID_STEPS = 1000
#: The most parameter points of a ``--lhs`` sweep or ``--samples`` of a sensitivity analysis.
MAX_POINTS = 1_000_000

#: Integer keys with their own bounds in the schema, left out of the ``MAX_NUMBER`` rule.
_COUNTS = frozenset({"replicates", "seed", "days"})


def number_problem(key: object, value: object) -> str | None:
    """Why ``value`` (at key ``key``) is not an acceptable number, or None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    if isinstance(value, float) and not math.isfinite(value):
        return f"must be a finite number (got {value})"
    if isinstance(value, int) and key in _COUNTS:
        return None
    if abs(value) > MAX_NUMBER:
        return f"must be between -{MAX_NUMBER:,.0f} and {MAX_NUMBER:,.0f} (got {value!r})"
    return None


def _long_key(table: dict) -> str | None:
    """The problem of the first key of ``table`` longer than :data:`MAX_KEY`, or None."""
    for key in table:
        if isinstance(key, str) and len(key) > MAX_KEY:
            return (
                f"the key {key[:20]!r}... is {len(key):,} characters long; "
                f"a key is at most {MAX_KEY}"
            )
    return None


def depth_problem() -> str:
    """The one-line problem of a value nested deeper than :data:`MAX_DEPTH`."""
    return (
        f"tables and arrays nest more than {MAX_DEPTH} levels deep here "
        "(each part of a dotted key is a level); a scenario needs at most 7"
    )


def walk_problem(data: Any, numbers: bool = True) -> tuple[tuple, str] | None:
    """The first value of ``data`` nested too deep or (with ``numbers``) with a bad number:
    ``(location, problem)``, or None. Iterative, so any depth is safe to walk."""
    stack: list[tuple[tuple, Any]] = [((), data)]
    while stack:
        loc, value = stack.pop()
        if isinstance(value, dict | list):
            if len(loc) >= MAX_DEPTH:
                return loc, depth_problem()
            if isinstance(value, dict) and (long := _long_key(value)):
                return loc, long
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((loc + (k,), v) for k, v in reversed(list(items)))
        elif numbers and (problem := number_problem(loc[-1] if loc else None, value)):
            return loc, problem
    return None
