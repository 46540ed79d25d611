"""Pictures of a rolling-origin evaluation: skill by horizon, and the model's fans over the data.

Both take an :class:`~model.calibrate.evaluate.Evaluation`:

* :func:`plot_skill`: one panel per index and measurement family (scores in
  different units are never pooled), skill ``1 - CRPS(model) / CRPS(baseline)``
  by horizon, a line per baseline, solid for ``known-events`` and dashed for
  ``frozen``; zero (as good as the baseline) is marked, and above it the model
  is better. Skills below :data:`SKILL_FLOOR` are drawn on the floor with a
  downward triangle and their value.
* :func:`plot_evaluation_fans`: one panel per series, in the series' own
  units; for a few origins the model's 50 % and 90 % predictive bands
  (``known-events``) and its median in ``frozen`` (dashed), over every annual
  observation.

matplotlib is imported inside the functions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from .style import PALETTE, STYLE, grid, pyplot

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..calibrate.evaluate import Evaluation

__all__ = ["SKILL_FLOOR", "plot_evaluation_fans", "plot_skill"]

#: The lowest skill drawn; lower values sit on this floor, marked and labelled.
SKILL_FLOOR: Final[float] = -2.0
#: One colour per baseline.
BASELINE_COLORS: Final[dict[str, str]] = {
    "persistence": "#000000",
    "rw_drift": "#0072B2",
    "ar1": "#D55E00",
    "oil_regression": "#009E73",
}
_MODE_STYLE: Final[dict[str, dict[str, Any]]] = {
    "known-events": {"ls": "-", "marker": "o"},
    "frozen": {"ls": "--", "marker": "s"},
}
_FAMILY_TITLE: Final[dict[str, str]] = {
    "trade:log": "trade: dollar values",
    "energy:log": "energy: gas volumes",
    "west:log": "west: US arms deliveries",
    "security:binary": "security: held or not (0/1)",
    "security:count": "security: meetings and calls",
}
_UNITS: Final[dict[str, str]] = {
    "trade:log": "USD bn a year",
    "energy:log": "bcm a year",
    "log": "SIPRI TIV, million",
    "logit": "% of adults",
    "count": "per year",
    "binary": "0 / 1",
}


def _title(key: str) -> str:
    if key in _FAMILY_TITLE:
        return _FAMILY_TITLE[key]
    index, family = key.split(":")
    return f"{index}: {'survey shares' if family == 'logit' else family}"


def plot_skill(ev: Evaluation, baselines: Sequence[str] | None = None) -> Figure:
    """Skill by horizon, one panel per index and family, a line per baseline and mode."""
    plt = pyplot()
    pooled = ev.pooled
    if baselines is not None:
        pooled = pooled[pooled["baseline"].isin(baselines)]
    keys = list(dict.fromkeys(pooled["key"])) or ["(none)"]
    with plt.rc_context(STYLE):
        fig, axes = grid(plt, len(keys), width=6.0, height=4.2)
        for ax, key in zip(axes, keys, strict=True):
            _skill_panel(ax, pooled[pooled["key"] == key], key)
        handles = [
            plt.Line2D([], [], color=c, lw=2.5, label=b)
            for b, c in BASELINE_COLORS.items()
            if b in set(pooled["baseline"])
        ] + [
            plt.Line2D([], [], color="0.4", lw=1.8, label=f"{m} mode", **s)
            for m, s in _MODE_STYLE.items()
            if m in set(pooled["mode"])
        ]
        fig.legend(handles=handles, loc="lower center", ncol=3, frameon=False, fontsize=13)
        fig.suptitle(
            "Skill of the model against each baseline: 1 - CRPS(model) / CRPS(baseline)\n"
            "above 0 the model is better; rolling origins, forecasts paired",
            fontsize=15,
        )
        fig.tight_layout(rect=(0, 0.09 + 0.02 * (len(handles) > 3), 1, 0.95))
    return fig


def _skill_panel(ax: Any, pooled: pd.DataFrame, key: str) -> None:
    """One key's skill lines, the zero line, and the floor for very negative skill."""
    ax.axhline(0.0, color="k", lw=1.4, zorder=1)
    ax.axhspan(0.0, 1.0, color="#009E73", alpha=0.06, zorder=0)
    for (base, mode), g in pooled.groupby(["baseline", "mode"], sort=False):
        g = g.sort_values("horizon")
        h, s = g["horizon"].to_numpy(int), g["skill"].to_numpy(float)
        colour = BASELINE_COLORS.get(str(base), "#CC79A7")
        style = _MODE_STYLE.get(str(mode), {"ls": ":", "marker": "x"})
        ax.plot(h, np.maximum(s, SKILL_FLOOR), color=colour, lw=2.0, ms=6, **style)
        low = s < SKILL_FLOOR
        ax.scatter(h[low], np.full(low.sum(), SKILL_FLOOR), marker="v", s=80, color=colour)
        for hx, sx in zip(h[low], s[low], strict=True):
            ax.annotate(
                f"{sx:.1f}",
                (hx, SKILL_FLOOR),
                textcoords="offset points",
                xytext=(4, 6),
                fontsize=11,
                color=colour,
            )
    ax.set_ylim(SKILL_FLOOR - 0.15, 1.0)
    horizons = sorted(set(pooled["horizon"])) or [1]
    ax.set_xticks(horizons)
    ax.set_xlim(min(horizons) - 0.3, max(horizons) + 0.3)
    ax.set_xlabel("horizon (years after the origin)")
    ax.set_ylabel("skill")
    n = pooled["n_series"].max() if len(pooled) else 0
    ax.set_title(f"{_title(key)} ({n} series)", loc="left")
    ax.grid(axis="y", color="0.85", lw=0.8)


# --------------------------------------------------------------------------- fans


def default_series(ev: Evaluation, k: int = 6, least: int = 3) -> list[str]:
    """Up to ``k`` series, one per key (binary ones aside), with the most scored forecasts.

    A series needs ``least`` forecasts of the model scored in one mode.
    """
    s = ev.scores[ev.scores["method"] == "model"]
    keys = dict(zip(ev.history["series"], ev.history["key"]))
    counts = s.groupby(["series", "mode"]).size().groupby("series").max()
    counts = counts[counts >= least].sort_values(ascending=False, kind="stable")
    chosen: dict[str, str] = {}
    for series in counts.index:
        key = keys.get(series, "")
        if not key.endswith(":binary") and key not in chosen:
            chosen[key] = series
    return list(chosen.values())[:k]


def default_origins(ev: Evaluation, k: int = 3) -> list[int]:
    """Up to ``k`` origins whose fans do not overlap, counting back from the last."""
    origins = sorted(set(ev.fans["origin"]))
    step = int(max(ev.settings.get("horizons", [1]))) + 1
    chosen: list[int] = []
    for o in reversed(origins):
        if len(chosen) < k and (not chosen or chosen[-1] - o >= step):
            chosen.append(o)
    return sorted(chosen)


def _units(values: np.ndarray, family: str) -> np.ndarray:
    """Values on the modelled scale in the series' own units."""
    if family == "log":
        return np.exp(values)
    if family == "logit":
        return 100.0 / (1.0 + np.exp(-values))
    return values


def _year_axis(ax: Any) -> None:
    from matplotlib.ticker import MaxNLocator

    ax.xaxis.set_major_locator(MaxNLocator(integer=True, nbins=6))


def _log_axis(ax: Any) -> None:
    """A log scale labelled at 1, 2 and 5 times the powers of ten, in plain numbers."""
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def plot_evaluation_fans(
    ev: Evaluation, series: Sequence[str] | None = None, origins: Sequence[int] | None = None
) -> Figure:
    """The model's predictive fans from a few origins over the annual observations."""
    plt = pyplot()
    series = list(series) if series is not None else default_series(ev)
    origins = list(origins) if origins is not None else default_origins(ev)
    with plt.rc_context(STYLE):
        fig, axes = grid(plt, max(len(series), 1), width=6.4, height=4.0)
        for ax, name in zip(axes, series, strict=False):
            _fan_panel(ax, ev, name, origins)
        handles = [plt.Line2D([], [], color="k", marker="o", ls="", label="observed")] + [
            plt.Rectangle((0, 0), 1, 1, color=PALETTE[1 + i % 6], alpha=0.45, label=f"from {o}")
            for i, o in enumerate(origins)
        ]
        handles.append(plt.Line2D([], [], color="0.3", ls="--", lw=2, label="frozen mode: median"))
        fig.legend(handles=handles, loc="lower center", ncol=len(handles), frameon=False)
        fig.suptitle(
            "The model's forecasts from a few origins, fitted on the data up to each:\n"
            "median, 50 % and 90 % bands with the events as recorded; dashed: frozen mode",
            fontsize=15,
        )
        fig.tight_layout(rect=(0, 0.06, 1, 0.95))
    return fig


def _fan_panel(ax: Any, ev: Evaluation, name: str, origins: Sequence[int]) -> None:
    """One series: its annual values, and a fan from each origin."""
    hist = ev.history[ev.history["series"] == name]
    key = str(hist["key"].iloc[0]) if len(hist) else ":"
    family = key.split(":")[1]
    fans = ev.fans[ev.fans["series"] == name]
    for i, origin in enumerate(origins):
        colour = PALETTE[1 + i % 6]
        ax.axvline(origin, color=colour, lw=1.0, ls=":")
        for mode in ("known-events", "frozen"):
            f = fans[(fans["origin"] == origin) & (fans["mode"] == mode)].sort_values("year")
            if f.empty:
                continue
            yr = f["year"].to_numpy()
            if mode == "frozen":
                ax.plot(yr, _units(f["q50"].to_numpy(), family), color=colour, ls="--", lw=2)
                continue
            for lo, hi, alpha in (("q05", "q95", 0.2), ("q25", "q75", 0.45)):
                ax.fill_between(
                    yr,
                    _units(f[lo].to_numpy(), family),
                    _units(f[hi].to_numpy(), family),
                    color=colour,
                    alpha=alpha,
                    lw=0,
                )
            ax.plot(yr, _units(f["q50"].to_numpy(), family), color=colour, lw=2)
    ax.plot(hist["year"], _units(hist["y"].to_numpy(float), family), "ko", ms=6, zorder=3)
    _year_axis(ax)
    if family == "log":
        _log_axis(ax)
    ax.set_ylabel(_UNITS.get(key, _UNITS.get(family, "")))
    ax.set_title(name.replace("|", " | "), loc="left")
    ax.grid(axis="y", color="0.9", lw=0.8)
