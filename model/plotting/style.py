"""The look of every figure: colours, fonts, and how figures are saved.

The plotting package is the only part of the model that imports matplotlib,
and it imports it on first use: ``import model`` never does. Colours are
colour-blind safe and stay distinct in greyscale print; fonts are sized to be
read on a classroom projector.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "COLORS",
    "FAMILY_COLORS",
    "PALETTE",
    "STYLE",
    "color",
    "grid",
    "lines",
    "pyplot",
    "save_figure",
    "short",
]

#: One colour per index (colour-blind safe, distinct in greyscale print).
COLORS = {"trade": "#0072B2", "energy": "#E69F00", "security": "#D55E00", "west": "#009E73"}
_FALLBACK = ["#CC79A7", "#56B4E9", "#F0E442", "#000000"]
#: Colours of scenarios or policies drawn side by side (the first is black: the reference).
PALETTE = ["#000000", "#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9"]
#: Colours of the measurement families in validation figures.
FAMILY_COLORS = {"log": "#000000", "logit": "#CC79A7", "count": "#0072B2", "binary": "#009E73"}
#: Font sizes of the figures (points).
STYLE = {"font.size": 13, "axes.titlesize": 15, "axes.labelsize": 13}


def pyplot() -> Any:
    """pyplot, imported on first use (headless machines fall back to Agg)."""
    import matplotlib.pyplot as plt

    return plt


def color(indicator: str, i: int = 0) -> str:
    """The colour of an index (a fallback by position for indices of one's own)."""
    return COLORS.get(indicator, _FALLBACK[i % len(_FALLBACK)])


def save_figure(fig: Figure, path: Any, dpi: int = 130) -> None:
    """Save at print resolution and free the figure."""
    fig.savefig(path, dpi=dpi, bbox_inches="tight")
    pyplot().close(fig)


def short(title: str, n: int = 40) -> str:
    """``title`` cut to ``n`` characters with an ellipsis."""
    return title if len(title) <= n else title[: n - 1].rstrip() + "…"


def lines(entries: list[str], per_line: int) -> str:
    """Entries in aligned columns, never split across lines."""
    width = max(len(e) for e in entries)
    rows = [entries[i : i + per_line] for i in range(0, len(entries), per_line)]
    return "\n".join("  ".join(e.ljust(width) for e in row).rstrip() for row in rows)


def grid(plt: Any, n: int, width: float = 5.2, height: float = 3.6) -> tuple[Figure, list]:
    """A figure with ``n`` panels in two columns (the rest hidden)."""
    cols = min(n, 2)
    rows = -(-n // cols)
    fig, axes = plt.subplots(rows, cols, figsize=(width * cols, height * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, list(axes.flat[:n])
