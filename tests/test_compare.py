"""Paired comparison with common random numbers."""

from __future__ import annotations

import pandas as pd
import pytest

import model
from model.cli import main
from model.compare import compare

from .conftest import SCENARIOS


@pytest.fixture(scope="module")
def su24():
    scs = [model.load_scenario(SCENARIOS / f) for f in ("baseline.toml", "no-su24-downing.toml")]
    return compare(scs, replicates=30)


def test_difference_is_exactly_zero_before_the_downing(su24):
    d = su24.differences
    before = d[d["date"] < "2015-11-24"]
    assert len(before) > 0
    assert (before[["mean", "q05", "q25", "q50", "q75", "q95"]] == 0).all().all()


def test_without_the_downing_trade_and_security_are_higher_in_2016(su24):
    d = su24.differences
    y2016 = d[d["date"].dt.year == 2016].groupby("indicator")[["mean", "q05"]].mean()
    assert y2016.loc["trade", "mean"] > 8 and y2016.loc["trade", "q05"] > 0
    assert y2016.loc["security", "mean"] > 8 and y2016.loc["security", "q05"] > 0


def test_metrics_cover_each_scenario_indicator_and_metric(su24):
    m = su24.metrics
    assert set(m["scenario"]) == {"baseline", "no-su24-downing"}
    assert {"min", "years_in_crisis", "recovery_years", "mean_2026_2035"} <= set(m["metric"])
    assert not m.duplicated(["scenario", "indicator", "metric"]).any()
    base = m[(m["scenario"] == "baseline") & (m["metric"] == "min")].set_index("indicator")["mean"]
    cf = m[(m["scenario"] == "no-su24-downing") & (m["metric"] == "min")].set_index("indicator")[
        "mean"
    ]
    assert cf["security"] > base["security"]


def test_compare_refuses_a_single_scenario():
    with pytest.raises(model.ArgumentError, match="at least two"):
        compare([model.load_scenario(SCENARIOS / "baseline.toml")])


def test_cli_compare_writes_tables_and_plots(tmp_path):
    out = tmp_path / "cmp"
    args = [
        "compare",
        str(SCENARIOS / "baseline.toml"),
        str(SCENARIOS / "no-coup-attempt.toml"),
        "--out",
        str(out),
        "--replicates",
        "10",
    ]
    assert main(args) == 0
    for name in (
        "differences.csv",
        "metrics.csv",
        "quantiles.csv",
        "overlay.png",
        "differences.png",
    ):
        assert (out / name).stat().st_size > 0
    d = pd.read_csv(out / "differences.csv")
    assert set(d["scenario"]) == {"no-coup-attempt"}
    assert main(["compare", str(SCENARIOS / "baseline.toml")]) == 2
