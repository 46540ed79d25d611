"""Pictures of a calibration or a hindcast: observations over the modelled bands.

Two views, both taking a :class:`~model.calibrate.Calibration` (and, for the
bands, an ensemble :class:`~model.results.Result` of the calibrated scenario):

* :func:`plot_fit`: one panel per index, in index points. Each observation is
  mapped back onto the index scale through its fitted measurement equation
  (``x = 50 + (g(value) - offset - trend) / (sign * slope)``), so every series
  and statistical basis can be drawn over the same bands; each basis has its
  own marker within a panel. Binary proxies are drawn as ticks at the top (1)
  or bottom (0).
* :func:`plot_series`: one panel per series (a quantity on one basis), in the
  series' own units, with the index bands mapped forward through the same
  equation.

Key events are marked with numbered lines. matplotlib is imported inside the
functions only.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from ..calibrate.measurement import CENTRE
from ..calibrate.observations import decades
from ..catalog import load_catalog
from .style import FAMILY_COLORS, MIN_FONT, pyplot
from .style import color as index_color

if TYPE_CHECKING:  # pragma: no cover
    from matplotlib.figure import Figure

    from ..calibrate import Calibration, Hindcast
    from ..results import Result

__all__ = ["KEY_EVENTS", "MAIN_SERIES", "index_scale", "plot_fit", "plot_hindcast", "plot_series"]

#: Events marked on the plots (catalog ids).
KEY_EVENTS: tuple[str, ...] = (
    "march-1-memorandum-2003",
    "putin-ankara-visit-2004",
    "georgia-war-2008",
    "hlcc-first-2010",
    "su24-downing-2015",
    "coup-attempt-2016",
    "sanctions-works-lifted-2017",
    "s400-delivery-2019",
    "balyun-strike-2020",
    "ukraine-invasion-2022",
)
#: Series drawn by :func:`plot_series` in ``relsim calibrate`` (measurement groups).
MAIN_SERIES: tuple[str, ...] = (
    "trade_total|ru_fcs",
    "trade_total|official_statement",
    "tr_exports_to_ru|tim",
    "tr_imports_from_ru|turkstat",
    "gas_ru_to_tr|gazprom",
    "RU_putin_erdogan_inperson_meetings_count",
    "RU_hlcc_meeting_held",
    "RU_pew_russia_favorable_pct",
    "WEST_pew_us_favorable_pct",
    "WEST_khas_fp_us_seen_as_threat_pct",
)
_MARKERS = ("o", "s", "^", "D", "v", "P", "X", "*", "<", ">", "p", "d", "h", "8")
_STYLE = {"font.size": MIN_FONT, "axes.titlesize": 12, "axes.labelsize": MIN_FONT}


def index_scale(cal: Calibration, frame: pd.DataFrame) -> np.ndarray:
    """Each observation of ``frame`` on the index scale (points), through its fitted equation.

    NaN where the series was not fitted or its key's slope is 0 (the value
    says nothing about the index); binary rows give NaN too (no inverse).
    """
    fit = cal.fit
    a = frame["group"].map(fit.offsets).to_numpy(float)
    b = frame["key"].map(fit.slopes).to_numpy(float)
    c = frame["key"].map(fit.trends).fillna(0.0).to_numpy(float)
    y = frame["y"].to_numpy(float).copy()
    fam = frame["family"].to_numpy()
    count = fam == "count"
    y[count] = np.log((y[count] + 0.5) / frame["exposure"].to_numpy(float)[count])
    with np.errstate(divide="ignore", invalid="ignore"):
        x = CENTRE + (y - a - c * decades(frame["date"])) / (frame["sign"].to_numpy(float) * b)
    x[(fam == "binary") | ~(b > 0)] = np.nan
    return x


def _events(ax, dates: pd.DatetimeIndex, numbers: dict[str, int], catalog) -> None:
    lo, hi = dates.min(), dates.max()
    for ident, k in numbers.items():
        when = pd.Timestamp(catalog[ident].date)
        if lo <= when <= hi:
            ax.axvline(when, color="0.55", lw=0.8, ls=":", zorder=0)
            ax.text(
                when,
                1.0,
                str(k),
                transform=ax.get_xaxis_transform(),
                ha="center",
                va="bottom",
                fontsize=MIN_FONT,
                color="0.3",
            )


def _event_numbers(events: Sequence[str]) -> tuple[dict[str, int], dict]:
    catalog = load_catalog()
    chosen = [e for e in events if e in catalog]
    chosen.sort(key=lambda e: str(catalog[e].date))
    return {e: i + 1 for i, e in enumerate(chosen)}, catalog


def _bands(ax, ensemble: Result | None, replay: Result, indicator: str, colour: str) -> None:
    if ensemble is not None:
        q = ensemble.quantiles[ensemble.quantiles["indicator"] == indicator]
        ax.fill_between(
            q["date"], q["q05"], q["q95"], color=colour, alpha=0.15, lw=0, label="90% band"
        )
        ax.fill_between(
            q["date"], q["q25"], q["q75"], color=colour, alpha=0.3, lw=0, label="50% band"
        )
        ax.plot(q["date"], q["q50"], color=colour, lw=1.2, label="median")
    q = replay.quantiles[replay.quantiles["indicator"] == indicator]
    ax.plot(q["date"], q["q50"], color=colour, lw=1.0, ls="--", label="replay without noise")


def _basis_markers(frame: pd.DataFrame) -> dict[str, str]:
    """A marker per basis of ``frame`` (one panel): distinct up to ``len(_MARKERS)`` bases."""
    return {b: _MARKERS[i % len(_MARKERS)] for i, b in enumerate(sorted(frame["basis"].unique()))}


def plot_fit(
    cal: Calibration,
    ensemble: Result | None = None,
    until: int | None = None,
    observations: pd.DataFrame | None = None,
    indicators: Sequence[str] | None = None,
    events: Sequence[str] = KEY_EVENTS,
    start: str = "2000-01-01",
    end: str = "2025-01-01",
) -> Figure:
    """One panel per index: bands (``ensemble``) or the replay, and the observations on its scale.

    ``observations`` defaults to the fitted ones (``cal.residuals``); a
    hindcast passes the later ones too (``pd.concat([cal.residuals,
    hindcast.predictions])``), drawn hollow after the cut-off ``until``.
    """
    plt = pyplot()
    obs = cal.residuals if observations is None else observations
    obs = obs[(obs["date"] >= pd.Timestamp(start)) & (obs["date"] <= pd.Timestamp(end))]
    names = list(indicators or [k for k in cal.scenario.indicators if k in set(obs["indicator"])])
    numbers, catalog = _event_numbers(events)
    span = pd.DatetimeIndex([pd.Timestamp(start), pd.Timestamp(end)])
    with plt.rc_context(_STYLE):
        fig, axes = plt.subplots(
            len(names), 1, figsize=(12, 2.9 * len(names) + 0.8), sharex=True, squeeze=False
        )
        for ax, name in zip(axes[:, 0], names):
            _bands(ax, ensemble, cal.replay, name, index_color(name))
            part = obs[obs["indicator"] == name]
            _index_points(ax, cal, part, _later(part, until))
            _index_frame(ax, cal, name, part, until)
            _events(ax, span, numbers, catalog)
            _side_legend(ax)
            ax.set_xlim(span[0], span[1])
        _events_key(fig, numbers, catalog)
        fig.suptitle(
            "Observations on the index scale (through the fitted measurement equations)"
            + ("" if until is None else f": fitted up to {until}, hollow = scored"),
            fontsize=12,
        )
        fig.tight_layout()
    return fig


def _later(part: pd.DataFrame, until: int | None) -> np.ndarray:
    """Which rows of ``part`` come after the cut-off year ``until`` (none without a cut-off)."""
    return (part["year"] > until).to_numpy() if until is not None else np.zeros(len(part), bool)


def _index_points(ax, cal: Calibration, part: pd.DataFrame, later: np.ndarray) -> None:
    """One index's observations (``part``) on its scale, a marker per basis and a colour per
    family; binary proxies as ticks at the top (1) or bottom (0).
    """
    x = index_scale(cal, part)
    # markers per panel, over the bases drawn in it: 23 bases in all would repeat markers
    drawn_here = (part["family"] == "binary").to_numpy() | np.isfinite(x)
    markers = _basis_markers(part[drawn_here])
    for basis, m in markers.items():
        for fam in ("log", "logit", "count", "binary"):
            sel = ((part["basis"] == basis) & (part["family"] == fam)).to_numpy()
            if sel.any():
                _basis_points(ax, part, x, sel, later, m, basis, fam)


def _basis_points(
    ax,
    part: pd.DataFrame,
    x: np.ndarray,
    sel: np.ndarray,
    later: np.ndarray,
    marker: str,
    basis: str,
    fam: str,
) -> None:
    """The rows ``sel`` of ``part`` (one basis, one family): filled, or hollow where ``later``."""
    col = FAMILY_COLORS[fam]
    if fam == "binary":
        yy = np.where(part["y"].to_numpy(float)[sel] > 0.5, 97.0, 3.0)
    else:
        yy = np.clip(x[sel], 0.0, 100.0)
    dates = part["date"].to_numpy()[sel]
    drawn = np.isfinite(yy)
    for hollow in (False, True):
        s = (later[sel] == hollow) & drawn
        if s.any():
            ax.scatter(
                dates[s],
                yy[s],
                marker=marker,
                s=22,
                linewidths=0.9,
                zorder=3,
                facecolors="none" if hollow else col,
                edgecolors=col,
                label=f"{basis} ({fam})",
            )


def _index_frame(ax, cal: Calibration, name: str, part: pd.DataFrame, until: int | None) -> None:
    """An index panel's title (with the keys not drawn), scale and cut-off line."""
    skipped = [k for k in sorted(set(part["key"])) if not cal.fit.slopes.get(k, 0) > 0]
    title = f"{name}"
    if skipped:
        title += "  (not drawn, slope 0: " + ", ".join(k.split(":")[1] for k in skipped) + ")"
    ax.set_title(title, loc="left", pad=18)  # above the event numbers
    ax.set_ylim(0, 100)
    ax.set_ylabel("index points")
    if until is not None:
        ax.axvline(pd.Timestamp(f"{until + 1}-01-01"), color="k", lw=1.2)
        ax.text(
            pd.Timestamp(f"{until + 1}-01-01"),
            0.02,
            f" scored after {until}",
            transform=ax.get_xaxis_transform(),
            fontsize=MIN_FONT,
        )


def _side_legend(ax) -> None:
    """The panel's legend to its right, one entry per label."""
    handles, labels = ax.get_legend_handles_labels()
    seen = dict(zip(labels, handles))
    ax.legend(
        seen.values(),
        seen.keys(),
        fontsize=MIN_FONT,
        loc="upper left",
        bbox_to_anchor=(1.005, 1.0),
        borderaxespad=0.0,
        frameon=False,
    )


def _events_key(fig, numbers: dict[str, int], catalog) -> None:
    """The numbered events' titles below the panels."""
    key = "; ".join(f"{k} {catalog[e].title}" for e, k in numbers.items())
    fig.text(0.01, 0.0, _wrap("Events: " + key, 120), fontsize=MIN_FONT, va="top")


def plot_hindcast(hc: Hindcast, indicators: Sequence[str] | None = None) -> Figure:
    """:func:`plot_fit` of a hindcast: fitted values filled, scored ones hollow after the cut."""
    both = pd.concat([hc.calibration.residuals, hc.predictions], ignore_index=True)
    return plot_fit(
        hc.calibration, hc.ensemble, until=hc.until, observations=both, indicators=indicators
    )


def plot_series(
    cal: Calibration,
    ensemble: Result | None,
    groups: Sequence[str],
    observations: pd.DataFrame | None = None,
    until: int | None = None,
    events: Sequence[str] = KEY_EVENTS,
    start: str = "2000-01-01",
    end: str = "2025-01-01",
    ncols: int = 2,
) -> Figure:
    """A panel per series (``group``: a quantity on one basis) in its units, bands mapped."""
    plt = pyplot()
    obs = cal.residuals if observations is None else observations
    numbers, catalog = _event_numbers(events)
    groups = [g for g in groups if g in cal.fit.offsets]
    nrows = max(1, -(-len(groups) // ncols))
    span = pd.DatetimeIndex([pd.Timestamp(start), pd.Timestamp(end)])
    with plt.rc_context(_STYLE):
        fig, axes = plt.subplots(
            nrows, ncols, figsize=(5.6 * ncols, 2.8 * nrows + 0.6), squeeze=False
        )
        for ax in axes.ravel()[len(groups) :]:
            ax.set_visible(False)
        for ax, group in zip(axes.ravel(), groups):
            part = obs[obs["group"] == group].sort_values("date")
            _series_bands(ax, cal, ensemble, part, group, span)
            _series_points(ax, part, _later(part, until))
            if until is not None:
                ax.axvline(pd.Timestamp(f"{until + 1}-01-01"), color="k", lw=1.0)
            _events(ax, span, numbers, catalog)
            _series_frame(ax, part, group, span)
        _events_key(fig, numbers, catalog)
        fig.tight_layout()
    return fig


def _series_bands(
    ax,
    cal: Calibration,
    ensemble: Result | None,
    part: pd.DataFrame,
    group: str,
    span: pd.DatetimeIndex,
) -> None:
    """The index bands (``ensemble``) or the replay's median, in the units of the series
    ``group`` (``part``), mapped forward through its fitted equation.
    """
    key = part["key"].iloc[0]
    fam = part["family"].iloc[0]
    name = part["indicator"].iloc[0]
    colour = index_color(name)
    source = ensemble if ensemble is not None else cal.replay
    q = source.quantiles[source.quantiles["indicator"] == name]
    q = q[(q["date"] >= span[0]) & (q["date"] <= span[1])]
    sign = float(part["sign"].iloc[0])

    def forward(v):
        eta = (
            cal.fit.offsets[group]
            + sign * cal.fit.slopes[key] * (np.asarray(v, float) - CENTRE)
            + cal.fit.trends.get(key, 0.0) * decades(q["date"])
        )
        return _to_units(eta, fam)

    if ensemble is not None:
        for low, high, alpha in (("q05", "q95", 0.15), ("q25", "q75", 0.3)):
            lo, hi = forward(q[low]), forward(q[high])
            ax.fill_between(
                q["date"], np.minimum(lo, hi), np.maximum(lo, hi), color=colour, alpha=alpha, lw=0
            )
    ax.plot(q["date"], forward(q["q50"]), color=colour, lw=1.1)


def _series_points(ax, part: pd.DataFrame, later: np.ndarray) -> None:
    """The series' observations in its units, a marker per frequency, hollow where ``later``."""
    shown = _observed_units(part, part["family"].iloc[0])
    for freq, m in (("annual", "o"), ("periodic", "s")):
        for hollow in (False, True):
            sel = ((part["frequency"] == freq).to_numpy()) & (later == hollow)
            if sel.any():
                ax.scatter(
                    part["date"].to_numpy()[sel],
                    shown[sel],
                    marker=m,
                    s=20,
                    zorder=3,
                    facecolors="none" if hollow else "k",
                    edgecolors="k",
                    linewidths=0.9,
                    label=freq if not hollow else f"{freq}, scored",
                )


def _series_frame(ax, part: pd.DataFrame, group: str, span: pd.DatetimeIndex) -> None:
    """A series panel's title, units, time span (a plain log scale for log series) and legend."""
    fam = part["family"].iloc[0]
    ax.set_title(_wrap(group.replace("|", " | "), 60), loc="left", fontsize=MIN_FONT, pad=18)
    ax.set_ylabel(_units_label(part, fam), fontsize=MIN_FONT)
    ax.set_xlim(span[0], span[1])
    if fam == "log":
        from matplotlib.ticker import FuncFormatter

        ax.set_yscale("log")
        plain = FuncFormatter(lambda v, _: f"{v:g}")
        ax.yaxis.set_major_formatter(plain)
        ax.yaxis.set_minor_formatter(plain)
        ax.tick_params(axis="y", which="minor", labelsize=MIN_FONT)
    ax.legend(fontsize=MIN_FONT, loc="best")


def _to_units(eta: np.ndarray, family: str) -> np.ndarray:
    eta = np.asarray(eta, float)
    if family == "log":
        return np.exp(eta)
    if family == "logit":
        return 100.0 / (1.0 + np.exp(-eta))
    if family == "count":
        return np.exp(eta)
    return 1.0 / (1.0 + np.exp(-eta))


def _observed_units(part: pd.DataFrame, family: str) -> np.ndarray:
    y = part["y"].to_numpy(float)
    if family == "log":
        return np.exp(y)
    if family == "logit":
        return part["value"].to_numpy(float)
    if family == "count":
        return y / part["exposure"].to_numpy(float)
    return y


def _units_label(part: pd.DataFrame, family: str) -> str:
    unit = str(part["unit"].iloc[0])
    if family == "log":
        return (
            "USD bn a year"
            if unit.lower().startswith("usd")
            else unit.split(" (")[0] + " a year"
            if unit.lower().startswith("bcm")
            else unit.split(" (")[0]
        )
    if family == "count":
        return "per year"
    if family == "binary":
        return "held / any (0-1)"
    return "% of adults"


def _wrap(text: str, width: int) -> str:
    import textwrap

    return "\n".join(textwrap.wrap(text, width))
