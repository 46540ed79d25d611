"""Conditions on the state: ``"security < 25 and west > 40"``.

A condition is comparisons of an index with a number, joined by ``and``. It
is read once (:func:`parse_condition`) and tested on the levels of every
replicate at once (:func:`holds`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import numpy as np

__all__ = ["OPS", "Comparison", "holds", "names", "parse_condition"]

#: A comparison: index name, operator, number.
Comparison = tuple[str, str, float]
OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}
_COMPARISON = re.compile(r"^\s*([A-Za-z_][\w-]*)\s*(<=|>=|<|>)\s*(-?\d+(?:\.\d+)?)\s*$")


def parse_condition(text: str) -> list[Comparison]:
    """``"security < 25 and west > 40"`` -> ``[("security", "<", 25.0), ...]``."""
    out = []
    for part in re.split(r"\s+and\s+", text.strip()):
        m = _COMPARISON.match(part)
        if not m:
            raise ValueError(
                f"cannot read condition {part!r}: write comparisons like 'security < 25', "
                "joined by 'and'"
            )
        out.append((m.group(1), m.group(2), float(m.group(3))))
    return out


def names(text: str) -> set[str]:
    """The indices a condition reads."""
    return {name for name, _, _ in parse_condition(text)}


def holds(
    levels: Mapping[str, np.ndarray], text: str, mask: np.ndarray | None = None
) -> np.ndarray:
    """Where the condition holds per replicate (``levels``: index -> levels), within ``mask``."""
    out = np.ones(len(next(iter(levels.values()))), bool) if mask is None else mask
    for name, op, value in parse_condition(text):
        out = out & OPS[op](levels[name], value)
    return out
