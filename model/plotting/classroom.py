"""The classroom page's charts: fan charts of the page's run, and the record step by step.

Both return PNG bytes drawn on a plain matplotlib Figure (no pyplot, no
display), sized for a projector: :func:`fan_chart` for the Explore tab and
:func:`history_chart` for the guided history. Decimal years on the time axis
draw far faster than dates, which keeps the page's answer quick.
"""

from __future__ import annotations

import io
import threading
from collections import OrderedDict
from functools import lru_cache
from typing import Any

import numpy as np
import pandas as pd

from ..catalog import consequences, load_catalog
from ..classroom import (
    GUIDED_EVENTS,
    GUIDED_STEPS,
    POLICIES,
    PROJECTION_START,
    Settings,
    View,
    compute,
)
from ..indices import TITLES
from .runs import key_events
from .style import MIN_FONT, color, numbers_above, stagger

__all__ = [
    "DPI",
    "FONT",
    "WIDTH",
    "fan_chart",
    "fan_figure",
    "history_chart",
    "history_figure",
    "path_chart",
]

#: Pixels per inch of the page's charts, their width in pixels (they are shown at that size,
#: beside the controls, on a 1280-pixel screen) and their smallest text (points).
DPI = 96
WIDTH = 880
FONT = MIN_FONT


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


def _png(fig: Any) -> bytes:
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    FigureCanvasAgg(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", pil_kwargs={"compress_level": 1})  # fast to write
    return buf.getvalue()


def _years(dates: Any) -> np.ndarray:
    """Dates as decimal years: plain numbers draw far faster than date axes."""
    d = pd.DatetimeIndex(pd.to_datetime(dates))
    return (d.year + (d.day_of_year - 1) / 365.25).to_numpy(dtype=float)


def _year_axis(ax: Any, first: float, last: float, step: int = 4) -> None:
    from matplotlib.ticker import FixedLocator, NullLocator

    ticks = np.arange(np.ceil(first / step) * step, last + 1e-9, step)
    ax.xaxis.set_major_locator(FixedLocator(ticks.tolist()))
    ax.xaxis.set_major_formatter(lambda x, _pos: f"{x:.0f}")
    ax.xaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_locator(FixedLocator([0, 20, 40, 60, 80, 100]))
    ax.yaxis.set_minor_locator(NullLocator())
    ax.set_xlim(first, last)
    ax.set_ylim(0, 100)


def fan_chart(
    view: View, reference: View | None = None, dpi: int = DPI, bands: bool = True
) -> tuple[bytes, pd.DataFrame]:
    """Four fan charts (PNG, :data:`WIDTH` pixels wide at ``dpi``) with the key events
    numbered; also the key events drawn (:func:`fan_figure`)."""
    fig, keys = fan_figure(view, reference, dpi, bands)
    return _png(fig), keys


def fan_figure(
    view: View, reference: View | None = None, dpi: int = DPI, bands: bool = True
) -> tuple[Any, pd.DataFrame]:
    """Four fan charts with the key events numbered (a matplotlib Figure); the key events.

    ``bands=False`` draws the run's median alone (the quick path without noise, before
    the ensemble's bands).

    Dashed black: the median of the record as it happened (when the page's
    settings differ from it). Red dashed lines: events switched off, at their
    catalog dates; purple: moved events at their new dates.
    """
    from matplotlib.figure import Figure

    res = view.result
    s = view.settings.normalised()
    keys = key_events(res, 8)
    key_x = _years(keys["date"]) if len(keys) else np.array([])
    fig = Figure(figsize=(WIDTH / DPI, 6.2), dpi=dpi)
    fig.subplots_adjust(left=0.06, right=0.985, top=0.77, bottom=0.055, hspace=0.3, wspace=0.07)
    axes = fig.subplots(2, 2, sharex=True, sharey=True).ravel()
    q = res.quantiles
    x = _years(res.dates)
    first, last = x[0], x[-1]
    start = _years([PROJECTION_START])[0]
    off_x, moved_x = _changed_years(s)
    ref_q = reference.result.quantiles if reference is not None and not s.is_reference else None
    for i, (ax, name) in enumerate(zip(axes, res.indicators)):
        c = color(name, i)
        ax.axvspan(start, last, color="0.94", lw=0, zorder=0)
        _fan(ax, x, q[q["indicator"] == name], c, bands)
        if ref_q is not None:
            ref = ref_q[ref_q["indicator"] == name]
            ax.plot(
                x, ref["q50"].to_numpy(), color="black", lw=1.1, ls="--", label="record (median)"
            )
        _key_lines(ax, key_x, numbered=i < 2)
        _changed_lines(ax, off_x, moved_x, first, last)
        _fan_frame(ax, name, c, i < 2, first, last)
    axes[0].legend(loc="lower left", fontsize=FONT, frameon=False, ncol=2)
    axes[0].text(start, 3, " projection", fontsize=FONT, color="0.4")
    fig.suptitle(
        _wrap(_chart_title(s, bands), 95), fontsize=FONT + 1, x=0.01, y=0.995, ha="left", va="top"
    )
    return fig, keys


_BACKGROUNDS: OrderedDict[tuple, tuple[Any, Any]] = OrderedDict()
_BACKGROUND_LOCK = threading.Lock()


def path_chart(view: View, reference: View | None = None, dpi: int = DPI) -> bytes:
    """The run's path (a replicate without noise, :func:`model.classroom.compute_path`) as
    JPEG (quick to encode, shown only until the bands come), drawn over a kept background
    (frames, ticks, the record's median): the quick answer to a change, in a few tens of
    milliseconds, before the ensemble's bands (:func:`fan_chart`, the same size and layout),
    which bring the numbered key events with them."""
    res = view.result
    s = view.settings.normalised()
    x = _years(res.dates)
    off_x, moved_x = _changed_years(s)
    q = res.quantiles
    with _BACKGROUND_LOCK:
        fig, background = _background(res, None if s.is_reference else reference, dpi)
        fig.canvas.restore_region(background)
        axes = fig.axes
        drawn: list[Any] = []
        for i, (ax, name) in enumerate(zip(axes, res.indicators)):
            part = q[q["indicator"] == name]
            n = len(ax.lines)
            _changed_lines(ax, off_x, moved_x, float(x[0]), float(x[-1]))
            drawn += ax.lines[n:]  # the events switched off and moved
            drawn += ax.plot(x, part["q50"].to_numpy(), color=color(name, i), lw=2.0)
        drawn.append(
            fig.text(
                0.01,
                0.995,
                _wrap(_chart_title(s, False), 95),
                fontsize=FONT + 1,
                ha="left",
                va="top",
            )
        )
        for artist in drawn:
            artist.set_animated(True)
            fig.draw_artist(artist)
        image = _rgba_jpeg(fig)
        for artist in drawn:
            artist.remove()
    return image


def _background(res: Any, reference: View | None, dpi: int) -> tuple[Any, Any]:
    """A kept figure of the fan chart's frames (and the record's median when ``reference``)
    with its pixels, for :func:`path_chart` to draw on."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    key = (
        reference.settings if reference is not None else None,
        tuple(res.indicators),
        len(res.dates),
        dpi,
    )
    if key in _BACKGROUNDS:
        _BACKGROUNDS.move_to_end(key)
        return _BACKGROUNDS[key]
    fig = Figure(figsize=(WIDTH / DPI, 6.2), dpi=dpi)
    canvas: Any = FigureCanvasAgg(fig)
    fig.subplots_adjust(left=0.06, right=0.985, top=0.77, bottom=0.055, hspace=0.3, wspace=0.07)
    axes = fig.subplots(2, 2, sharex=True, sharey=True).ravel()
    x = _years(res.dates)
    first, last = float(x[0]), float(x[-1])
    start = _years([PROJECTION_START])[0]
    for i, (ax, name) in enumerate(zip(axes, res.indicators)):
        ax.axvspan(start, last, color="0.94", lw=0, zorder=0)
        if reference is not None:
            rq = reference.result.quantiles
            ref = rq[rq["indicator"] == name]
            ax.plot(x, ref["q50"].to_numpy(), color="black", lw=1.1, ls="--")
        _fan_frame(ax, name, color(name, i), i < 2, first, last)
        ax.set_autoscale_on(False)
    handles = [Line2D([], [], color="0.3", lw=2.0, label="path without noise")]
    if reference is not None:
        handles.append(Line2D([], [], color="black", lw=1.1, ls="--", label="record (median)"))
    axes[0].legend(handles=handles, loc="lower left", fontsize=FONT, frameon=False, ncol=2)
    axes[0].text(start, 3, " projection", fontsize=FONT, color="0.4")
    canvas.draw()
    _BACKGROUNDS[key] = (fig, canvas.copy_from_bbox(fig.bbox))
    while len(_BACKGROUNDS) > 4:
        _BACKGROUNDS.popitem(last=False)
    return _BACKGROUNDS[key]


def _rgba_jpeg(fig: Any) -> bytes:
    """The canvas's pixels as JPEG (a few milliseconds, where PNG takes tens)."""
    from PIL import Image

    w, h = fig.canvas.get_width_height()
    img = Image.frombuffer("RGBA", (w, h), fig.canvas.buffer_rgba(), "raw", "RGBA", 0, 1)
    buf = io.BytesIO()
    img.convert("RGB").save(buf, format="jpeg", quality=92)
    return buf.getvalue()


def _changed_years(s: Settings) -> tuple[np.ndarray, np.ndarray]:
    """The catalog dates of the events switched off and the new dates of the moved ones."""
    catalog = load_catalog()
    off_x = _years([catalog[e].date for e in s.off if e in catalog]) if s.off else np.zeros(0)
    moved_x = _years([d for _, d in s.moves]) if s.moves else np.zeros(0)
    return off_x, moved_x


def _fan(ax: Any, x: np.ndarray, part: pd.DataFrame, c: str, bands: bool = True) -> None:
    """One index's fan: the 90% and 50% bands and the median (or the path without noise)."""
    if not bands:
        ax.plot(x, part["q50"].to_numpy(), color=c, lw=2.0, label="path without noise")
        return
    ax.fill_between(
        x,
        part["q05"].to_numpy(),
        part["q95"].to_numpy(),
        color=c,
        alpha=0.16,
        lw=0,
        label="90% band",
    )
    ax.fill_between(
        x,
        part["q25"].to_numpy(),
        part["q75"].to_numpy(),
        color=c,
        alpha=0.32,
        lw=0,
        label="50% band",
    )
    ax.plot(x, part["q50"].to_numpy(), color=c, lw=2.0, label="median")


def _key_lines(ax: Any, key_x: np.ndarray, numbered: bool) -> None:
    """The key events as dotted lines, with their numbers above the panel if ``numbered``."""
    for d in key_x:
        ax.axvline(d, color="0.45", lw=0.7, ls=":", zorder=1)
    if numbered:
        heights = stagger(key_x, gap=1.0, rows=3)  # a year apart, or another height
        numbers_above(ax, key_x, heights, 2, 12, fontsize=FONT, color="0.25")


def _changed_lines(
    ax: Any, off_x: np.ndarray, moved_x: np.ndarray, first: float, last: float
) -> None:
    """Red dashed lines at the events switched off (within the run), purple at the moved."""
    for d in off_x:
        if first <= d <= last:
            ax.axvline(d, color="#C00000", lw=1.0, ls="--", zorder=1)
    for d in moved_x:
        ax.axvline(d, color="#7B3294", lw=1.2, zorder=1)


def _fan_frame(ax: Any, name: str, c: str, top: bool, first: float, last: float) -> None:
    """A fan panel's title (room above it for the numbers on the top row), axes and grid."""
    ax.set_title(
        TITLES.get(name, name),
        loc="left",
        fontsize=FONT + 1,
        fontweight="bold",
        color=c,
        y=1.0,
        pad=38 if top else 4,
    )
    _year_axis(ax, first, last, step=5)
    ax.grid(True, axis="y", alpha=0.3)
    ax.tick_params(labelsize=FONT)


def _chart_title(s: Settings, bands: bool = True) -> str:
    parts = [f"{s.replicates} replicates" if bands else "path without noise (the bands follow)"]
    if s.off:
        gone = consequences(load_catalog(), s.off) - set(s.off)
        parts.append(
            f"{len(s.off)} event{'s' if len(s.off) > 1 else ''} off"
            + (
                f" (and {len(gone)} that go with {'them' if len(s.off) > 1 else 'it'})"
                if gone
                else ""
            )
        )
    if s.moves:
        parts.append(f"{len(s.moves)} moved")
    label = {v: k for k, v in POLICIES.items()}.get(s.policy, s.policy)
    parts.append(f"policy: {label}" + ("" if s.policy == "passive" else " from 2026"))
    parts.append(f"incidents ×{s.incidents:g}" if s.incidents else "no incidents")
    return "Cooperation indices (0–100): " + ", ".join(parts)


@lru_cache(maxsize=1)
def _history() -> View:
    """The record as it happened (every event on, no policy, no incidents)."""
    return compute(Settings())


@lru_cache(maxsize=GUIDED_STEPS)
def history_chart(step: int, dpi: int = DPI) -> bytes:
    """The record up to guided step ``step`` (0-based) as PNG (:func:`history_figure`)."""
    return _png(history_figure(step, dpi))


def history_figure(step: int, dpi: int = DPI) -> Any:
    """The record up to guided step ``step`` (0-based): the four medians, events so far marked.

    The last step (the balancing question) shows the whole run, the projection shaded.
    """
    from matplotlib.figure import Figure

    view = _history()
    catalog = load_catalog()
    events = [catalog[e] for e in GUIDED_EVENTS]
    closing = step >= len(GUIDED_EVENTS)
    x = _years(view.result.dates)
    if closing:
        until, marked, last = view.result.dates.max(), events, float(x[-1])
    else:
        until = pd.Timestamp(events[step].date) + pd.Timedelta(days=120)
        marked, last = events[: step + 1], 2025.999
    fig = Figure(figsize=(WIDTH / DPI, 4.8), dpi=dpi)
    fig.subplots_adjust(left=0.06, right=0.985, top=0.8, bottom=0.25)
    ax = fig.subplots()
    if closing:
        ax.axvspan(_years([PROJECTION_START])[0], last, color="0.94", lw=0, zorder=0)
    _medians(ax, view, keep=view.result.dates <= until)
    _guided_lines(ax, _years([e.date for e in marked]), current=not closing)
    _year_axis(ax, 2000.0, last, step=5 if closing else 2)
    ax.grid(True, axis="y", alpha=0.3)
    ax.tick_params(labelsize=FONT)
    fig.legend(loc="lower left", fontsize=FONT, frameon=False, ncol=2, bbox_to_anchor=(0.05, 0))
    what = "and on to 2035 with no new events" if closing else f"to {until:%b %Y}"
    ax.set_title(
        f"The record {what}: medians and 50% bands of {view.settings.replicates} replicates",
        fontsize=FONT + 1,
        loc="left",
        y=1.0,
        pad=44,
    )
    return fig


def _medians(ax: Any, view: View, keep: np.ndarray) -> None:
    """Each index's median and 50% band over the records ``keep``."""
    q = view.result.quantiles
    x = _years(view.result.dates)
    for i, name in enumerate(view.result.indicators):
        part = q[q["indicator"] == name]
        c = color(name, i)
        ax.fill_between(
            x[keep],
            part["q25"].to_numpy()[keep],
            part["q75"].to_numpy()[keep],
            color=c,
            alpha=0.2,
            lw=0,
        )
        ax.plot(x[keep], part["q50"].to_numpy()[keep], color=c, lw=2, label=TITLES.get(name, name))


def _guided_lines(ax: Any, years: np.ndarray, current: bool = True) -> None:
    """The guided events so far, numbered; the last one (the current step) in bold."""
    heights = stagger(years, gap=0.9, rows=3)
    for j, (d, h) in enumerate(zip(years, heights), start=1):
        now = current and j == len(years)
        ax.axvline(
            d,
            color="black" if now else "0.6",
            lw=1.4 if now else 0.8,
            ls="-" if now else ":",
        )
        ax.annotate(
            str(j),
            xy=(d, 100),
            xytext=(0, 2 + 13 * h),
            textcoords="offset points",
            ha="center",
            va="bottom",
            fontsize=FONT,
            fontweight="bold" if now else "normal",
            annotation_clip=False,
        )
