"""Every command ends with a short summary of what it found, and the summary agrees with the
tables it wrote."""

from __future__ import annotations

import pandas as pd
import pytest

from model.cli import main
from model.cli.summaries import sensitivity_lines

from .conftest import SCENARIOS

BASELINE = str(SCENARIOS / "baseline.toml")
NO_S400 = str(SCENARIOS / "no-s400.toml")
STRESS = str(SCENARIOS / "stress.toml")


def _rows(lines: list[str], first: str) -> dict[str, list[str]]:
    """The table that starts at the line beginning with ``first``: {first cell: cells}."""
    start = next(i for i, line in enumerate(lines) if line.split()[:1] == [first])
    rows = {}
    for line in lines[start + 1 :]:
        cells = line.replace("[", "").replace("]", "").replace(",", "").split()
        if not cells or line.startswith(("wrote", "the ")) or line.endswith(":"):
            break
        rows[cells[0]] = cells[1:]
    return rows


def test_run_ends_with_each_index_outcomes(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["run", BASELINE, "--replicates", "20", "--no-plots", "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("wrote ")
    assert "baseline: 20 replicates, 2000-01-01..2035-12-31, seed 20151124" in lines
    rows = _rows(lines, "index")
    summary = pd.read_csv(out / "summary.csv").set_index(["indicator", "metric"])
    assert list(rows) == ["trade", "energy", "security", "west"]
    for name, cells in rows.items():
        expect = [
            summary.loc[(name, "mean"), "mean"],
            summary.loc[(name, "min"), "q50"],
            summary.loc[(name, "final"), "q50"],
            summary.loc[(name, "final"), "q05"],
            summary.loc[(name, "final"), "q95"],
        ]
        assert [float(c) for c in cells[:5]] == pytest.approx(expect, abs=0.051)
        assert float(cells[5]) == pytest.approx(
            summary.loc[(name, "years_in_crisis"), "mean"], abs=0.006
        )
    assert float(rows["security"][5]) > 0  # the 2015-16 trough


def test_compare_ends_with_the_largest_differences_and_their_dates(tmp_path, capsys):
    out = tmp_path / "cmp"
    argv = ["compare", BASELINE, NO_S400, "--replicates", "20", "--no-plots", "--out", str(out)]
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "no-s400 minus baseline, the largest mean difference of each index:" in lines
    rows = _rows(lines, "index")
    d = pd.read_csv(out / "differences.csv")
    for name, cells in rows.items():
        di = d[d["indicator"] == name]
        top = di.loc[di["mean"].abs().idxmax()]
        assert float(cells[0]) == pytest.approx(top["mean"], abs=0.051)
        on = di.loc[di["date"].str[:10] == cells[1], "mean"].abs().iloc[0]
        assert on == pytest.approx(abs(top["mean"]), abs=1e-4)  # the CSV rounds to 4 places
        first = di.loc[di["mean"].abs() > 0.05, "date"].iloc[0][:10]
        assert cells[-1] == first
    assert next(iter(rows)) == "west"  # largest first: the S-400 affair is about the West
    assert rows["west"][-1] >= "2017-09-12"  # nothing differs before the contract


def test_policies_end_with_the_table_of_strategies(tmp_path, capsys):
    out = tmp_path / "pol"
    argv = ["policies", STRESS, "--replicates", "8", "--no-plots", "--workers", "1"]
    assert main([*argv, "--out", str(out)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "stress, 2026-2035: mean over replicates of the mean level of each index" in lines
    rows = _rows(lines, "policy")
    m = pd.read_csv(out / "policies.csv").set_index(["policy", "indicator", "metric"])["mean"]
    assert list(rows) == ["passive", "balancing", "west_first", "russia_pivot"]
    indices = ["trade", "energy", "security", "west"]
    for policy, cells in rows.items():
        expect = [m[(policy, i, "mean")] for i in [*indices, "russia"]]
        expect.append(m[(policy, "west", "worst")])
        expect.append(sum(m[(policy, i, "years_in_crisis")] for i in indices))
        expect.append(sum(m[(policy, i, "crises")] for i in indices))
        assert [float(c) for c in cells] == pytest.approx(expect, abs=0.051)
    assert float(rows["west_first"][3]) > float(rows["russia_pivot"][3])


def test_sensitivity_ends_with_the_most_influential_parameters(tmp_path, capsys):
    argv = [
        "sensitivity", BASELINE, "--samples", "4", "--replicates", "1", "--no-plots",
        "--params", "indices.trade.half_life=1:3", "spillover.trade.security=0:0.16", "dummy",
        "--outcomes", "mean_trade_2026_2035,trade_2030", "--out", str(tmp_path / "s"),
    ]  # fmt: skip
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    idx = pd.read_csv(tmp_path / "s" / "indices.csv")
    for outcome in ("mean_trade_2026_2035", "trade_2030"):
        line = next(x for x in lines if x.strip().startswith(outcome + ":"))
        order = idx[idx["outcome"] == outcome].sort_values("ST", ascending=False, kind="stable")
        names = [w for w in line.split() if w in set(order["parameter"])]
        assert names == list(order["parameter"])
        assert names[-1] == "dummy"


def test_sensitivity_says_when_an_outcome_does_not_vary():
    idx = pd.DataFrame(
        {
            "outcome": ["a", "a", "b", "b"],
            "parameter": ["x", "y", "x", "y"],
            "mu_star": [2.0, 5.0, float("nan"), float("nan")],
            "mu_star_conf": [0.1, 0.2, float("nan"), float("nan")],
        }
    )
    lines = sensitivity_lines(idx, "morris")
    assert lines[1] == "  a: y 5 ±0.2, x 2 ±0.1"
    assert lines[2] == "  b: does not vary over the points (no index)"


def test_sweep_ends_with_the_range_of_each_outcome(tmp_path, capsys):
    argv = [
        "sweep", BASELINE, "--grid", "spillover.trade.security=0:0.16:3", "--replicates", "2",
        "--outcomes", "mean_trade_2026_2035,trade_2030", "--no-plots", "--out", str(tmp_path / "w"),
    ]  # fmt: skip
    assert main(argv) == 0
    lines = capsys.readouterr().out.splitlines()
    table = pd.read_csv(tmp_path / "w" / "sweep.csv")
    assert "over 3 points of spillover.trade.security:" in lines
    for outcome in ("mean_trade_2026_2035", "trade_2030"):
        lo, hi = table[outcome].min(), table[outcome].max()
        at_lo = table.loc[table[outcome].idxmin(), "spillover.trade.security"]
        line = next(x for x in lines if x.strip().startswith(outcome + ":"))
        assert f"from {lo:.2f} (spillover.trade.security={at_lo:.4g})" in line
        assert line.endswith(f"a range of {hi - lo:.2f}")
