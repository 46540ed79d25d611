"""The picture of a scenario's drivers: the oil price and the price index, history and future.

:func:`plot_drivers` takes the table of :func:`model.calibrate.driver_paths.driver_paths`
(a run's ``drivers.csv``) and draws one panel per driver: the observed years
as a line, the scenario's years as the median with 50 % and 90 % bands.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pandas as pd

from .style import MIN_FONT, pyplot, readable

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = ["plot_drivers"]

_LABELS = {
    "oil_price": "Brent, USD per barrel (nominal)",
    "price_index": "US consumer prices (1982-84 = 100)",
}


@readable
def plot_drivers(paths: pd.DataFrame, fig: Figure | None = None) -> Figure:
    """One panel per driver of ``paths``: observed history, then the chosen future with bands."""
    plt = pyplot()
    names = list(dict.fromkeys(paths["driver"]))
    if fig is None:
        fig = plt.figure(figsize=(11, 3.2 * len(names)))
    axes = fig.subplots(len(names), 1, squeeze=False)[:, 0]
    for ax, name in zip(axes, names):
        d = paths[paths["driver"] == name]
        seen = d[d["source"] == "observed"]
        later = d[d["source"] != "observed"]
        ax.plot(seen["year"], seen["q50"], color="black", lw=1.6, label="observed")
        if len(later):
            joined = pd.concat([seen.tail(1), later])
            ax.fill_between(joined["year"], joined["q05"], joined["q95"], alpha=0.15, label="90%")
            ax.fill_between(joined["year"], joined["q25"], joined["q75"], alpha=0.3, label="50%")
            source = later["source"].iloc[0]
            ax.plot(joined["year"], joined["q50"], lw=1.6, label=f"median ({source})")
        ax.set_ylabel(_LABELS.get(name, name))
        ax.set_title(name, loc="left")
        ax.legend(loc="upper left", fontsize=MIN_FONT)
    axes[-1].set_xlabel("year")
    fig.tight_layout()
    return fig
