"""The few lines each command prints after its work: what the run found, not only where it
wrote. Each function takes the command's tables (pandas DataFrames, already computed) and
returns lines; nothing here imports pandas itself, so the command line starts light."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

__all__ = [
    "compare_lines",
    "policy_lines",
    "run_lines",
    "sensitivity_lines",
    "sweep_lines",
]


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    """Columns padded to their widest cell: the first left-aligned, the others right."""
    cells = [list(header), *[list(r) for r in rows]]
    widths = [max(len(row[i]) for row in cells) for i in range(len(header))]
    return [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths))
        ).rstrip()
        for row in cells
    ]


def run_lines(result: Any, scenario: Any) -> list[str]:
    """Per index: the mean level, the lowest (median over replicates), the level at the end
    with its 90% band, and the mean years in crisis."""
    meta, run = result.metadata, scenario.run
    s = result.summary.set_index(["indicator", "metric"])
    rows = []
    for name in result.summary["indicator"].unique():
        final = s.loc[(name, "final")]
        rows.append(
            [
                name,
                f"{s.loc[(name, 'mean'), 'mean']:.1f}",
                f"{s.loc[(name, 'min'), 'q50']:.1f}",
                f"{final['q50']:.1f} [{final['q05']:.1f}, {final['q95']:.1f}]",
                f"{s.loc[(name, 'years_in_crisis'), 'mean']:.2f}",
                f"{scenario.indices[name].crisis:g}",
            ]
        )
    head = (
        f"{scenario.name}: {meta['replicates']} replicates, {run.start}..{run.end}, "
        f"seed {meta['seed']}"
    )
    header = [
        "index",
        "mean level",
        "lowest (median)",
        f"on {_date(result.quantiles['date'].max())} (median, 90% band)",
        "years in crisis",
        "crisis below",
    ]
    return [head, *_table(header, rows)]


def compare_lines(differences: Any, reference: str) -> list[str]:
    """Per scenario and index: where the mean paired difference from the reference is
    largest, with its 90% band, and when the two first differ."""
    lines = []
    for name, d in differences.groupby("scenario", sort=False):
        rows = []
        for index, di in d.groupby("indicator", sort=False):
            size = di["mean"].abs()
            top = di.loc[size.idxmax()]
            moved = di.loc[size > 0.05, "date"]
            rows.append(
                [
                    index,
                    f"{top['mean']:+.1f}",
                    _date(top["date"]),
                    f"[{top['q05']:+.1f}, {top['q95']:+.1f}]",
                    _date(moved.iloc[0]) if len(moved) else "never",
                ]
            )
        rows.sort(key=lambda r: -abs(float(r[1])))
        lines.append(f"{name} minus {reference}, the largest mean difference of each index:")
        header = ["index", "difference", "on", "90% band", "first differs"]
        lines += ["  " + line for line in _table(header, rows)]
    return lines


def _date(value: Any) -> str:
    return str(value)[:10]


def policy_lines(metrics: Any, period: tuple[int, int], scenario: str) -> list[str]:
    """One row per policy: the mean level of each index (and of the three Russian ones),
    the worst Western alignment and the years in crisis, summed over the indices."""
    m = metrics.set_index(["policy", "indicator", "metric"])["mean"]
    indices = [i for i in metrics["indicator"].unique() if i != "russia"]
    shown = indices + (["russia"] if "russia" in set(metrics["indicator"]) else [])
    rows = []
    for policy in metrics["policy"].unique():
        row = [policy] + [f"{m[(policy, i, 'mean')]:.1f}" for i in shown]
        row.append(f"{m[(policy, 'west', 'worst')]:.1f}" if "west" in indices else "")
        row.append(f"{sum(m[(policy, i, 'years_in_crisis')] for i in indices):.2f}")
        row.append(f"{sum(m[(policy, i, 'crises')] for i in indices):.2f}")
        rows.append(row)
    header = ["policy", *shown, "worst west", "years in crisis", "crises"]
    first, last = period
    head = f"{scenario}, {first}-{last}: mean over replicates of the mean level of each index"
    return [head, *_table(header, rows)]


def sensitivity_lines(indices: Any, method: str, top: int = 3) -> list[str]:
    """Per outcome: the ``top`` parameters (or groups) by total-order index (Sobol) or by
    mean absolute elementary effect (Morris), with their confidence half-widths."""
    key = "ST" if method == "sobol" else "mu_star"
    lines = [f"the most influential parameters ({key}, with the half-width of its interval):"]
    for outcome, d in indices.groupby("outcome", sort=False):
        if d[key].isna().all():
            lines.append(f"  {outcome}: does not vary over the points (no index)")
            continue
        best = d.sort_values(key, ascending=False, kind="stable").head(top)
        items = [
            f"{r['parameter']} {r[key]:.3g} ±{r[key + '_conf']:.2g}" for _, r in best.iterrows()
        ]
        lines.append(f"  {outcome}: " + ", ".join(items))
    return lines


def sweep_lines(table: Any, parameters: Sequence[str], outcomes: Sequence[str]) -> list[str]:
    """Per outcome: its lowest and highest value over the points, and where they lie."""
    lines = [f"over {len(table)} points of {', '.join(parameters)}:"]
    for outcome in outcomes:
        low, high = table[outcome].idxmin(), table[outcome].idxmax()

        def at(i: Any) -> str:
            return ", ".join(f"{p}={table.at[i, p]:.4g}" for p in parameters)

        lo, hi = table.at[low, outcome], table.at[high, outcome]
        lines.append(
            f"  {outcome}: from {lo:.2f} ({at(low)}) to {hi:.2f} ({at(high)}), "
            f"a range of {hi - lo:.2f}"
        )
    return lines
