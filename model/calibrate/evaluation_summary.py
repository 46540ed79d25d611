"""What the evaluation's tables say, in the forms people read: fans, the series left out, a summary.

This module owns the views of an :class:`~.evaluate.Evaluation` that are not
scores: :func:`predictions_table` (the predictive quantiles of every scored
forecast), :func:`left_out` (the observed series and rows the evaluation
does not forecast, and why), :func:`summary` (one screen of text: skill
by measurement key at horizons 1 and 3, the best and worst series) and
:func:`report_evaluation` (the Markdown tables: skill by key and by series,
coverage, what is left out).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd

from .baselines import METHODS
from .evaluation_table import Prediction

if TYPE_CHECKING:
    from .evaluate import Evaluation
    from .observations import Observations

__all__ = [
    "LEFT_OUT_COLUMNS",
    "PREDICTION_COLUMNS",
    "coverage_table",
    "left_out",
    "predictions_table",
    "report_evaluation",
    "series_overview",
    "skill_overview",
    "summary",
    "summary_table",
]

_QUANTILES: Final[tuple[float, ...]] = (0.05, 0.25, 0.5, 0.75, 0.95)
#: The columns of :func:`predictions_table`, in order.
PREDICTION_COLUMNS: Final[tuple[str, ...]] = (
    "index",
    "key",
    "series",
    "origin",
    "horizon",
    "year",
    "mode",
    "method",
    "q05",
    "q25",
    "q50",
    "q75",
    "q95",
    "obs",
)
#: The columns of :func:`left_out`, in order.
LEFT_OUT_COLUMNS: Final[tuple[str, ...]] = ("series", "key", "frequency", "n", "reason")
#: Horizons of the summary's table.
SUMMARY_HORIZONS: Final[tuple[int, ...]] = (1, 3)


def predictions_table(predictions: Sequence[Prediction], pools: Mapping[str, str]) -> pd.DataFrame:
    """The quantiles 5, 25, 50, 75 and 95 % of every prediction, with its observation.

    Columns :data:`PREDICTION_COLUMNS`; ``key`` comes from ``pools`` (series -> key).
    """
    if not predictions:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in PREDICTION_COLUMNS})
    blocks: dict[int, list[Prediction]] = {}
    for p in predictions:
        blocks.setdefault(p.samples.size, []).append(p)
    frames = []
    for block in blocks.values():
        q = np.quantile(np.column_stack([p.samples for p in block]), _QUANTILES, axis=0)
        frame = pd.DataFrame(
            {
                "index": [p.index for p in block],
                "key": [pools.get(p.series, "") for p in block],
                "series": [p.series for p in block],
                "origin": [p.origin for p in block],
                "horizon": [p.horizon for p in block],
                "year": [p.origin + p.horizon for p in block],
                "mode": [p.mode for p in block],
                "method": [p.method for p in block],
            }
        )
        for name, row in zip(PREDICTION_COLUMNS[8:13], q, strict=True):
            frame[name] = row
        frame["obs"] = [p.obs for p in block]
        frames.append(frame)
    keys = ["index", "series", "origin", "horizon", "mode", "method"]
    return pd.concat(frames, ignore_index=True).sort_values(keys, ignore_index=True)


def left_out(obs: Observations, scores: pd.DataFrame) -> pd.DataFrame:
    """The series (measurement groups) and rows the evaluation forecasts for no method, and why.

    Columns :data:`LEFT_OUT_COLUMNS`: one row per series and frequency.
    """
    scored = set(scores["series"])
    rows = []
    groups = obs.frame.groupby(["group", "key", "frequency"], sort=True)
    for (group, key, frequency), g in groups:
        if frequency != "annual":
            reason = (
                "monthly or year-to-date figures: no yearly history for a baseline and no "
                "year of their own to forecast (they enter the model's fit)"
            )
        elif group in scored:
            continue
        else:
            years = ", ".join(str(y) for y in sorted(set(g["year"])))
            reason = (
                f"annual values in {years} only: none at an origin with one within the horizons"
            )
        rows.append((group, key, frequency, len(g), reason))
    return pd.DataFrame(rows, columns=list(LEFT_OUT_COLUMNS))


def _cell(pooled: pd.DataFrame, key: str, mode: str, baseline: str) -> str:
    """``"+0.12 / -0.30"``: the skill at the summary horizons (``--`` where none was paired)."""
    g = pooled[(pooled["key"] == key) & (pooled["mode"] == mode) & (pooled["baseline"] == baseline)]
    by_h = dict(zip(g["horizon"], g["skill"].astype(float)))
    return " / ".join(
        f"{by_h[h]:+.2f}" if h in by_h and np.isfinite(by_h[h]) else "  -- "
        for h in SUMMARY_HORIZONS
    )


def _key_table(ev: Evaluation, modes: Sequence[str]) -> list[str]:
    """Skill by key and mode against every baseline, at the summary horizons."""
    pooled = ev.pooled[ev.pooled["horizon"].isin(SUMMARY_HORIZONS)]
    if pooled.empty:
        return ["  no forecast of the model was paired with a baseline"]
    bases = list(dict.fromkeys(pooled["baseline"]))
    lines = [f"  {'key':<16}{'mode':<14}" + "".join(f"{b:>16}" for b in bases)]
    for key in sorted(set(pooled["key"])):
        for mode in modes:
            cells = [_cell(pooled, key, mode, b) for b in bases]
            lines.append(f"  {key:<16}{mode:<14}" + "".join(f"{c:>16}" for c in cells))
    return lines


def _ranked(ev: Evaluation, baseline: str, mode: str) -> pd.Series:
    """Series by their mean skill against ``baseline`` over the summary horizons (3+ forecasts)."""
    s = ev.skill[
        (ev.skill["baseline"] == baseline)
        & (ev.skill["mode"] == mode)
        & ev.skill["horizon"].isin(SUMMARY_HORIZONS)
    ]
    s = s[np.isfinite(s["skill"].astype(float))]
    n = s.groupby("series")["n"].sum()
    weighted = (s["skill"].astype(float) * s["n"]).groupby(s["series"]).sum()
    mean = weighted[n >= 3] / n[n >= 3]
    return mean.sort_values(ascending=False, kind="stable")


def _best_worst(ev: Evaluation, baseline: str, mode: str, k: int = 3) -> list[str]:
    ranked = _ranked(ev, baseline, mode)
    if ranked.empty:
        return [f"  {mode:<14}no series with 3 or more forecasts paired"]
    best = ", ".join(f"{s} {v:+.2f}" for s, v in ranked.head(k).items())
    worst = ", ".join(f"{s} {v:+.2f}" for s, v in ranked.tail(k).iloc[::-1].items())
    return [f"  {mode:<14}best:  {best}", f"  {'':<14}worst: {worst}"]


def _span(values: Sequence[int]) -> str:
    """``2005-2019`` for a run of consecutive years, ``2008, 2012`` otherwise."""
    v = sorted(values)
    if len(v) > 1 and v == list(range(v[0], v[-1] + 1)):
        return f"{v[0]}-{v[-1]}"
    return ", ".join(map(str, v))


def summary(ev: Evaluation, baseline: str = "persistence") -> str:
    """One screen: what was run, skill by key at horizons 1 and 3, the best and worst series.

    The best and worst series are ranked by their skill against ``baseline``.
    """
    st = ev.settings
    origins, hs, modes = st.get("origins", []), st.get("horizons", []), st.get("modes", [])
    counts = ev.scores.groupby("method").size()
    order = ["model", *METHODS]
    methods = [m for m in order if m in counts.index] + sorted(set(counts.index) - set(order))
    head = (
        f"rolling-origin evaluation: origins {_span(origins)}, horizons {_span(hs)}, "
        f"modes {', '.join(modes)}"
    )
    horizons = " / ".join(str(h) for h in SUMMARY_HORIZONS)
    return "\n".join(
        [
            head,
            (
                f"forecasts scored: {', '.join(f'{m} {counts.get(m, 0)}' for m in methods)}; "
                f"{ev.scores['series'].nunique()} series forecast, {len(ev.left_out)} left out"
            ),
            "",
            (
                f"skill of the model, 1 - CRPS(model) / CRPS(baseline), at horizons {horizons} "
                "(> 0: the model is better):"
            ),
            *_key_table(ev, modes),
            "",
            f"series by skill against {baseline}, horizons {horizons} (3 or more forecasts):",
            *(line for mode in modes for line in _best_worst(ev, baseline, mode)),
        ]
    )


# --------------------------------------------------------------------------- the Markdown report


def _skill_cell(skill: float, pvalue: float, n: int) -> str:
    """``+0.27* (5)``: the skill, a star where Diebold–Mariano gives p < 0.05, the forecasts."""
    if not np.isfinite(skill):
        return f"– ({n})"
    star = "*" if np.isfinite(pvalue) and pvalue < 0.05 else ""
    return f"{skill:+.2f}{star} ({n})"


def skill_overview(ev: Evaluation) -> pd.DataFrame:
    """Pooled skill as a wide table: a row per key, mode and baseline, a column per horizon."""
    p = ev.pooled
    rows = []
    modes = ev.settings.get("modes", sorted(set(p["mode"])))
    for (key, base), g in p.groupby(["key", "baseline"], sort=False):
        for mode in modes:
            m = g[g["mode"] == mode].set_index("horizon")
            cells = {
                f"h={h}": _skill_cell(m.loc[h, "skill"], m.loc[h, "dm_pvalue"], m.loc[h, "n"])
                if h in m.index
                else ""
                for h in ev.settings.get("horizons", sorted(set(p["horizon"])))
            }
            rows.append({"key": key, "mode": mode, "baseline": base, **cells})
    return pd.DataFrame(rows)


def coverage_table(ev: Evaluation) -> pd.DataFrame:
    """Per key, mode and method over all horizons: forecasts, mean CRPS, 50 % and 90 % coverage."""
    pools = dict(zip(ev.history["series"], ev.history["key"]))
    s = ev.scores.assign(key=ev.scores["series"].map(pools))
    g = s.groupby(["key", "mode", "method"], sort=True)
    table = g.agg(
        n=("crps", "size"),
        crps=("crps", "mean"),
        covered50=("covered50", "mean"),
        covered90=("covered90", "mean"),
    ).reset_index()
    order = {m: i for i, m in enumerate(["model", *METHODS, *ev.settings.get("modes", [])])}
    table = table.sort_values(
        ["key", "mode", "method"], key=lambda c: c if c.name == "key" else c.map(order)
    ).reset_index(drop=True)
    return table.round({"crps": 3, "covered50": 2, "covered90": 2})


def series_overview(ev: Evaluation, baseline: str = "persistence") -> pd.DataFrame:
    """Per series, skill against ``baseline`` at horizons 1, 3 and 5 in each mode."""
    s = ev.skill[ev.skill["baseline"] == baseline]
    pools = dict(zip(ev.history["series"], ev.history["key"]))
    rows = []
    for series, g in s.groupby("series", sort=False):
        row = {"series": series, "key": pools.get(str(series), "")}
        for mode in ev.settings.get("modes", sorted(set(s["mode"]))):
            m = g[g["mode"] == mode].set_index("horizon")
            for h in (1, 3, 5):
                row[f"{mode} h={h}"] = (
                    _skill_cell(m.loc[h, "skill"], m.loc[h, "dm_pvalue"], m.loc[h, "n"])
                    if h in m.index
                    else ""
                )
        rows.append(row)
    return pd.DataFrame(rows).sort_values(["key", "series"], ignore_index=True)


def summary_table(ev: Evaluation, horizons: Sequence[int] = (1, 3, 5)) -> pd.DataFrame:
    """Per key and mode: the model's forecasts and coverage, and its skill against each baseline.

    A column per baseline holds the pooled skill at ``horizons`` (``"+0.21 / +0.69 / +0.37"``,
    ``--`` where none was paired); ``cover50`` and ``cover90`` are the shares of the
    observations inside the model's central 50 % and 90 % intervals, over every horizon.
    """
    cover = coverage_table(ev)
    cover = cover[cover["method"] == "model"].set_index(["key", "mode"])
    pooled = ev.pooled
    bases = [b for b in METHODS if b in set(pooled["baseline"])]
    rows = []
    for key, mode in cover.index:
        row: dict[str, Any] = {
            "key": key,
            "mode": mode,
            "forecasts": int(cover.loc[(key, mode), "n"]),
        }
        for b in bases:
            g = pooled[
                (pooled["key"] == key) & (pooled["mode"] == mode) & (pooled["baseline"] == b)
            ]
            by_h = dict(zip(g["horizon"], g["skill"].astype(float)))
            row[b] = " / ".join(
                f"{by_h[h]:+.2f}" if h in by_h and np.isfinite(by_h[h]) else "--" for h in horizons
            )
        row["cover50"] = cover.loc[(key, mode), "covered50"]
        row["cover90"] = cover.loc[(key, mode), "covered90"]
        rows.append(row)
    return pd.DataFrame(rows)


def report_evaluation(ev: Evaluation, command: str = "") -> str:
    """The evaluation as Markdown: the settings, skill by key and by series, coverage, left out."""
    from .report import _markdown as markdown

    st = ev.settings
    head = [
        "# Rolling-origin evaluation",
        "",
        *([f"`{command}`", ""] if command else []),
        (
            f"Origins {', '.join(map(str, st.get('origins', [])))}; horizons "
            f"{', '.join(map(str, st.get('horizons', [])))} years; modes "
            f"{', '.join(st.get('modes', []))}; {st.get('replicates')} replicates x "
            f"{st.get('draws')} draws of the measurement noise per forecast; seed {st.get('seed')}."
        ),
        "",
        (
            "Skill is 1 - CRPS(model) / CRPS(baseline) over the forecasts both made (> 0: the "
            "model is better); in brackets the number of forecasts; * where the Diebold-Mariano "
            "test (small-sample corrected, on the mean loss difference of each origin) gives "
            "p < 0.05."
        ),
    ]
    return "\n".join(
        [
            *head,
            "",
            "## Summary: skill at horizons 1 / 3 / 5, the model's coverage over all horizons",
            "",
            markdown(summary_table(ev)),
            "",
            "## Skill by index and family",
            "",
            markdown(skill_overview(ev)),
            "",
            "## Skill by series, against persistence",
            "",
            markdown(series_overview(ev)),
            "",
            "## Coverage and CRPS (every forecast each method made, all horizons)",
            "",
            markdown(coverage_table(ev)),
            "",
            "## Not forecast",
            "",
            markdown(ev.left_out),
            "",
        ]
    )
