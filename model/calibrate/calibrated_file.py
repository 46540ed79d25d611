"""The calibrated scenario file: the fitted model parameters as settings over the parent scenario.

:func:`calibrated_toml` writes what ``relsim calibrate`` saves as
``calibrated.toml`` (or ``--toml``): a scenario that ``extends`` the fitted
one and sets each fitted model parameter, with its standard error, interval
and the parent's value in a comment; with ``uncertain`` each estimate is a
lognormal around it (:func:`uncertain_values`), so that an ensemble of the
file draws one parameter set per replicate. :func:`with_calibrated_parameters`
lays the shipped ``calibrated-uncertain.toml``'s parameters over any scenario
(``relsim run --parameters calibrated``).
"""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np

from .fit import _fmt

if TYPE_CHECKING:
    from ..scenario import Scenario
    from .fit import Calibration

__all__ = [
    "PARAMETER_SCENARIO",
    "calibrated_toml",
    "uncertain_values",
    "with_calibrated_parameters",
]


def calibrated_toml(
    cal: Calibration,
    extends: str,
    name: str | None = None,
    command: str | None = None,
    uncertain: bool = False,
) -> str:
    """A scenario file that ``extends`` the fitted scenario's file and sets the estimates.

    The file holds only the fitted model parameters, each with its standard
    error and the parent scenario's value it replaces in a comment; everything else
    comes from the parent. (The measurement parameters are not scenario
    settings: see ``measurement``.) ``uncertain`` writes each estimate as a
    lognormal distribution (:func:`uncertain_values`), so that an ensemble
    of the file draws one parameter set per replicate.
    """
    name = name or f"{cal.base.name}-calibrated"
    lines = _header(cal, command) + [
        f"name = {_toml_str(name)}",
        f"description = {_toml_str(_description(cal))}",
        f"extends = {_toml_str(extends)}",
    ]
    return "\n".join(lines + _settings(cal, uncertain)) + "\n"


def uncertain_values(cal: Calibration) -> dict[str, tuple[float, float]]:
    """Per fitted parameter, the lognormal ``(median, sigma)`` of its estimate.

    ``sigma`` is the standard error on the log scale: the search scale's
    for a half-life (searched on the log scale), ``se / estimate`` (the
    delta method) for the others, from ``info["covariance"]``. The
    correlations between parameters are not kept.
    """
    cov = cal.info.get("covariance")
    est = cal.estimates[cal.estimates["fitted"]].set_index("parameter")
    out: dict[str, tuple[float, float]] = {}
    for p in cal.params:
        value = float(est.loc[p.name, "estimate"])
        var = float(cov.loc[p.name, p.name]) if cov is not None else float("nan")
        sd = math.sqrt(max(var, 0.0))
        out[p.name] = (value, sd if p.log else sd / max(abs(value), 1e-9))
    return out


def _header(cal: Calibration, command: str | None) -> list[str]:
    """The comments that open the file: the data fitted, the command, how to read it."""
    years = cal.residuals["year"]
    lines = [
        (
            "# Model parameters fitted to the observed data in model/data/observed/ "
            f"({len(cal.residuals)}"
        ),
        f"# values, {years.min()}-{years.max()}"
        + (f", up to {cal.until}" if cal.until else "")
        + "); docs/VALIDATION.md describes the fit.",
    ]
    if command:
        lines.append(f"# Written by: {command}")
    return lines + [
        "# Each value carries its standard error and the parent scenario's value it replaces.",
        "# Every parameter not set here keeps the parent scenario's value.",
    ]


def _settings(cal: Calibration, uncertain: bool = False) -> list[str]:
    """The estimates as settings: the top-level ones, then one table per section."""
    tables: dict[str, list[str]] = {}
    top: list[str] = []
    spread = uncertain_values(cal) if uncertain else {}
    for row, p in zip(cal.estimates[cal.estimates["fitted"]].itertuples(index=False), cal.params):
        value = _fmt(row.estimate)
        if p.name in spread and np.isfinite(spread[p.name][1]) and spread[p.name][1] > 0:
            median, sigma = spread[p.name]
            value = f'{{ dist = "lognormal", median = {_fmt(median)}, sigma = {_fmt(sigma)} }}'
        if len(p.path) == 1:
            top.append(f"{p.path[0]} = {value}{_toml_note(row)}")
            continue
        table = ".".join(p.path[:-1])
        key = p.path[-1] if p.path[-1].isidentifier() else _toml_str(p.path[-1])
        tables.setdefault(table, []).append(f"{key} = {value}{_toml_note(row)}")
    lines = top
    for table, rows in tables.items():
        lines += ["", f"[{table}]"] + rows
    return lines


def _description(cal: Calibration) -> str:
    fitted = ", ".join(p.name for p in cal.params) or "no model parameter"
    return (
        f"{cal.base.name} with {fitted} fitted to the observed trade, gas and proxy series "
        f"({'all years' if cal.until is None else f'up to {cal.until}'}); "
        "all other values as in the parent scenario."
    )


def _toml_note(row: Any) -> str:
    """The comment after an estimate: its standard error, interval, parent value and flags."""
    return (
        f"  # s.e. {_fmt(row.se)}, 95% interval {_fmt(row.ci_low)}-{_fmt(row.ci_high)}; "
        f"parent {_fmt(row.start)}"
        + ("; at a bound of the search" if row.at_bound else "")
        + ("; weakly identified" if row.weak and not row.at_bound else "")
    )


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


#: The shipped scenario whose uncertain parameters ``--parameters calibrated`` lays over a run.
PARAMETER_SCENARIO = "calibrated-uncertain"


def with_calibrated_parameters(scenario: Scenario, source: str = PARAMETER_SCENARIO) -> Scenario:
    """``scenario`` with the fitted parameters of the shipped ``source`` and their uncertainty.

    The settings ``source`` makes (the fitted model parameters, each a
    lognormal; see :func:`calibrated_toml`) replace the scenario's; an event
    scale of an event the scenario does not run is skipped. An ensemble of the
    result draws one parameter set per replicate.
    """
    from ..scenario import scenario_from_dict
    from ..scenario.loading import read_shipped

    raw = read_shipped(source)
    data = scenario.to_dict()
    for index, spec in raw.get("indices", {}).items():
        data.setdefault("indices", {}).setdefault(index, {}).update(spec)
    running = {e.id for e in scenario.timeline()}
    scales = {k: v for k, v in raw.get("events", {}).get("scale", {}).items() if k in running}
    data.setdefault("events", {}).setdefault("scale", {}).update(scales)
    for key in ("damping", "spillover"):
        if key in raw:
            data[key] = raw[key]
    return scenario_from_dict(data, file=f"{scenario.name} with the parameters of {source}")
