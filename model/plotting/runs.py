"""Pictures of one run: the indices over time, fan charts, and the events that moved them most.

Every function takes a :class:`~model.results.Result` (and optionally the Axes
or Figure to draw on) and returns what it drew on, so figures compose in
notebooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .style import STYLE, color, lines, pyplot, short

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..results import Result

__all__ = ["key_events", "plot_fan", "plot_fans", "plot_index", "plot_trajectories"]


def key_events(result: Result, n: int = 12) -> pd.DataFrame:
    """The ``n`` events with the largest total effect: ``date, event, title``."""
    ev = result.events
    ev = ev[ev["replicate"].isna() & (ev["kind"] != "shift-end")]
    if ev.empty:
        return pd.DataFrame(columns=["date", "event", "title", "weight"])
    weight = (
        ev.assign(weight=(ev["delta"].abs() * ev["replicates"]))
        .groupby(["event", "title"], as_index=False)
        .agg(date=("date", "min"), weight=("weight", "sum"))
    )
    start = result.dates.min()
    weight = weight[weight["date"] > start]
    return weight.nlargest(n, "weight").sort_values("date", ignore_index=True)


def plot_index(
    result: Result,
    indicator: str,
    ax: Axes | None = None,
    bands: bool = True,
    events: pd.DataFrame | None = None,
    label: str | None = None,
    i: int = 0,
) -> Axes:
    """One index: the median (or the single path) with 50% and 90% bands."""
    plt = pyplot()
    if ax is None:
        _, ax = plt.subplots(figsize=(11, 4))
    q = result.quantiles[result.quantiles["indicator"] == indicator]
    c = color(indicator, i)
    several = result.metadata.get("replicates", 1) > 1
    if bands and several:
        named = label is None
        ax.fill_between(
            q["date"],
            q["q05"],
            q["q95"],
            color=c,
            alpha=0.15,
            lw=0,
            label="90% band" if named else "_nolegend_",
        )
        ax.fill_between(
            q["date"],
            q["q25"],
            q["q75"],
            color=c,
            alpha=0.3,
            lw=0,
            label="50% band" if named else "_nolegend_",
        )
    ax.plot(
        q["date"],
        q["q50"],
        color=c,
        lw=2.2,
        label=label or (f"{indicator} (median)" if several else indicator),
    )
    ax.set_ylim(0, 100)
    ax.set_ylabel(indicator)
    ax.grid(True, axis="y", alpha=0.3)
    for d in [] if events is None else events["date"]:
        ax.axvline(d, color="0.35", lw=0.8, ls=":", zorder=0)
    return ax


def plot_trajectories(
    result: Result,
    indicators: list[str] | None = None,
    n_events: int = 12,
    fig: Figure | None = None,
) -> Figure:
    """All indices stacked, sharing time, with the key events marked and labelled."""
    plt = pyplot()
    with plt.rc_context(STYLE):
        return _trajectories(plt, result, indicators or result.indicators, n_events, fig)


def _trajectories(plt, result, names, n_events, fig):
    if fig is None:
        fig = plt.figure(figsize=(13, 2.6 * len(names) + 2.6))
    axes = fig.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
    keys = key_events(result, n_events)
    for i, (ax, name) in enumerate(zip(axes, names)):
        plot_index(result, name, ax=ax, events=keys, i=i)
        ax.text(
            0.005,
            0.9,
            name,
            transform=ax.transAxes,
            fontsize=14,
            fontweight="bold",
            color=color(name, i),
            va="top",
        )
    _label_events(axes[0], keys)
    reps = result.metadata.get("replicates", 1)
    what = (
        f"median, 50% and 90% bands of {reps} replicates"
        if reps > 1
        else "single deterministic path"
    )
    fig.suptitle(
        f"{result.metadata.get('scenario', '')}: cooperation indices (0–100), {what}",
        fontsize=15,
        y=0.995,
    )
    fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig


def _label_events(ax: Axes, keys: pd.DataFrame) -> None:
    """Numbered markers above the top panel (staggered) and a key above them."""
    for j, row in enumerate(keys.itertuples(), start=1):
        ax.annotate(
            str(j),
            xy=(row.date, 100),
            xytext=(0, 3 + 12 * ((j - 1) % 3)),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=10,
            fontweight="bold",
            annotation_clip=False,
        )
    if len(keys):
        entries = [
            f"{j}: {row.date:%Y-%m} {short(row.title)}"
            for j, row in enumerate(keys.itertuples(), 1)
        ]
        ax.set_title(lines(entries, 3), fontsize=10, loc="left", pad=44, family="monospace")


def plot_fan(
    result: Result,
    indicator: str,
    ax: Axes | None = None,
    spaghetti: int = 0,
    n_events: int = 8,
    i: int = 0,
) -> Axes:
    """Fan chart of one index: median, 50% and 90% bands, key events numbered.

    ``spaghetti`` adds that many individual replicate paths (the first ones).
    """
    plt = pyplot()
    with plt.rc_context(STYLE):
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
            ax.annotate(
                str(j),
                xy=(row.date, 100),
                xytext=(0, 2 + 11 * ((j - 1) % 2)),
                textcoords="offset points",
                ha="center",
                va="bottom",
                fontsize=9,
                annotation_clip=False,
            )
        ax.set_title(indicator, loc="left", fontweight="bold", color=color(indicator, i), pad=24)
        ax.legend(loc="lower left", fontsize=10, frameon=False, ncol=3)
    return ax


def plot_fans(
    result: Result,
    indicators: list[str] | None = None,
    spaghetti: int = 5,
    n_events: int = 8,
    fig: Figure | None = None,
) -> Figure:
    """A fan chart per index in a grid, with a shared key of the numbered events."""
    plt = pyplot()
    names = indicators or result.indicators
    with plt.rc_context(STYLE):
        cols = 2 if len(names) > 1 else 1
        rows = -(-len(names) // cols)
        fig = fig or plt.figure(figsize=(15, 4.6 * rows + 1.6))
        axes = fig.subplots(rows, cols, squeeze=False, sharex=True).ravel()
        for i, (ax, name) in enumerate(zip(axes, names)):
            plot_fan(result, name, ax=ax, spaghetti=spaghetti, n_events=n_events, i=i)
        for ax in axes[len(names) :]:
            ax.set_visible(False)
        keys = key_events(result, n_events)
        entries = [
            f"{j}: {row.date:%Y-%m} {short(row.title)}"
            for j, row in enumerate(keys.itertuples(), 1)
        ]
        reps = result.metadata.get("replicates", 1)
        title = (
            f"{result.metadata.get('scenario', '')}: median, 50% and 90% bands of {reps} replicates"
            + (f", {spaghetti} sample paths" if spaghetti else "")
        )
        fig.suptitle(
            title + ("\n" + lines(entries, 2) if entries else ""),
            fontsize=11,
            family="monospace",
            y=1.0,
        )
        fig.tight_layout(rect=(0, 0, 1, 0.97))
    return fig
