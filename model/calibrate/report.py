"""Reports of a calibration or a hindcast: tables in Markdown, checks against the record.

:func:`report_calibration` and :func:`report_hindcast` write the Markdown
reports that ``relsim calibrate`` and ``relsim hindcast`` save (and that
``docs/VALIDATION.md`` shows); :func:`big_moves` and :func:`proxies_by_year`
hold the model against the big moves of trade and the proxies by year.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from ..results import Result
from .fit import Calibration
from .hindcast import Hindcast

__all__ = [
    "BIG_MOVES",
    "annual_index",
    "big_moves",
    "proxies_by_year",
    "report_calibration",
    "report_hindcast",
    "score_table",
]


#: The big moves of trade the model should reproduce: (label, first year, second year).
BIG_MOVES: tuple[tuple[str, int, int], ...] = (
    ("2009 dip", 2008, 2009),
    ("2015-16 collapse", 2014, 2016),
    ("recovery after 2017", 2016, 2019),
    ("2022 surge", 2021, 2022),
)


def annual_index(result: Result) -> pd.DataFrame:
    """Yearly means of the median (one column per index) of a result."""
    q = result.quantiles
    return q.assign(year=pd.DatetimeIndex(q["date"]).year).pivot_table(
        index="year", columns="indicator", values="q50", aggfunc="mean"
    )[list(result.indicators)]


def big_moves(
    cal: Calibration, moves: Sequence[tuple[str, int, int]] = BIG_MOVES, indicator: str = "trade"
) -> pd.DataFrame:
    """Observed and modelled log changes of each series (one basis each) over the ``moves``.

    For every series of ``indicator``'s ``log`` key observed in both years (an
    annual value, else the longest span in that year, annualised): the
    observed change of the log value, and the modelled one, ``slope x change
    of the index's yearly mean``. A move no series covers gets one row saying so.
    """
    key = f"{indicator}:log"
    slope = cal.fit.slopes.get(key, np.nan)
    years = annual_index(cal.replay)[indicator]
    f = cal.residuals[cal.residuals["key"] == key].copy()
    f["span"] = f["period"].astype(str).str.len()
    rows: list[tuple] = []
    for label, y1, y2 in moves:
        dx = float(years.get(y2, np.nan) - years.get(y1, np.nan))
        found = _move_rows(f, label, y1, y2, slope * dx, dx)
        rows += found or [
            (
                label,
                "(no series observed in both years)",
                f"{y1} -> {y2}",
                np.nan,
                slope * dx,
                dx,
                np.nan,
            )
        ]
    return pd.DataFrame(
        rows,
        columns=["move", "series", "periods", "observed", "modelled", "index_change", "same_sign"],
    )


def _move_rows(
    f: pd.DataFrame, label: str, y1: int, y2: int, modelled: float, dx: float
) -> list[tuple]:
    """One row per series of ``f`` observed in both years: its observed and modelled change."""
    rows: list[tuple] = []
    for group, g in f.groupby("group", sort=True):
        pick = _pick(g, (y1, y2))
        if len(pick) < 2:
            continue
        obs = float(pick[y2]["y"] - pick[y1]["y"])
        periods = f"{pick[y1]['period']} -> {pick[y2]['period']}"
        rows.append(
            (label, group, periods, obs, modelled, dx, bool(np.sign(obs) == np.sign(modelled)))
        )
    return rows


def _pick(g: pd.DataFrame, years: tuple[int, int]) -> dict[int, pd.Series]:
    """The observation of a series that stands for each year it was observed in."""
    pick = {}
    for y in years:
        gy = g[g["year"] == y]
        if len(gy):
            gy = gy.sort_values(["frequency", "span"], ascending=[True, True])  # annual first
            pick[y] = gy.iloc[0]
    return pick


def proxies_by_year(
    cal: Calibration, indicator: str, series: Sequence[str], years: Sequence[int] | None = None
) -> pd.DataFrame:
    """The index's yearly mean (replay) beside the published values of ``series``, by year."""
    idx = annual_index(cal.replay)[indicator].rename(f"{indicator} index")
    f = cal.obs.frame
    f = f[f["series"].isin(series)]
    table = f.pivot_table(index="year", columns="series", values="value", aggfunc="mean")
    out = pd.concat([idx, table[[s for s in series if s in table.columns]]], axis=1)
    if years is not None:
        out = out.loc[[y for y in years if y in out.index]]
    return out.rename_axis("year")


# --------------------------------------------------------------------------- reports


def score_table(scores: pd.DataFrame, level: str | None = None, min_n: int = 1) -> pd.DataFrame:
    """The scores rounded for reading; ``level``: ``"key"`` or ``"series"``; ``n >= min_n`` only."""
    s = scores if level is None else scores[scores["level"] == level]
    s = s[s["n"] >= min_n]
    cols = [
        "name",
        "n",
        "rmse",
        "rmse_start",
        "rmse_persistence",
        "corr",
        "direction",
        "n_direction",
        "cover50",
        "cover90",
        "crps",
    ]
    return (
        s[cols]
        .round(
            {
                "rmse": 3,
                "rmse_start": 3,
                "rmse_persistence": 3,
                "corr": 2,
                "direction": 2,
                "cover50": 2,
                "cover90": 2,
                "crps": 3,
            }
        )
        .reset_index(drop=True)
    )


def _markdown(frame: pd.DataFrame) -> str:
    cols = list(frame.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in frame.itertuples(index=False):
        cells = []
        for v in row:
            if isinstance(v, (bool, np.bool_)):
                cells.append("yes" if v else "")
            elif isinstance(v, (float, np.floating)):
                cells.append(_cell(float(v)))
            else:
                code = isinstance(v, str) and any(c in v for c in ":|_.") and " " not in v
                cells.append(f"`{v}`" if code else str(v))
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def _cell(v: float) -> str:
    """A number for a table: 4 significant digits, whole numbers plain, round-off zeros as 0."""
    if not np.isfinite(v):
        return ""
    if abs(v) < 1e-9:
        return "0"
    if v.is_integer() and abs(v) < 1e6:
        return str(int(v))
    if abs(v) >= 1000:
        return f"{v:,.0f}"
    return f"{v:.4g}"


def report_calibration(cal: Calibration, command: str = "") -> str:
    """Markdown tables of a calibration (the ones docs/VALIDATION.md shows)."""
    out = _calibration_header(cal, command)
    out += _estimate_sections(cal)
    out += _measurement_sections(cal)
    out += _residual_sections(cal)
    out += _record_sections(cal)
    return "\n".join(out)


def _calibration_header(cal: Calibration, command: str) -> list[str]:
    """The title, the command, the fit in one line and the parameters held."""
    out = [f"# Calibration of `{cal.base.name}`", ""]
    if command:
        out += [f"`{command}`", ""]
    out += [
        (
            f"{len(cal.residuals)} observations, "
            f"{cal.residuals['year'].min()}–{cal.residuals['year'].max()}; "
            f"log-likelihood {cal.info.get('loglik', float('nan')):.1f}; "
            f"dispersion {cal.info.get('dispersion', 1):.2f}; "
            f"{cal.info.get('evaluations', 0)} model runs; optimiser: {cal.info.get('message', '')}"
        ),
        "",
    ]
    if cal.info.get("held"):
        out += [
            "Not fitted (the event comes after the last observation; the scenario's value kept): "
            + ", ".join(f"`{h}`" for h in cal.info["held"]),
            "",
        ]
    return out


def _estimate_sections(cal: Calibration) -> list[str]:
    """The model parameters' estimates and their correlations (none if nothing was fitted)."""
    if not len(cal.estimates):
        return []
    return [
        "## Model parameters",
        "",
        _markdown(cal.estimates),
        "",
        "## Correlation of the estimates",
        "",
        _markdown(cal.correlation.round(2).reset_index().rename(columns={"index": "parameter"})),
        "",
    ]


def _measurement_sections(cal: Calibration) -> list[str]:
    """The measurement slopes and trends, and the noise."""
    slopes = cal.measurement[cal.measurement["parameter"].str.startswith(("slope:", "trend:"))]
    return [
        "## Measurement slopes and trends",
        "",
        _markdown(slopes.drop(columns="key")),
        "",
        "## Noise",
        "",
        _markdown(cal.noise),
        "",
    ]


def _residual_sections(cal: Calibration) -> list[str]:
    """The residuals by series and the largest residuals."""
    res = cal.residuals.assign(r2=cal.residuals["residual"] ** 2)
    by_series = res.groupby(["indicator", "family", "group"], as_index=False).agg(
        n=("residual", "size"),
        rms_residual=("r2", lambda v: float(np.sqrt(v.mean()))),
        first=("year", "min"),
        last=("year", "max"),
    )
    single = int((by_series["n"] == 1).sum())
    by_series = by_series[by_series["n"] > 1]
    big = res.reindex(res["residual"].abs().sort_values(ascending=False).index).head(12)
    return [
        "## Residuals by series (standardised or deviance)",
        "",
        (
            "Root mean square of the residuals of each series with two or more values "
            f"({single} series "
            "with a single value fit exactly: their offset absorbs it)."
        ),
        "",
        _markdown(by_series),
        "",
        "## Largest residuals",
        "",
        _markdown(big[["period", "group", "value", "unit", "x", "fitted", "residual"]]),
        "",
    ]


def _record_sections(cal: Calibration) -> list[str]:
    """The checks against the record: big moves of trade, the proxies of security and west."""
    out: list[str] = []
    if "trade:log" in cal.fit.slopes:
        out += ["## Big moves of trade (log changes)", "", _markdown(big_moves(cal)), ""]
    if "security" in cal.scenario.indicators:
        sec = proxies_by_year(cal, "security", _SECURITY_PROXIES, range(2013, 2025))
        out += [
            "## Security index and its proxies by year",
            "",
            _markdown(_short(sec).reset_index()),
            "",
        ]
    if "west" in cal.scenario.indicators:
        west = proxies_by_year(cal, "west", _WEST_PROXIES)
        out += [
            "## West index and survey items by year",
            "",
            _markdown(_short(west).reset_index()),
            "",
        ]
    return out


_SECURITY_PROXIES = (
    "RU_putin_erdogan_inperson_meetings_count",
    "RU_putin_erdogan_phone_calls_count",
    "RU_hlcc_meeting_held",
    "RU_sipri_tiv_imports_from_russia",
    "RU_pew_russia_favorable_pct",
)
_WEST_PROXIES = (
    "WEST_pew_us_favorable_pct",
    "WEST_pew_eu_favorable_pct",
    "WEST_gmf_eu_membership_good_thing_pct",
    "WEST_gmf_nato_essential_pct",
    "WEST_khas_fp_us_seen_as_threat_pct",
)


def _short(table: pd.DataFrame) -> pd.DataFrame:
    """Shorter column names for a by-year table."""
    return table.rename(
        columns=lambda c: (
            c.replace("RU_", "")
            .replace("WEST_", "")
            .replace("putin_erdogan_", "")
            .replace("_pct", " %")
        )
    ).round(1)


def report_hindcast(hc: Hindcast, command: str = "") -> str:
    out = [f"# Hindcast of `{hc.calibration.base.name}`: fitted up to {hc.until}, scored after", ""]
    if command:
        out += [f"`{command}`", ""]
    if len(hc.calibration.estimates):
        out += ["## Estimates on the early years", "", _markdown(hc.calibration.estimates), ""]
    out += [
        "## Scores by index and family",
        "",
        _markdown(score_table(hc.scores, "key")),
        "",
        "## Scores by series (two or more scored values)",
        "",
        _markdown(score_table(hc.scores, "series", 2)),
        "",
    ]
    if len(hc.unscored):
        out += ["## Not scored (no observation up to the cut-off)", "", _markdown(hc.unscored), ""]
    return "\n".join(out)
