"""Pictures of results: the only module that imports matplotlib.

Every function takes a :class:`~model.results.Result` (and optionally the Axes
to draw on) and returns what it drew on, so figures compose in notebooks.
Sizes and fonts are chosen to stay readable on a projector and in print.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from .results import Result

__all__ = [
    "COLORS",
    "key_events",
    "plot_differences",
    "plot_fan",
    "plot_fans",
    "plot_index",
    "plot_overlay",
    "plot_policy_grid",
    "plot_tradeoff",
    "plot_trajectories",
    "save_figure",
]

#: One colour per index (colour-blind safe, distinct in greyscale print).
COLORS = {"trade": "#0072B2", "energy": "#E69F00", "security": "#D55E00", "west": "#009E73"}
_FALLBACK = ["#CC79A7", "#56B4E9", "#F0E442", "#000000"]


_STYLE = {"font.size": 13, "axes.titlesize": 15, "axes.labelsize": 13}


def _pyplot():
    """pyplot, imported on first use (headless machines fall back to Agg)."""
    import matplotlib.pyplot as plt

    return plt


def color(indicator: str, i: int = 0) -> str:
    return COLORS.get(indicator, _FALLBACK[i % len(_FALLBACK)])


def key_events(result: Result, n: int = 12) -> pd.DataFrame:
    """The ``n`` events with the largest total effect: ``date, event, title``."""
    ev = result.events
    ev = ev[ev["replicate"].isna() & (ev["kind"] != "shift-end")]
    if ev.empty:
        return pd.DataFrame(columns=["date", "event", "title", "weight"])
    weight = ev.assign(weight=(ev["delta"].abs() * ev["replicates"])).groupby(
        ["event", "title"], as_index=False).agg(date=("date", "min"), weight=("weight", "sum"))
    start = result.dates.min()
    weight = weight[weight["date"] > start]
    return weight.nlargest(n, "weight").sort_values("date", ignore_index=True)


def plot_index(result: Result, indicator: str, ax: Axes | None = None, bands: bool = True,
               events: pd.DataFrame | None = None, label: str | None = None, i: int = 0) -> Axes:
    """One index: the median (or the single path) with 50% and 90% bands."""
    plt = _pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 4))
    q = result.quantiles[result.quantiles["indicator"] == indicator]
    c = color(indicator, i)
    several = result.metadata.get("replicates", 1) > 1
    if bands and several:
        named = label is None
        ax.fill_between(q["date"], q["q05"], q["q95"], color=c, alpha=0.15, lw=0,
                        label="90% band" if named else "_nolegend_")
        ax.fill_between(q["date"], q["q25"], q["q75"], color=c, alpha=0.3, lw=0,
                        label="50% band" if named else "_nolegend_")
    ax.plot(q["date"], q["q50"], color=c, lw=2.2, label=label or (f"{indicator} (median)" if several else indicator))
    ax.set_ylim(0, 100)
    ax.set_ylabel(indicator)
    ax.grid(True, axis="y", alpha=0.3)
    for d in ([] if events is None else events["date"]):
        ax.axvline(d, color="0.35", lw=0.8, ls=":", zorder=0)
    return ax


def plot_trajectories(result: Result, indicators: list[str] | None = None, n_events: int = 12,
                      fig: Figure | None = None) -> Figure:
    """All indices stacked, sharing time, with the key events marked and labelled."""
    plt = _pyplot()
    with plt.rc_context(_STYLE):
        return _trajectories(plt, result, indicators or result.indicators, n_events, fig)


def _trajectories(plt, result, names, n_events, fig):
    if fig is None:
        fig = plt.figure(figsize=(13, 2.6 * len(names) + 2.6))
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    keys = key_events(result, n_events)
    for i, (ax, name) in enumerate(zip(axes, names)):
        plot_index(result, name, ax=ax, events=keys, i=i)
        ax.text(0.005, 0.9, name, transform=ax.transAxes, fontsize=14, fontweight="bold",
                color=color(name, i), va="top")
    _label_events(axes[0], keys)
    reps = result.metadata.get("replicates", 1)
    what = f"median, 50% and 90% bands of {reps} replicates" if reps > 1 else "single deterministic path"
    fig.suptitle(f"{result.metadata.get('scenario', '')}: cooperation indices (0–100), {what}",
                 fontsize=15, y=0.995)
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def _label_events(ax: Axes, keys: pd.DataFrame) -> None:
    """Numbered markers above the top panel (staggered) and a key above them."""
    for j, row in enumerate(keys.itertuples(), start=1):
        ax.annotate(str(j), xy=(row.date, 100), xytext=(0, 3 + 12 * ((j - 1) % 3)),
                    textcoords="offset points", ha="center", va="bottom", fontsize=10,
                    fontweight="bold", annotation_clip=False)
    if len(keys):
        entries = [f"{j}: {row.date:%Y-%m} {_short(row.title)}" for j, row in enumerate(keys.itertuples(), 1)]
        ax.set_title(_lines(entries, 3), fontsize=10, loc="left", pad=44, family="monospace")


def _short(title: str, n: int = 40) -> str:
    return title if len(title) <= n else title[: n - 1].rstrip() + "…"


def _lines(entries: list[str], per_line: int) -> str:
    """Entries in aligned columns, never split across lines."""
    width = max(len(e) for e in entries)
    rows = [entries[i:i + per_line] for i in range(0, len(entries), per_line)]
    return "\n".join("  ".join(e.ljust(width) for e in row).rstrip() for row in rows)


def save_figure(fig: Figure, path) -> None:
    """Save at print resolution and free the figure."""
    plt = _pyplot()
    fig.savefig(path, dpi=130, bbox_inches="tight")
    plt.close(fig)


def plot_overlay(results: dict, indicators: list[str] | None = None, fig: Figure | None = None) -> Figure:
    """Several scenarios on one chart per index: medians, with the 50% band of each."""
    plt = _pyplot()
    with plt.rc_context(_STYLE):
        first = next(iter(results.values()))
        names = indicators or first.indicators
        fig = fig or plt.figure(figsize=(13, 2.6 * len(names) + 1.5))
        axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
        styles = ["-", "--", "-.", ":"]
        palette = ["#000000", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
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


def plot_differences(differences: pd.DataFrame, indicators: list[str] | None = None,
                     fig: Figure | None = None) -> Figure:
    """Paired differences from the reference scenario: mean and 90% band, per index."""
    plt = _pyplot()
    with plt.rc_context(_STYLE):
        names = indicators or list(dict.fromkeys(differences["indicator"]))
        fig = fig or plt.figure(figsize=(13, 2.4 * len(names) + 1.5))
        axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
        palette = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
        for j, (scenario, d) in enumerate(differences.groupby("scenario", sort=False)):
            c = palette[j % len(palette)]
            for ax, name in zip(axes, names):
                q = d[d["indicator"] == name]
                ax.fill_between(q["date"], q["q05"], q["q95"], color=c, alpha=0.18, lw=0)
                ax.plot(q["date"], q["mean"], color=c, lw=2, label=scenario)
        for ax, name in zip(axes, names):
            ax.axhline(0, color="0.3", lw=0.8)
            ax.set_ylabel(f"Δ {name}")
            ax.grid(True, axis="y", alpha=0.3)
        axes[0].legend(loc="upper left", fontsize=11, frameon=False)
        fig.suptitle("Difference from the reference scenario (paired replicates): mean and 90% band",
                     fontsize=14)
        fig.tight_layout()
    return fig


def plot_fan(result: Result, indicator: str, ax: Axes | None = None, spaghetti: int = 0,
             n_events: int = 8, i: int = 0) -> Axes:
    """Fan chart of one index: median, 50% and 90% bands, key events numbered.

    ``spaghetti`` adds that many individual replicate paths (the first ones).
    """
    plt = _pyplot()
    with plt.rc_context(_STYLE):
        if ax is None:
            _, ax = plt.subplots(figsize=(11, 4.5))
        keys = key_events(result, n_events)
        plot_index(result, indicator, ax=ax, events=keys, i=i)
        sample = result.sample if result.sample is not None else result.paths
        if spaghetti and sample is not None:
            k = result.indicators.index(indicator)
            for path in sample[:spaghetti, :, k]:
                ax.plot(result.dates, path, color=color(indicator, i), lw=0.6, alpha=0.55)
        for j, row in enumerate(keys.itertuples(), start=1):
            ax.annotate(str(j), xy=(row.date, 100), xytext=(0, 2 + 11 * ((j - 1) % 2)),
                        textcoords="offset points", ha="center", va="bottom", fontsize=9,
                        annotation_clip=False)
        ax.set_title(indicator, loc="left", fontweight="bold", color=color(indicator, i), pad=24)
        ax.legend(loc="lower left", fontsize=10, frameon=False, ncol=3)
    return ax


def plot_fans(result: Result, indicators: list[str] | None = None, spaghetti: int = 5,
              n_events: int = 8, fig: Figure | None = None) -> Figure:
    """A fan chart per index in a grid, with a shared key of the numbered events."""
    plt = _pyplot()
    names = indicators or result.indicators
    with plt.rc_context(_STYLE):
        cols = 2 if len(names) > 1 else 1
        rows = -(-len(names) // cols)
        fig = fig or plt.figure(figsize=(15, 4.6 * rows + 1.6))
        axes = fig.subplots(rows, cols, squeeze=False, sharex=True).ravel()
        for i, (ax, name) in enumerate(zip(axes, names)):
            plot_fan(result, name, ax=ax, spaghetti=spaghetti, n_events=n_events, i=i)
        for ax in axes[len(names):]:
            ax.set_visible(False)
        keys = key_events(result, n_events)
        entries = [f"{j}: {row.date:%Y-%m} {_short(row.title)}" for j, row in enumerate(keys.itertuples(), 1)]
        reps = result.metadata.get("replicates", 1)
        title = (f"{result.metadata.get('scenario', '')}: median, 50% and 90% bands of {reps} replicates"
                 + (f", {spaghetti} sample paths" if spaghetti else ""))
        fig.suptitle(title + ("\n" + _lines(entries, 2) if entries else ""), fontsize=11,
                     family="monospace", y=1.0)
        fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def plot_policy_grid(results: dict, indicators: list[str] | None = None, since: str | None = None,
                     fig: Figure | None = None) -> Figure:
    """Small multiples: one column per policy, one row per index (median and bands)."""
    plt = _pyplot()
    with plt.rc_context(_STYLE):
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
        fig.suptitle("Policies compared (same random numbers): median, 50% and 90% bands", fontsize=14)
        fig.tight_layout()
    return fig


def plot_tradeoff(metrics: pd.DataFrame, ax: Axes | None = None) -> Axes:
    """Average cooperation with Russia against alignment with the West, one point per policy.

    Bars span the 5–95% range across replicates.
    """
    plt = _pyplot()
    with plt.rc_context(_STYLE):
        if ax is None:
            _, ax = plt.subplots(figsize=(8, 6.5))
        m = metrics[metrics["metric"] == "mean"].set_index(["policy", "indicator"])
        palette = ["#000000", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00"]
        for j, policy in enumerate(dict.fromkeys(metrics["policy"])):
            x, y = m.loc[(policy, "russia")], m.loc[(policy, "west")]
            ax.errorbar(x["mean"], y["mean"], xerr=[[x["mean"] - x["q05"]], [x["q95"] - x["mean"]]],
                        yerr=[[y["mean"] - y["q05"]], [y["q95"] - y["mean"]]], fmt="o", ms=9, capsize=4,
                        color=palette[j % len(palette)], label=policy)
            ax.annotate(policy, (x["mean"], y["mean"]), xytext=(8, 6), textcoords="offset points", fontsize=12)
        ax.set_xlabel("cooperation with Russia (mean of trade, energy, security)")
        ax.set_ylabel("alignment with the West")
        ax.grid(True, alpha=0.3)
        ax.set_title("The balancing trade-off (mean over the period, 90% range)")
    return ax
