"""Pictures of the exploratory analyses: sensitivity indices, sweeps, event contributions.

:func:`plot_sensitivity` takes a :class:`~model.explore.Sensitivity`,
:func:`plot_sweep` a :class:`~model.explore.Sweep` and :func:`plot_waterfall`
an :class:`~model.explore.Attribution`; each returns its Figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from .style import MIN_FONT, grid, pyplot, readable

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd
    from matplotlib.figure import Figure

    from ..explore import Attribution, Sensitivity, Sweep

__all__ = ["plot_sensitivity", "plot_sweep", "plot_waterfall"]


@readable
def plot_sensitivity(result: Sensitivity, outcomes: Sequence[str] | None = None) -> Figure:
    """Horizontal bars per outcome (largest at the top), with confidence intervals."""
    plt = pyplot()
    names = list(outcomes or result.outcomes)[:6]
    fig, axes = grid(plt, len(names), height=0.45 * result.problem["num_vars"] + 1.6)
    for ax, name in zip(axes, names):
        t = result.indices[result.indices["outcome"] == name]
        t = _sobol_bars(ax, t) if result.method == "sobol" else _morris_bars(ax, t)
        ax.set_yticks(np.arange(len(t)), t["parameter"], fontsize=MIN_FONT)
        ax.axvline(0, color="0.3", lw=0.8)
        ax.set_title(name, fontsize=11)
    axes[0].legend(fontsize=MIN_FONT, loc="lower right")
    fig.suptitle(
        f"{result.metadata.get('scenario', '')}: {result.method} sensitivity "
        f"({len(result.samples)} runs)",
        fontsize=12,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def _sobol_bars(ax, t: pd.DataFrame) -> pd.DataFrame:
    """Total and first-order Sobol indices of one outcome; its rows in the order drawn."""
    t = t.sort_values("ST")
    y = np.arange(len(t))
    ax.barh(
        y + 0.2,
        t["ST"],
        0.4,
        xerr=t["ST_conf"],
        color="#0072B2",
        label="total (ST)",
        capsize=2,
    )
    ax.barh(
        y - 0.2,
        t["S1"],
        0.4,
        xerr=t["S1_conf"],
        color="#E69F00",
        label="first order (S1)",
        capsize=2,
    )
    ax.set_xlabel("Sobol index (share of variance)")
    return t


def _morris_bars(ax, t: pd.DataFrame) -> pd.DataFrame:
    """Morris μ* of one outcome with its interval; its rows in the order drawn."""
    t = t.sort_values("mu_star")
    y = np.arange(len(t))
    ax.barh(y, t["mu_star"], 0.6, xerr=t["mu_star_conf"], color="#0072B2", label="μ*", capsize=2)
    ax.set_xlabel("μ* (mean |elementary effect|, outcome units)")
    return t


@readable
def plot_sweep(result: Sweep, outcomes: Sequence[str] | None = None) -> Figure:
    """One parameter: lines with a 95% band; two: heat maps; a hypercube: scatter panels."""
    plt = pyplot()
    names = list(outcomes or result.outcomes)[:6]
    if result.kind == "grid" and len(result.parameters) == 1:
        fig = _sweep_lines(plt, result, names)
    elif result.kind == "grid":
        fig = _sweep_maps(plt, result, names)
    else:
        fig = _sweep_scatter(plt, result, names[:4])
    fig.suptitle(
        f"{result.metadata.get('scenario', '')}: {result.kind} sweep ({len(result.table)} points)",
        fontsize=12,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def _sweep_lines(plt, result: Sweep, names: list[str]) -> Figure:
    """A one-parameter grid: each outcome against the parameter, with a 95% band."""
    t = result.table
    p = result.parameters[0]
    fig, axes = grid(plt, len(names))
    for ax, name in zip(axes, names):
        ax.plot(t[p], t[name], marker="o", color="#0072B2")
        ax.fill_between(
            t[p],
            t[name] - 1.96 * t["se_" + name],
            t[name] + 1.96 * t["se_" + name],
            color="#0072B2",
            alpha=0.2,
            lw=0,
        )
        ax.set_xlabel(p)
        ax.set_title(name, fontsize=11)
    return fig


def _sweep_maps(plt, result: Sweep, names: list[str]) -> Figure:
    """A two-parameter grid: a heat map of each outcome."""
    t = result.table
    p, q = result.parameters
    fig, axes = grid(plt, len(names))
    for ax, name in zip(axes, names):
        table = t.pivot(index=q, columns=p, values=name)
        mesh = ax.pcolormesh(
            table.columns, table.index, table.to_numpy(), shading="nearest", cmap="viridis"
        )
        fig.colorbar(mesh, ax=ax)
        ax.set_xlabel(p)
        ax.set_ylabel(q)
        ax.set_title(name, fontsize=11)
    return fig


def _sweep_scatter(plt, result: Sweep, names: list[str]) -> Figure:
    """A hypercube: each outcome (rows) against each of the first six parameters (columns)."""
    t = result.table
    params = result.parameters[:6]
    fig, grid_axes = plt.subplots(
        len(names),
        len(params),
        figsize=(2.8 * len(params), 2.4 * len(names)),
        squeeze=False,
        sharey="row",
    )
    for i, name in enumerate(names):
        for j, p in enumerate(params):
            ax = grid_axes[i, j]
            ax.scatter(t[p], t[name], s=6, color="#0072B2", alpha=0.6)
            if i == len(names) - 1:
                ax.set_xlabel(p, fontsize=MIN_FONT)
            if j == 0:
                ax.set_ylabel(name, fontsize=MIN_FONT)
    return fig


@readable
def plot_waterfall(result: Attribution, top: int = 8) -> Figure:
    """Per index: the level without the chosen events, each cluster's or event's step, the
    level with them.

    The ``top`` clusters or events with the largest mean contribution to an index are
    drawn one by one (in date order); the others are one bar, and so are the
    interactions (leave-one-out). Whiskers span the 5–95% band over replicates.
    """
    plt = pyplot()
    names = list(result.levels["indicator"].unique())
    fig, axes = grid(plt, len(names), width=6.4, height=4.2)
    for ax, name in zip(axes, names):
        _waterfall(ax, result, name, top)
    factors = result.metadata.get("analysis", {}).get("factors", {})
    what = "cluster and event" if any(len(m) > 1 for m in factors.values()) else "event"
    fig.suptitle(
        f"{result.metadata.get('scenario', '')}: {what} contributions at {result.at} "
        f"({'leave-one-out' if result.method == 'loo' else 'Shapley values'})",
        fontsize=12,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def _waterfall(ax, result: Attribution, name: str, top: int) -> None:
    lv = result.levels[result.levels["indicator"] == name].set_index("run")["mean"]
    c = result.contributions[result.contributions["indicator"] == name]
    events = c[~c["event"].str.startswith("(")]
    big = events.reindex(events["mean"].abs().sort_values(ascending=False).index)[:top].sort_values(
        "date"
    )
    steps = [(r.event, r.mean, r.mean - r.q05, r.q95 - r.mean) for r in big.itertuples()]
    rest = events.drop(big.index)
    if len(rest):
        steps.append((f"{len(rest)} others", rest["mean"].sum(), 0.0, 0.0))
    inter = c[c["event"] == "(interactions)"]
    if len(inter):
        r = inter.iloc[0]
        steps.append(("interactions", r["mean"], r["mean"] - r["q05"], r["q95"] - r["mean"]))
    start, end = lv.iloc[1], lv.iloc[0]
    labels = [f"without the {len(events)}"] + [s[0] for s in steps] + ["with all"]
    ax.bar(0, start, color="0.6")
    level = start
    for i, (label, d, lo, hi) in enumerate(steps, start=1):
        ax.bar(
            i,
            d,
            bottom=level,
            color="#009E73" if d >= 0 else "#D55E00",
            yerr=[[max(lo, 0)], [max(hi, 0)]],
            capsize=2,
            ecolor="0.2",
        )
        level += d
    ax.bar(len(steps) + 1, end, color="0.3")
    levels = [start, end, *(start + np.cumsum([s[1] for s in steps]))]
    ax.set_ylim(max(0, min(levels) - 10), max(levels) + 5)  # no bar cut at the top
    ax.set_xticks(
        range(len(labels)), [_short(x) for x in labels], rotation=60, ha="right", fontsize=MIN_FONT
    )
    ax.set_ylabel("index points")
    ax.set_title(name, fontsize=11)


def _short(text: str, n: int = 40) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"
