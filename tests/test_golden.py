"""Golden outputs: reference runs pinned bit for bit.

The cases (``tests/golden/cases.py``) run the public API on shipped scenarios
with small replicate counts and fixed seeds: three scenario runs (quantiles,
events, summary), the policies comparison, a paired comparison, a
calibration, a hindcast, a Morris sensitivity run, a sweep, an attribution
and the classroom page's runs. Their tables are compared with the pinned CSV
files as text, every float written with 17 significant digits, so any change
in any bit of any number fails. A refactor must leave them all unchanged; a
change meant to move the numbers re-pins them (``python -m tests.golden.cases``)
and says why in its commit.
"""

from __future__ import annotations

import difflib

import pytest

from .golden.cases import CASES, GOLDEN, as_text


@pytest.mark.parametrize("name", list(CASES))
def test_golden_outputs_are_unchanged(name):
    tables = CASES[name]()
    pinned = sorted(p.name for p in GOLDEN.glob(f"{name}__*.csv"))
    assert sorted(f"{name}__{t}.csv" for t in tables) == pinned
    for table, frame in tables.items():
        want = (GOLDEN / f"{name}__{table}.csv").read_text()
        got = as_text(frame)
        if got != want:
            diff = "".join(
                list(
                    difflib.unified_diff(
                        want.splitlines(True), got.splitlines(True), "pinned", "now", n=0
                    )
                )[:20]
            )
            pytest.fail(f"{name}/{table} differs from the pinned output:\n{diff}")
