"""Pictures of one run: the indices over time, fan charts, and the events that moved them most.

Every function takes a :class:`~model.results.Result` (and optionally the Axes
or Figure to draw on) and returns what it drew on, so figures compose in
notebooks.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .style import (
    MIN_FONT,
    STYLE,
    color,
    event_key,
    key_height,
    numbers_above,
    pyplot,
    stagger,
)

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

    from ..results import Result

__all__ = [
    "N_KEY_EVENTS",
    "key_entries",
    "key_events",
    "number_events",
    "plot_fan",
    "plot_fans",
    "plot_index",
    "plot_trajectories",
]


#: How many key events the run's figures number (the same numbers in every figure of a run).
N_KEY_EVENTS = 10


def key_events(result: Result, n: int = N_KEY_EVENTS) -> pd.DataFrame:
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


def key_entries(keys: pd.DataFrame) -> list[str]:
    """The key of the numbered events: number, month and the full title."""
    return [f"{j}  {row.date:%Y-%m}  {row.title}" for j, row in enumerate(keys.itertuples(), 1)]


def number_events(ax: Axes, keys: pd.DataFrame, rows: int = 4) -> None:
    """The key events' numbers above ``ax``, staggered over ``rows`` heights so that
    neighbours never touch."""
    import matplotlib.dates as mdates

    x = mdates.date2num(pd.to_datetime(keys["date"]).to_numpy()) if len(keys) else []
    lo, hi = ax.get_xlim()
    # two digits' width (a quarter of an inch) in data units, at the axes' size
    gap = (hi - lo) * 0.25 * ax.figure.dpi / max(ax.bbox.width, 1.0)
    heights = stagger(x, gap=gap, rows=rows)
    dates = [row.date for row in keys.itertuples()]
    numbers_above(ax, dates, heights, 3, 14, fontsize=MIN_FONT, fontweight="bold")


def plot_trajectories(
    result: Result,
    indicators: list[str] | None = None,
    n_events: int = N_KEY_EVENTS,
    fig: Figure | None = None,
) -> Figure:
    """All indices stacked, sharing time, with the key events marked, numbered and listed.

    The numbers are those of :func:`plot_fans` for the same run and ``n_events``.
    """
    plt = pyplot()
    with plt.rc_context(STYLE):
        return _trajectories(plt, result, indicators or result.indicators, n_events, fig)


def _trajectories(plt, result, names, n_events, fig):
    keys = key_events(result, n_events)
    entries = key_entries(keys)
    key_h = key_height(entries)
    if fig is None:
        fig = plt.figure(figsize=(13, 2.6 * len(names) + key_h + 1.6), layout="constrained")
    top, panels = fig.subfigures(2, 1, height_ratios=[key_h + 0.05, 2.6 * len(names) + 0.6])
    event_key(top.add_subplot(), entries)
    axes = panels.subplots(len(names), 1, sharex=True, squeeze=False)[:, 0]
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
    number_events(axes[0], keys)
    reps = result.metadata.get("replicates", 1)
    what = (
        f"median, 50% and 90% bands of {reps} replicates"
        if reps > 1
        else "single deterministic path"
    )
    fig.suptitle(f"{result.metadata.get('scenario', '')}: cooperation indices (0–100), {what}")
    return fig


def plot_fan(
    result: Result,
    indicator: str,
    ax: Axes | None = None,
    spaghetti: int = 0,
    n_events: int = N_KEY_EVENTS,
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
        number_events(ax, keys, rows=5)
        ax.set_title(indicator, loc="left", fontweight="bold", color=color(indicator, i), pad=76)
        ax.legend(loc="lower left", fontsize=MIN_FONT, frameon=False, ncol=3)
    return ax


def plot_fans(
    result: Result,
    indicators: list[str] | None = None,
    spaghetti: int = 5,
    n_events: int = N_KEY_EVENTS,
    fig: Figure | None = None,
) -> Figure:
    """A fan chart per index in a grid, with a shared key of the numbered events.

    The numbers are those of :func:`plot_trajectories` for the same run and ``n_events``.
    """
    plt = pyplot()
    names = indicators or result.indicators
    with plt.rc_context(STYLE):
        cols = 2 if len(names) > 1 else 1
        rows = -(-len(names) // cols)
        entries = key_entries(key_events(result, n_events))
        key_h = key_height(entries, width=70)
        fig = fig or plt.figure(figsize=(15, 4.8 * rows + key_h + 1.0))
        gs = fig.add_gridspec(rows + 1, cols, height_ratios=[key_h + 0.01] + [4.8] * rows)
        event_key(fig.add_subplot(gs[0, :]), entries, width=70)
        axes = [fig.add_subplot(gs[1 + k // cols, k % cols]) for k in range(rows * cols)]
        for ax in axes[1:]:
            ax.sharex(axes[0])
        for i, (ax, name) in enumerate(zip(axes, names)):
            plot_fan(result, name, ax=ax, spaghetti=spaghetti, n_events=n_events, i=i)
            if i < len(names) - cols:
                ax.tick_params(labelbottom=False)
        for ax in axes[len(names) :]:
            ax.set_visible(False)
        reps = result.metadata.get("replicates", 1)
        fig.suptitle(
            f"{result.metadata.get('scenario', '')}: median, 50% and 90% bands of {reps} replicates"
            + (f", {spaghetti} sample paths" if spaghetti else "")
        )
        fig.tight_layout()
    return fig
