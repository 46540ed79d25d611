"""Pictures that set runs side by side: scenarios overlaid, paired differences, policies.

:func:`plot_overlay` and :func:`plot_differences` draw a
:class:`~model.compare.Comparison`'s results and differences;
:func:`plot_policy_grid` and :func:`plot_tradeoff` a
:class:`~model.compare.PolicyComparison`'s results and outcome metrics.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .style import PALETTE, STYLE, color, pyplot

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = ["plot_differences", "plot_overlay", "plot_policy_grid", "plot_tradeoff"]


def plot_overlay(
    results: dict, indicators: list[str] | None = None, fig: Figure | None = None
) -> Figure:
    """Several scenarios on one chart per index: medians, with the 50% band of each."""
    plt = pyplot()
    with plt.rc_context(STYLE):
        first = next(iter(results.values()))
        names = indicators or first.indicators
        fig = fig or plt.figure(figsize=(13, 2.6 * len(names) + 1.5))
        axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
        styles = ["-", "--", "-.", ":"]
        palette = PALETTE
        for j, (label, res) in enumerate(results.items()):
            for ax, name in zip(axes, names):
                q = res.quantiles[res.quantiles["indicator"] == name]
                c = palette[j % len(palette)]
                ax.fill_between(q["date"], q["q25"], q["q75"], color=c, alpha=0.12, lw=0)
                ax.plot(q["date"], q["q50"], color=c, ls=styles[j % len(styles)], lw=2, label=label)
        for ax, name in zip(axes, names):
            ax.set_ylim(0, 100)
            ax.set_ylabel(name)
            ax.grid(True, axis="y", alpha=0.3)
        axes[0].legend(loc="upper left", ncol=min(len(results), 4), fontsize=11, frameon=False)
        fig.suptitle("Scenarios compared: medians and 50% bands", fontsize=15)
        fig.tight_layout()
    return fig


def plot_differences(
    differences: pd.DataFrame,
    indicators: list[str] | None = None,
    fig: Figure | None = None,
    reference: str | None = None,
) -> Figure:
    """Paired differences from the reference scenario: mean and 90% band, per index.

    The title and the legend name the scenario compared with: ``reference``, or the one
    :func:`model.compare.compare` recorded in ``differences.attrs["reference"]``.
    """
    plt = pyplot()
    reference = reference or differences.attrs.get("reference") or "the reference scenario"
    with plt.rc_context(STYLE):
        names = indicators or list(dict.fromkeys(differences["indicator"]))
        fig = fig or plt.figure(figsize=(13, 2.4 * len(names) + 1.5))
        axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
        palette = PALETTE[1:]
        for j, (scenario, d) in enumerate(differences.groupby("scenario", sort=False)):
            c = palette[j % len(palette)]
            for ax, name in zip(axes, names):
                q = d[d["indicator"] == name]
                ax.fill_between(q["date"], q["q05"], q["q95"], color=c, alpha=0.18, lw=0)
                ax.plot(q["date"], q["mean"], color=c, lw=2, label=f"{scenario} − {reference}")
        for ax, name in zip(axes, names):
            ax.axhline(0, color="0.3", lw=0.8)
            ax.set_ylabel(f"Δ {name}")
            ax.grid(True, axis="y", alpha=0.3)
        axes[0].legend(loc="upper left", fontsize=11, frameon=False)
        fig.suptitle(
            f"Difference from {reference} (paired replicates): mean and 90% band", fontsize=14
        )
        fig.tight_layout()
    return fig


def plot_policy_grid(
    results: dict,
    indicators: list[str] | None = None,
    since: str | None = None,
    fig: Figure | None = None,
) -> Figure:
    """Small multiples: one column per policy, one row per index (median and bands)."""
    plt = pyplot()
    with plt.rc_context(STYLE):
        first = next(iter(results.values()))
        names = indicators or first.indicators
        fig = fig or plt.figure(figsize=(3.6 * len(results) + 1, 2.2 * len(names) + 1.2))
        axes = fig.subplots(len(names), len(results), sharex=True, sharey=True, squeeze=False)
        for col, (policy, res) in enumerate(results.items()):
            for row, name in enumerate(names):
                ax = axes[row, col]
                q = res.quantiles[res.quantiles["indicator"] == name]
                if since:
                    q = q[q["date"] >= since]
                c = color(name, row)
                ax.fill_between(q["date"], q["q05"], q["q95"], color=c, alpha=0.15, lw=0)
                ax.fill_between(q["date"], q["q25"], q["q75"], color=c, alpha=0.3, lw=0)
                ax.plot(q["date"], q["q50"], color=c, lw=1.8)
                ax.set_ylim(0, 100)
                ax.grid(True, axis="y", alpha=0.3)
                if row == 0:
                    ax.set_title(policy, fontweight="bold")
                if col == 0:
                    ax.set_ylabel(name)
        import matplotlib.dates as mdates

        axes[-1, 0].xaxis.set_major_locator(mdates.YearLocator(3))
        axes[-1, 0].xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
        fig.suptitle(
            "Policies compared (same random numbers): median, 50% and 90% bands", fontsize=14
        )
        fig.tight_layout()
    return fig


def plot_tradeoff(metrics: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Average cooperation with Russia against alignment with the West, one point per policy.

    Bars span the 5–95% range across replicates.
    """
    plt = pyplot()
    with plt.rc_context(STYLE):
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 6.5))
        m = metrics[metrics["metric"] == "mean"].set_index(["policy", "indicator"])
        palette = PALETTE
        for j, policy in enumerate(dict.fromkeys(metrics["policy"])):
            x, y = m.loc[(policy, "russia")], m.loc[(policy, "west")]
            ax.errorbar(
                x["mean"],
                y["mean"],
                xerr=[[x["mean"] - x["q05"]], [x["q95"] - x["mean"]]],
                yerr=[[y["mean"] - y["q05"]], [y["q95"] - y["mean"]]],
                fmt="o",
                ms=9,
                capsize=4,
                color=palette[j % len(palette)],
                label=policy,
            )
            ax.annotate(
                policy,
                (x["mean"], y["mean"]),
                xytext=(8, 6),
                textcoords="offset points",
                fontsize=12,
            )
        ax.set_xlabel("cooperation with Russia (mean of trade, energy, security)")
        ax.set_ylabel("alignment with the West")
        ax.grid(True, alpha=0.3)
        ax.set_title("The balancing trade-off (mean over the period, 90% range)")
    return ax
