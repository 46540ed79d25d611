"""Pictures of results: the only part of the model that imports matplotlib (on first use).

Every function takes results (a :class:`~model.results.Result`, a comparison,
a calibration, an analysis) and, where it draws one panel, the Axes to draw
on (``ax=None`` makes a new figure); it returns the Axes or Figure it drew
on, so figures compose in notebooks. Sizes and fonts are chosen to stay
readable on a projector and in print (:mod:`.style`).

- :mod:`.runs`: one run (trajectories, fan charts, key events);
- :mod:`.compare`: scenarios and policies side by side;
- :mod:`.validation`: observations over the modelled bands;
- :mod:`.evaluation`: the rolling-origin evaluation (skill by horizon, the model's fans);
- :mod:`.explore`: sensitivity indices, sweeps, event contributions;
- :mod:`.classroom`: the classroom page's charts.
"""

from .compare import plot_differences, plot_overlay, plot_policy_grid, plot_tradeoff
from .evaluation import plot_evaluation_fans, plot_skill
from .explore import plot_sensitivity, plot_sweep, plot_waterfall
from .runs import key_events, plot_fan, plot_fans, plot_index, plot_trajectories
from .style import COLORS, color, save_figure
from .validation import plot_fit, plot_hindcast, plot_series

__all__ = [
    "COLORS",
    "color",
    "key_events",
    "plot_differences",
    "plot_evaluation_fans",
    "plot_fan",
    "plot_fans",
    "plot_fit",
    "plot_hindcast",
    "plot_index",
    "plot_overlay",
    "plot_policy_grid",
    "plot_sensitivity",
    "plot_series",
    "plot_skill",
    "plot_sweep",
    "plot_tradeoff",
    "plot_trajectories",
    "plot_waterfall",
    "save_figure",
    "use_agg",
]


def use_agg() -> None:
    """Draw without a display (the command line's figures)."""
    import matplotlib

    matplotlib.use("Agg")
