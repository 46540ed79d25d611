"""The look of every figure: colours, fonts, and how figures are saved.

The plotting package is the only part of the model that imports matplotlib,
and it imports it on first use: ``import model`` never does. Colours are
colour-blind safe and stay distinct in greyscale print; fonts are sized to be
read on a classroom projector.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

__all__ = [
    "COLORS",
    "DPI",
    "FAMILY_COLORS",
    "MIN_FONT",
    "PALETTE",
    "STYLE",
    "color",
    "event_key",
    "grid",
    "key_height",
    "lines",
    "pyplot",
    "readable",
    "save_figure",
    "short",
    "stagger",
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
#: The smallest text on any chart at its default size (points): read from the back of a room.
MIN_FONT = 11
#: The least resolution of a saved figure (dots per inch), whatever a caller asks for.
DPI = 150


#: The fonts of figures without a style of their own: no text under :data:`MIN_FONT`.
READABLE = {
    "font.size": MIN_FONT,
    "axes.titlesize": 12,
    "axes.labelsize": MIN_FONT,
    "legend.fontsize": MIN_FONT,
    "xtick.labelsize": MIN_FONT,
    "ytick.labelsize": MIN_FONT,
}

F = TypeVar("F", bound=Callable[..., Any])


def readable(func: F) -> F:
    """Draw ``func``'s figure with the :data:`READABLE` fonts."""

    @functools.wraps(func)
    def drawn(*args: Any, **kwargs: Any) -> Any:
        with pyplot().rc_context(READABLE):
            return func(*args, **kwargs)

    return cast(F, drawn)


def pyplot() -> Any:
    """pyplot, imported on first use (headless machines fall back to Agg)."""
    import matplotlib.pyplot as plt

    return plt


def color(indicator: str, i: int = 0) -> str:
    """The colour of an index (a fallback by position for indices of one's own)."""
    return COLORS.get(indicator, _FALLBACK[i % len(_FALLBACK)])


def save_figure(fig: Figure, path: Any, dpi: int = DPI) -> None:
    """Save at print resolution (:data:`DPI` at least, so every figure projects alike) and
    free the figure."""
    fig.savefig(path, dpi=max(int(dpi), DPI), bbox_inches="tight")
    pyplot().close(fig)


def short(title: str, n: int = 40) -> str:
    """``title`` cut to ``n`` characters with an ellipsis."""
    return title if len(title) <= n else title[: n - 1].rstrip() + "…"


def _key_columns(entries: list[str], cols: int, width: int) -> list[str]:
    """``entries`` wrapped at ``width`` characters (never cut) and split into ``cols`` columns."""
    import textwrap

    wrapped = [textwrap.fill(e, width, subsequent_indent="      ") for e in entries]
    per = -(-len(wrapped) // cols) if wrapped else 0
    return ["\n".join(wrapped[c * per : (c + 1) * per]) for c in range(cols)]


def key_height(entries: list[str], cols: int = 2, width: int = 62) -> float:
    """Inches of the key :func:`event_key` draws for ``entries``."""
    columns = _key_columns(entries, cols, width)
    n = max((c.count("\n") + 1 for c in columns if c), default=0)
    return n * MIN_FONT * 1.45 / 72 + 0.1


def event_key(ax: Any, entries: list[str], cols: int = 2, width: int = 62) -> None:
    """The numbered events' key in ``ax`` (its frame hidden): full titles, wrapped, in columns."""
    ax.axis("off")
    for c, text in enumerate(_key_columns(entries, cols, width)):
        ax.text(
            c / cols,
            1.0,
            text,
            transform=ax.transAxes,
            va="top",
            ha="left",
            fontsize=MIN_FONT,
            linespacing=1.3,
        )


def stagger(xs: Any, gap: float, rows: int) -> list[int]:
    """A height (0 to ``rows - 1``) for a label at each of ``xs`` (in order): the lowest at
    which it keeps ``gap`` from the labels placed there before it, so that "1" and "4" do
    not read as "14" (when none is free, the row whose last label is farthest back)."""
    last: list[float | None] = [None] * rows
    out = []
    for x in xs:
        free = [r for r in range(rows) if (p := last[r]) is None or x - p >= gap]
        # none free: the row whose last label is farthest back
        row = free[0] if free else min(range(rows), key=lambda r: last[r] or 0.0)
        last[row] = x
        out.append(row)
    return out


def numbers_above(
    ax: Any, xs: Any, heights: list[int], base: float, step: float, **text: Any
) -> None:
    """The numbers 1, 2, ... over the top (100) of ``ax`` at ``xs``, each ``base + step *``
    its height points up (heights from :func:`stagger`); ``text``: font size, colour, ..."""
    for j, (x, h) in enumerate(zip(xs, heights), start=1):
        ax.annotate(
            str(j),
            xy=(x, 100),
            xytext=(0, base + step * h),
            textcoords="offset points",
            ha="center",
            va="bottom",
            annotation_clip=False,
            **text,
        )


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
