"""The pinned reference runs of the golden-output test.

Each case is a small run through the public API that returns named tables.
``python -m tests.golden.cases`` (from the repository root) writes them into
``tests/golden/`` as CSV with every float at full precision (``%.17g``, which
reads back to the same bits); ``tests/test_golden.py`` runs the cases again
and compares. The pinned files change only when a model change is meant to
move the numbers, and that commit says so.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd

import model

ROOT = Path(__file__).resolve().parent.parent.parent
SCENARIOS = ROOT / "scenarios"
GOLDEN = Path(__file__).resolve().parent
FLOAT_FORMAT = "%.17g"


def _scenario(name: str) -> model.Scenario:
    return model.load_scenario(SCENARIOS / f"{name}.toml")


def _run(name: str, replicates: int, seed: int) -> dict[str, pd.DataFrame]:
    res = model.simulate(_scenario(name), replicates=replicates, seed=seed)
    return {"quantiles": res.quantiles, "events": res.events, "summary": res.summary}


def _policies() -> dict[str, pd.DataFrame]:
    cmp = model.compare_policies(_scenario("stress"), replicates=12, seed=3)
    return {"metrics": cmp.metrics}


def _compare() -> dict[str, pd.DataFrame]:
    cmp = model.compare([_scenario("baseline"), _scenario("no-s400")], replicates=10, seed=2)
    return {"differences": cmp.differences, "metrics": cmp.metrics}


def _calibration() -> dict[str, pd.DataFrame]:
    from model.calibrate import calibrate

    cal = calibrate(_scenario("baseline"))
    return {
        "estimates": cal.estimates,
        "measurement": cal.measurement,
        "noise": cal.noise,
        "residuals": cal.residuals,
    }


def _hindcast() -> dict[str, pd.DataFrame]:
    from model.calibrate import hindcast

    hc = hindcast(_scenario("baseline"), 2014, replicates=10, seed=1)
    return {"scores": hc.scores, "predictions": hc.predictions}


def _sensitivity() -> dict[str, pd.DataFrame]:
    from model.explore import sensitivity

    ranges = {"indices.trade.half_life": (1.0, 3.0), "spillover.trade.security": (0.0, 0.16)}
    sens = sensitivity(
        _scenario("baseline"),
        ranges,
        method="morris",
        samples=4,
        replicates=2,
        seed=5,
        num_resamples=50,
        outcomes=["mean_trade_2026_2035", "mean_west_2026_2035"],
    )
    return {"indices": sens.indices, "samples": sens.samples}


def _sweep() -> dict[str, pd.DataFrame]:
    from model.explore import sweep

    sw = sweep(
        _scenario("baseline"),
        {"indices.energy.half_life": [2.0, 4.0, 6.0]},
        replicates=2,
        seed=4,
        outcomes=["mean_energy_2026_2035"],
    )
    return {"table": sw.table}


def _attribution() -> dict[str, pd.DataFrame]:
    from model.explore import attribute

    att = attribute(
        _scenario("baseline"),
        "2020-01-01",
        events=["su24-downing-2015", "russian-sanctions-2015", "s400-delivery-2019"],
        replicates=8,
        seed=6,
    )
    return {"contributions": att.contributions, "levels": att.levels}


def _classroom() -> dict[str, pd.DataFrame]:
    from model.classroom import Settings, compute

    plain = compute(Settings(replicates=8))
    varied = compute(
        Settings(off=("su24-downing-2015",), policy="balancing", replicates=8, incidents=1.0)
    )
    return {
        "quantiles": plain.result.quantiles,
        "outcomes": plain.outcomes.reset_index(),
        "varied_quantiles": varied.result.quantiles,
        "varied_outcomes": varied.outcomes.reset_index(),
    }


CASES: dict[str, Callable[[], dict[str, pd.DataFrame]]] = {
    "baseline": lambda: _run("baseline", 20, 1),
    "stress": lambda: _run("stress", 30, 7),
    "no-su24-downing": lambda: _run("no-su24-downing", 10, 1),
    "policies": _policies,
    "compare": _compare,
    "calibration": _calibration,
    "hindcast": _hindcast,
    "sensitivity": _sensitivity,
    "sweep": _sweep,
    "attribution": _attribution,
    "classroom": _classroom,
}


def as_text(frame: pd.DataFrame) -> str:
    """A table as the pinned CSV text (full precision)."""
    return frame.to_csv(index=False, float_format=FLOAT_FORMAT, lineterminator="\n")


def write(names: list[str] | None = None) -> None:
    for name in names or list(CASES):
        for table, frame in CASES[name]().items():
            (GOLDEN / f"{name}__{table}.csv").write_text(as_text(frame))


if __name__ == "__main__":
    write(sys.argv[1:] or None)
