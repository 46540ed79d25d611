"""Calibration and hindcasts: the model held against the observed data.

:func:`calibrate` fits chosen model parameters (half-lives, baselines, initial
levels, spill-overs, event scales, damping) together with the measurement
parameters of :mod:`model.measurement` to the observed series. The model runs
once per evaluation without noise (one deterministic replay, ``run.noise =
false``); the measurement parameters are solved for given that replay, so the
optimiser (``scipy.optimize.least_squares`` with bounds) only moves the model
parameters. Standard errors come from the Jacobian of all parameters
together (Gauss–Newton / Fisher information).

:func:`hindcast` fits on the observations up to a year and scores the
observations after it: per series RMSE, correlation, direction of change,
and, from an ensemble with noise, the coverage of the 50 % and 90 %
predictive intervals and the CRPS.

``relsim calibrate`` and ``relsim hindcast`` (:func:`add_commands`) are the
command-line front ends. ``docs/VALIDATION.md`` describes the method and
reports the results.
"""

from __future__ import annotations

import copy
import difflib
import math
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import model
from model.errors import ScenarioError
from model.measurement import (
    FAMILIES,
    GAUSSIAN,
    TREND_KEYS,
    Fit,
    Measurement,
    Observations,
    averaging_matrix,
    crps_sample,
    point_prediction,
    predictive_draws,
    prepare,
)

__all__ = [
    "BIG_MOVES",
    "DEFAULT_FIT",
    "Calibration",
    "Hindcast",
    "Param",
    "add_commands",
    "big_moves",
    "calibrate",
    "hindcast",
    "parse_params",
    "proxies_by_year",
]

#: The parameters ``relsim calibrate`` fits unless told otherwise: the trade block, which the
#: data speak to. Fitting the security and west half-lives or their events' scales gives
#: estimates at the bounds with very wide intervals (docs/VALIDATION.md, *Calibration*).
DEFAULT_FIT: tuple[str, ...] = (
    "indices.trade.half_life",
    "events.scale.russian-sanctions-2015",
    "events.scale.ukraine-war-trade-2022",
)

_INDEX_ATTRS = {"half_life": (0.1, 30.0), "baseline": (1.0, 99.0), "initial": (1.0, 99.0)}
_BOUNDS = {"spillover": (0.0, 1.0), "scale": (0.0, 5.0), "damping": (0.0, 1.0)}
#: Last day of the observed data the fits use.
DATA_END = "2024-12-31"


# --------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class Param:
    """One model parameter to fit: its place in the scenario and its bounds."""

    name: str  # indices.trade.half_life, spillover.trade.security, events.scale.<id>, damping
    path: tuple[str, ...]  # keys in the scenario dict
    lower: float
    upper: float
    log: bool = False  # searched on the log scale (half-lives)

    def internal(self, value: float) -> float:
        return math.log(value) if self.log else float(value)

    def natural(self, value: float) -> float:
        return math.exp(value) if self.log else float(value)

    @property
    def bounds(self) -> tuple[float, float]:
        return self.internal(self.lower), self.internal(self.upper)

    def value(self, scenario: model.Scenario) -> float:
        """The parameter's value in ``scenario`` (a distribution's centre; an unset scale is 1)."""
        node: Any = scenario.to_dict()
        for key in self.path:
            if not isinstance(node, dict) or key not in node:
                return 1.0 if self.path[:2] == ("events", "scale") else 0.0
            node = node[key]
        if isinstance(node, dict):  # a distribution
            return float(_centre(node))
        return float(node)

    def overlay(self, value: float) -> dict:
        """A scenario fragment that sets this parameter to ``value``."""
        out: dict = {}
        node = out
        for key in self.path[:-1]:
            node = node.setdefault(key, {})
        node[self.path[-1]] = float(value)
        return out


def _centre(d: dict) -> float:
    kind = d.get("dist")
    if kind == "normal":
        return d["mean"]
    if kind == "uniform":
        return (d["low"] + d["high"]) / 2
    if kind == "triangular":
        return d["mode"]
    if kind == "lognormal":
        return d["median"]
    raise ValueError(f"unknown distribution {kind!r}")


def _known_names(scenario: model.Scenario) -> list[str]:
    names = [f"indices.{k}.{a}" for k in scenario.indicators for a in _INDEX_ATTRS]
    names += [
        f"spillover.{i}.{j}" for i in scenario.indicators for j in scenario.indicators if i != j
    ]
    names += [f"events.scale.{e.id}" for e in scenario.timeline()]
    return names + ["damping"]


def parse_params(spec: str | Iterable[str] | None, scenario: model.Scenario) -> list[Param]:
    """Parameters from names such as ``trade.half_life,scale.su24-downing-2015``.

    Accepted: ``indices.<index>.half_life|baseline|initial`` (or
    ``<index>.<attr>``), ``spillover.<index>.<index>``, ``events.scale.<event
    id>`` (or ``scale.<id>``) and ``damping``. ``None`` gives
    :data:`DEFAULT_FIT`; ``""`` or ``"none"`` no parameter (measurement only).
    Raises :class:`~model.ScenarioError` naming an unknown parameter.
    """
    if spec is None:
        items: list[str] = list(DEFAULT_FIT)
    elif isinstance(spec, str):
        items = [s.strip() for s in spec.split(",") if s.strip()]
    else:
        items = [str(s).strip() for s in spec]
    if items in (["none"], ["-"]):
        items = []
    indices = set(scenario.indicators)
    events = {e.id for e in scenario.timeline()}
    out: list[Param] = []
    for item in items:
        parts = item.split(".")
        if parts[0] in indices and len(parts) == 2:
            parts = ["indices"] + parts
        if parts[0] == "scale" and len(parts) >= 2:
            parts = ["events"] + parts
        if (
            parts[:2] == ["events", "scale"] and len(parts) > 3
        ):  # an id never has dots, but be clear
            parts = parts[:2] + [".".join(parts[2:])]
        param = None
        if (
            len(parts) == 3
            and parts[0] == "indices"
            and parts[1] in indices
            and parts[2] in _INDEX_ATTRS
        ):
            param = Param(
                ".".join(parts), tuple(parts), *_INDEX_ATTRS[parts[2]], log=parts[2] == "half_life"
            )
        elif (
            len(parts) == 3
            and parts[0] == "spillover"
            and parts[1] in indices
            and parts[2] in indices
            and parts[1] != parts[2]
        ):
            param = Param(".".join(parts), tuple(parts), *_BOUNDS["spillover"])
        elif len(parts) == 3 and parts[:2] == ["events", "scale"] and parts[2] in events:
            param = Param(".".join(parts), tuple(parts), *_BOUNDS["scale"])
        elif parts == ["damping"]:
            param = Param("damping", ("damping",), *_BOUNDS["damping"])
        if param is None:
            close = difflib.get_close_matches(item, _known_names(scenario), n=2, cutoff=0.6)
            hint = f" (did you mean {' or '.join(repr(c) for c in close)}?)" if close else ""
            raise ScenarioError(
                "relsim",
                "--fit",
                f"unknown parameter {item!r}{hint}; use "
                "indices.<index>.half_life|baseline|initial, spillover.<index>.<index>, "
                "events.scale.<event id> or damping",
            )
        if param.name in {p.name for p in out}:
            raise ScenarioError("relsim", "--fit", f"parameter {param.name!r} given twice")
        out.append(param)
    return out


def _merge(base: dict, over: dict) -> dict:
    out = dict(base)
    for key, value in over.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = _merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def with_params(
    scenario: model.Scenario, params: Sequence[Param], values: Sequence[float], **run: Any
) -> model.Scenario:
    """``scenario`` with the parameters set to ``values`` (and ``run`` settings changed)."""
    data = scenario.to_dict()
    for p, v in zip(params, values):
        data = _merge(data, p.overlay(v))
    if run:
        data = _merge(data, {"run": run})
    data.pop("extends", None)
    return model.scenario_from_dict(data)


# --------------------------------------------------------------------------- the fitting problem


class _Problem:
    """Model parameters -> index values at the observations -> measurement residuals."""

    def __init__(
        self,
        scenario: model.Scenario,
        params: Sequence[Param],
        obs: Observations,
        trend: Sequence[str] | None,
    ) -> None:
        self.base = scenario
        self.params = list(params)
        self.run = {"noise": False, "record": "monthly", "replicates": 1}
        end = max(
            pd.Timestamp(DATA_END), obs.frame["end"].max() if len(obs) else pd.Timestamp(DATA_END)
        )
        end = end + pd.offsets.MonthBegin(1)
        # a shorter run is faster; it must still hold every dated setting of the scenario (a policy start)
        for candidate in (
            end,
            max(end, pd.Timestamp(scenario.policy.start) + pd.Timedelta(days=1)),
        ):
            if candidate.date() >= scenario.run.end:
                break
            try:
                with_params(scenario, [], [], end=str(candidate.date()), **self.run)
            except ScenarioError:
                continue
            self.run["end"] = str(candidate.date())
            break
        self.obs = obs
        self.meas = Measurement(obs, trend=tuple(trend) if trend is not None else None)
        self._cache: dict[tuple, np.ndarray] = {}
        self.runs = 0
        first = self.simulate(self.start())
        self.dates = first.dates
        self.M = averaging_matrix(obs.frame, self.dates)
        self.col = np.array([first.indicators.index(k) for k in obs.frame["indicator"]], dtype=int)

    def start(self) -> np.ndarray:
        """The scenario's values, on the search scale."""
        return np.array(
            [p.internal(min(max(p.value(self.base), p.lower), p.upper)) for p in self.params]
        )

    def natural(self, phi: Sequence[float]) -> np.ndarray:
        return np.array([p.natural(v) for p, v in zip(self.params, phi)])

    def scenario(self, phi: Sequence[float], **run: Any) -> model.Scenario:
        return with_params(self.base, self.params, self.natural(phi), **{**self.run, **run})

    def simulate(self, phi: Sequence[float]) -> model.Result:
        self.runs += 1
        return model.simulate(self.scenario(phi), replicates=1, seed=0)

    def x(self, phi: Sequence[float]) -> np.ndarray:
        """The index (points) averaged over each observation's window."""
        key = tuple(np.round(np.asarray(phi, float), 14))
        if key not in self._cache:
            path = self.simulate(phi).paths[0]
            self._cache[key] = np.einsum("it,ti->i", self.M, path[:, self.col])
            if len(self._cache) > 256:
                self._cache.pop(next(iter(self._cache)))
        return self._cache[key]

    def residuals(self, theta: Sequence[float]) -> np.ndarray:
        try:
            x = self.x(theta)
        except ScenarioError:  # e.g. unstable spill-overs: far worse than any stable point
            return np.full(self.meas.n + self._n_prior(), 1e3)
        return self.meas.solve(x).vector()

    def _n_prior(self) -> int:
        return sum(
            len(self.meas.groups[k]) + 1
            for k in self.meas.keys
            if self.meas.family[k] not in GAUSSIAN
        )

    def dx(self, phi: np.ndarray) -> np.ndarray:
        """Central differences of the window means in each parameter (search scale)."""
        out = np.zeros((self.meas.n, len(phi)))
        for j, p in enumerate(self.params):
            lo, hi = p.bounds
            h = 1e-3 * max(abs(phi[j]), 0.1)
            up = phi.copy()
            dn = phi.copy()
            up[j] = min(phi[j] + h, hi)
            dn[j] = max(phi[j] - h, lo)
            out[:, j] = (self.x(up) - self.x(dn)) / (up[j] - dn[j])
        return out


# --------------------------------------------------------------------------- results


@dataclass
class Calibration:
    """The outcome of :func:`calibrate`.

    ``estimates``: one row per model parameter (``parameter, start,
    estimate, se, ci_low, ci_high, at_bound``); ``measurement``: one row per
    measurement parameter (``parameter, key, estimate, se, at_bound``);
    ``noise``: the noise s.d. of each Gaussian block (``block, sigma, n``);
    ``residuals``: one row per observation (date, series, basis, value, the
    index ``x`` and the fitted values, the standardised residual);
    ``correlation``: correlations of the model parameter estimates.
    """

    scenario: model.Scenario
    base: model.Scenario
    params: list[Param]
    estimates: pd.DataFrame
    measurement: pd.DataFrame
    noise: pd.DataFrame
    residuals: pd.DataFrame
    correlation: pd.DataFrame
    fit: Fit
    model_fit: Measurement
    obs: Observations
    until: int | None
    x: np.ndarray
    replay: model.Result
    info: dict = field(default_factory=dict)

    @property
    def theta(self) -> np.ndarray:
        """The fitted values of ``params`` (natural scale)."""
        return self.estimates.loc[self.estimates["fitted"], "estimate"].to_numpy(float)

    def ensemble(self, replicates: int = 100, seed: int | None = None) -> model.Result:
        """The calibrated scenario run with its noise over the fitted years (for bands)."""
        sc = with_params(
            self.base,
            self.params,
            self.theta,
            record="monthly",
            end=str(self.replay.metadata["end"]),
        )
        return model.simulate(sc, replicates=replicates, seed=seed)

    def to_toml(self, extends: str, name: str | None = None, command: str | None = None) -> str:
        """A scenario file that ``extends`` the fitted scenario's file and sets the estimates.

        The file holds only the fitted model parameters, each with its standard
        error and the parent scenario's value it replaces in a comment; everything else
        comes from the parent. (The measurement parameters are not scenario
        settings: see :meth:`measurement_table`.)
        """
        name = name or f"{self.base.name}-calibrated"
        years = self.residuals["year"]
        lines = [
            f"# Model parameters fitted to the observed data in model/data/observed/ ({len(self.residuals)}",
            f"# values, {years.min()}-{years.max()}"
            + (f", up to {self.until}" if self.until else "")
            + "); docs/VALIDATION.md describes the fit.",
        ]
        if command:
            lines.append(f"# Written by: {command}")
        lines += [
            "# Each value carries its standard error and the parent scenario's value it replaces.",
            "# Every parameter not set here keeps the parent scenario's value.",
            f"name = {_toml_str(name)}",
            f"description = {_toml_str(self._description())}",
            f"extends = {_toml_str(extends)}",
        ]
        tables: dict[str, list[str]] = {}
        top: list[str] = []
        for row, p in zip(
            self.estimates[self.estimates["fitted"]].itertuples(index=False), self.params
        ):
            note = (
                f"  # s.e. {_fmt(row.se)}, 95% interval {_fmt(row.ci_low)}-{_fmt(row.ci_high)}; "
                f"parent {_fmt(row.start)}"
                + ("; at a bound of the search" if row.at_bound else "")
                + ("; weakly identified" if row.weak and not row.at_bound else "")
            )
            if len(p.path) == 1:
                top.append(f"{p.path[0]} = {_fmt(row.estimate)}{note}")
                continue
            table = ".".join(p.path[:-1])
            key = p.path[-1] if p.path[-1].isidentifier() else _toml_str(p.path[-1])
            tables.setdefault(table, []).append(f"{key} = {_fmt(row.estimate)}{note}")
        lines += top
        for table, rows in tables.items():
            lines += ["", f"[{table}]"] + rows
        return "\n".join(lines) + "\n"

    def _description(self) -> str:
        fitted = ", ".join(p.name for p in self.params) or "no model parameter"
        return (
            f"{self.base.name} with {fitted} fitted to the observed trade, gas and proxy series "
            f"({'all years' if self.until is None else f'up to {self.until}'}); "
            "all other values as in the parent scenario."
        )

    def summary(self) -> str:
        """A plain-text report: the estimates, the slopes and the noise."""
        out = [
            f"fitted {len(self.residuals)} observations in {len(self.fit.offsets)} groups"
            + (f" (years <= {self.until})" if self.until else "")
            + f"; {self.info.get('evaluations', 0)} model runs; {self.info.get('message', '')}"
        ]
        if self.info.get("held"):
            out[0] += (
                "\nnot fitted (the event comes after the last observation; the scenario's value kept): "
                + ", ".join(self.info["held"])
            )
        if len(self.estimates):
            out.append(self.estimates.to_string(index=False, float_format=lambda v: _fmt(v)))
        m = self.measurement[self.measurement["parameter"].str.startswith(("slope:", "trend:"))]
        out.append(m.to_string(index=False, float_format=lambda v: _fmt(v)))
        out.append(self.noise.to_string(index=False, float_format=lambda v: _fmt(v)))
        return "\n\n".join(out)


def _fmt(v: float) -> str:
    if v is None or not np.isfinite(v):
        return "nan"
    if v == 0:
        return "0"
    digits = max(0, 3 - math.floor(math.log10(abs(v))))
    return f"{round(v, digits):.{digits}f}"


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


# --------------------------------------------------------------------------- calibrate


def calibrate(
    scenario: model.Scenario,
    fit: str | Iterable[str] | None = None,
    *,
    observed: pd.DataFrame | Observations | None = None,
    until: int | None = None,
    trend: Sequence[str] | None = None,
    max_evaluations: int = 400,
) -> Calibration:
    """Fit ``fit`` (names, see :func:`parse_params`; default :data:`DEFAULT_FIT`) to the observations.

    ``observed`` is a tidy frame like :func:`model.observed.load_observed`
    (default: the packaged data) or prepared :class:`Observations`; ``until``
    keeps only the observations of that year and before. ``trend`` names the
    measurement keys that get a linear time trend (default none;
    :data:`~model.measurement.TREND_KEYS` for trade values and gas volumes).
    """
    from scipy.optimize import least_squares

    params = parse_params(fit, scenario)
    obs = _observations(observed, scenario)
    obs = obs.until(until)
    if len(obs) == 0:
        raise ScenarioError(
            "relsim",
            "--until",
            f"no observations up to {until}: the data start in "
            f"{int(_observations(observed, scenario).frame['year'].min())}",
        )
    # an event after the last observation leaves no trace in the data: its scale stays as set
    last = obs.frame["end"].max()
    dates = {e.id: e.date for e in scenario.timeline() if e.date is not None}
    held = [
        p
        for p in params
        if p.path[:2] == ("events", "scale")
        and p.path[2] in dates
        and pd.Timestamp(dates[p.path[2]]) > last
    ]
    params = [p for p in params if p not in held]
    prob = _Problem(scenario, params, obs, trend)
    phi = prob.start()
    meas = prob.meas
    meas.settle(prob.x(phi))
    info: dict[str, Any] = {"message": "measurement only", "success": True}
    if params:
        lower = np.array([p.bounds[0] for p in params])
        upper = np.array([p.bounds[1] for p in params])
        for _ in range(2):  # refit once with the noise re-estimated at the optimum
            res = least_squares(
                prob.residuals,
                phi,
                bounds=(lower, upper),
                diff_step=1e-4,
                method="trf",
                max_nfev=max_evaluations,
                xtol=1e-4,
                ftol=1e-6,
            )
            moved = np.max(np.abs(res.x - phi))
            phi = res.x
            before = dict(meas.sigma)
            meas.settle(prob.x(phi))
            if moved < 1e-3 or all(
                abs(meas.sigma[b] - before[b]) < 0.02 * before[b] for b in meas.blocks
            ):
                break
        info = {"message": res.message, "success": bool(res.success)}
    x = prob.x(phi)
    fitted = meas.solve(x)
    dx = prob.dx(phi) if params else np.zeros((meas.n, 0))
    J, names = meas.jacobian(fitted, x, dx)
    cov, phi_disp = _covariance(J, fitted.vector())
    info["dispersion"] = phi_disp
    info["loglik"] = meas.loglik(fitted)
    info["evaluations"] = prob.runs
    p = len(params)
    theta = prob.natural(phi)
    start = prob.natural(prob.start())
    se_int = np.sqrt(np.clip(np.diag(cov), 0, None))
    # natural scale: delta method for the s.e., the interval mapped from the search scale
    grad = np.array([q.natural(v) if q.log else 1.0 for q, v in zip(params, phi)])
    se = se_int[:p] * grad
    lo_int = (
        np.maximum(phi - 1.96 * se_int[:p], [q.bounds[0] for q in params]) if p else np.zeros(0)
    )
    hi_int = (
        np.minimum(phi + 1.96 * se_int[:p], [q.bounds[1] for q in params]) if p else np.zeros(0)
    )
    at_bound = np.array(
        [
            np.isclose(v, q.bounds[0], atol=1e-6) or np.isclose(v, q.bounds[1], atol=1e-6)
            for v, q in zip(phi, params)
        ],
        dtype=bool,
    )
    estimates = pd.DataFrame(
        {
            "parameter": [q.name for q in params],
            "start": start,
            "estimate": theta,
            "se": se,
            "ci_low": prob.natural(lo_int),
            "ci_high": prob.natural(hi_int),
            "at_bound": at_bound,
            "fitted": True,
        }
    )
    # weakly identified: the s.e. is half the estimate or more (on the search scale for half-lives)
    rel = np.array(
        [se_int[j] if q.log else se[j] / max(abs(theta[j]), 1e-9) for j, q in enumerate(params)]
    )
    estimates["weak"] = (rel >= 0.5) | at_bound if p else np.zeros(0, bool)
    if held:
        info["held"] = [q.name for q in held]
        values = [q.value(scenario) for q in held]
        estimates = pd.concat(
            [
                estimates,
                pd.DataFrame(
                    {
                        "parameter": info["held"],
                        "start": values,
                        "estimate": values,
                        "se": np.nan,
                        "ci_low": np.nan,
                        "ci_high": np.nan,
                        "at_bound": False,
                        "fitted": False,
                        "weak": True,
                    }
                ),
            ],
            ignore_index=True,
        )
    corr = cov[:p, :p] / np.outer(se_int[:p], se_int[:p]) if p else np.zeros((0, 0))
    correlation = pd.DataFrame(
        corr, index=[q.name for q in params], columns=[q.name for q in params]
    )
    measurement = _measurement_table(fitted, names, se_int[p:], meas)
    noise = pd.DataFrame(
        [(b, fitted.sigma[b], int((meas._block == b).sum())) for b in meas.blocks],
        columns=["block", "sigma", "n"],
    )
    calibrated = with_params(scenario, params, theta)
    replay = prob.simulate(phi)
    residuals = _residual_frame(obs, x, fitted)
    return Calibration(
        calibrated,
        scenario,
        params,
        estimates,
        measurement,
        noise,
        residuals,
        correlation,
        fitted,
        meas,
        obs,
        until,
        x,
        replay,
        info,
    )


def _observations(observed, scenario: model.Scenario) -> Observations:
    if isinstance(observed, Observations):
        obs = observed
        frame = obs.frame[obs.frame["indicator"].isin(scenario.indicators)]
        return Observations(
            frame[frame["start"] >= pd.Timestamp(scenario.run.start)].reset_index(drop=True),
            obs.excluded,
        )
    return prepare(observed, indicators=scenario.indicators, start=scenario.run.start)


def _covariance(J: np.ndarray, r: np.ndarray) -> tuple[np.ndarray, float]:
    """Inverse information, inflated by the dispersion when the residuals exceed their model."""
    n, k = J.shape
    info = J.T @ J
    try:
        cov = np.linalg.inv(info)
    except np.linalg.LinAlgError:
        cov = np.linalg.pinv(info)
    dof = max(n - k, 1)
    phi = max(1.0, float(r @ r) / dof)
    return cov * phi, phi


def _measurement_table(
    fit: Fit, names: list[str], se: np.ndarray, meas: Measurement
) -> pd.DataFrame:
    se_of = dict(zip(names, se))
    rows = []
    for key in meas.keys:
        for g in meas.groups[key]:
            rows.append(
                (f"offset:{g}", key, fit.offsets[g], se_of.get(f"offset:{g}", np.nan), False)
            )
        s = fit.slopes[key]
        rows.append((f"slope:{key}", key, s, se_of.get(f"slope:{key}", np.nan), s <= 0))
        if key in fit.trends:
            rows.append(
                (f"trend:{key}", key, fit.trends[key], se_of.get(f"trend:{key}", np.nan), False)
            )
    return pd.DataFrame(rows, columns=["parameter", "key", "estimate", "se", "at_bound"])


def _residual_frame(obs: Observations, x: np.ndarray, fit: Fit) -> pd.DataFrame:
    f = obs.frame
    out = f[
        [
            "date",
            "year",
            "period",
            "series",
            "group",
            "key",
            "block",
            "indicator",
            "family",
            "basis",
            "frequency",
            "value",
            "unit",
            "y",
            "exposure",
            "sign",
        ]
    ].copy()
    out["x"] = x
    out["fitted"] = point_prediction(f, fit.eta)
    out["residual"] = fit.residuals
    return out


# --------------------------------------------------------------------------- hindcast


@dataclass
class Hindcast:
    """The outcome of :func:`hindcast`: the fit on the early years and the scores on the later ones.

    ``scores``: one row per series (``level = "series"``) and per index and
    family (``level = "key"``): ``n, rmse, rmse_start, rmse_persistence,
    corr, direction, n_direction, cover50, cover90, crps``. ``predictions``:
    one row per scored observation with the point prediction and the
    predictive quantiles. ``unscored``: later observations of series with no
    observation up to the cut-off (their offset cannot be fitted).
    """

    until: int
    calibration: Calibration
    start: Calibration
    ensemble: model.Result
    scores: pd.DataFrame
    predictions: pd.DataFrame
    unscored: pd.DataFrame


def hindcast(
    scenario: model.Scenario,
    until: int,
    fit: str | Iterable[str] | None = None,
    *,
    observed: pd.DataFrame | Observations | None = None,
    replicates: int = 100,
    seed: int | None = None,
    trend: Sequence[str] | None = None,
    draws: int = 20,
) -> Hindcast:
    """Fit on the observations up to ``until`` and score those after it.

    The model parameters ``fit`` and the measurement parameters are fitted on
    the early years (:func:`calibrate`); the calibrated scenario then replays
    the whole record, so the later years' events are known: the hindcast
    tests the dynamics and the measurement model, not the forecasting of
    events. The same measurement fit with the scenario's own values, nothing
    fitted (``rmse_start``), and carrying each series' last observed value forward
    (``rmse_persistence``) are the benchmarks.
    """
    obs = _observations(observed, scenario)
    later = obs.after(until)
    if len(later) == 0:
        raise ScenarioError(
            "relsim",
            "--until",
            f"no observations after {until} to score (the data end in "
            f"{int(obs.frame['year'].max())})",
        )
    cal = calibrate(scenario, fit, observed=obs, until=until, trend=trend)
    start = (
        calibrate(scenario, "none", observed=obs, until=until, trend=trend) if cal.params else cal
    )
    seen = set(cal.fit.offsets)
    test = later.frame[
        later.frame["group"].isin(seen) & later.frame["key"].isin(cal.fit.slopes)
    ].reset_index(drop=True)
    unscored = (
        later.frame[~later.frame.index.isin(later.frame.index[later.frame["group"].isin(seen)])]
        .groupby(["series", "indicator", "family"], as_index=False)
        .size()
        .rename(columns={"size": "n"})
    )
    if test.empty:
        raise ScenarioError(
            "relsim", "--until", f"none of the series observed after {until} was observed up to it"
        )
    # the ensemble: the calibrated scenario with its noise, over the same record dates
    ens_sc = with_params(
        scenario, cal.params, cal.theta, record="monthly", end=str(cal.replay.metadata["end"])
    )
    ens = model.simulate(ens_sc, replicates=replicates, seed=seed)
    M = averaging_matrix(test, ens.dates)
    col = np.array([ens.indicators.index(k) for k in test["indicator"]], dtype=int)
    x_ens = np.einsum("it,rti->ri", M, ens.paths[:, :, col])
    meas = cal.model_fit
    eta_ens = np.vstack([meas.linear_predictor(cal.fit, test, xr) for xr in x_ens])
    rng = np.random.default_rng(0 if seed is None else seed)
    sample = predictive_draws(test, eta_ens, cal.fit.sigma, draws=draws, rng=rng)
    # point predictions from the deterministic replays (calibrated and as given)
    M_det = averaging_matrix(test, cal.replay.dates)
    col_det = np.array([cal.replay.indicators.index(k) for k in test["indicator"]], dtype=int)
    x_det = np.einsum("it,ti->i", M_det, cal.replay.paths[0][:, col_det])
    eta = meas.linear_predictor(cal.fit, test, x_det)
    x_start = np.einsum("it,ti->i", M_det, start.replay.paths[0][:, col_det])
    eta_start = start.model_fit.linear_predictor(start.fit, test, x_start)
    pred = test[
        [
            "date",
            "year",
            "period",
            "series",
            "group",
            "key",
            "block",
            "indicator",
            "family",
            "basis",
            "frequency",
            "value",
            "unit",
            "y",
            "exposure",
            "sign",
        ]
    ].copy()
    pred["x"] = x_det
    pred["predicted"] = point_prediction(test, eta)
    pred["start"] = point_prediction(test, eta_start)
    pred["persistence"] = _persistence(cal, test)
    qs = np.quantile(sample, [0.05, 0.25, 0.5, 0.75, 0.95], axis=0)
    for name, q in zip(["q05", "q25", "q50", "q75", "q95"], qs):
        pred[name] = q
    pred["crps"] = crps_sample(sample, test["y"].to_numpy(float))
    scores = _scores(pred, cal)
    return Hindcast(until, cal, start, ens, scores, pred, unscored)


def _persistence(cal: Calibration, test: pd.DataFrame) -> np.ndarray:
    """Each series' last value up to the cut-off carried forward (same frequency where there is one)."""
    last: dict[tuple, tuple[float, float]] = {}
    for row in cal.residuals.sort_values("date", kind="stable").itertuples(index=False):
        last[(row.group, row.frequency)] = last[(row.group, None)] = (row.y, row.exposure)
    out = np.full(len(test), np.nan)
    for i, row in enumerate(test.itertuples(index=False)):
        got = last.get((row.group, row.frequency)) or last.get((row.group, None))
        if got is not None:
            y, expo = got
            out[i] = y * row.exposure / expo if row.family == "count" else y
    return out


def _direction(pred: pd.DataFrame, cal: Calibration) -> np.ndarray:
    """Per scored row: 1 if the model got the sign of the change since the series' previous value, else 0.

    The previous value may be the last one before the cut-off (its fitted
    value is then the model's). NaN for a first value or an unchanged one.
    """
    train = cal.residuals[["date", "group", "frequency", "y", "fitted"]].rename(
        columns={"fitted": "predicted"}
    )
    both = pd.concat(
        [
            train.assign(pos=-1),
            pred[["date", "group", "frequency", "y", "predicted"]].assign(pos=np.arange(len(pred))),
        ],
        ignore_index=True,
    )
    both = both.sort_values(["group", "frequency", "date"], kind="stable")
    out = np.full(len(pred), np.nan)
    for _, g in both.groupby(["group", "frequency"], sort=False):
        y = g["y"].to_numpy(float)
        p = g["predicted"].to_numpy(float)
        pos = g["pos"].to_numpy(int)
        for i in range(1, len(g)):
            if pos[i] >= 0 and y[i] != y[i - 1]:
                out[pos[i]] = float(np.sign(y[i] - y[i - 1]) == np.sign(p[i] - p[i - 1]))
    return out


def _scores(pred: pd.DataFrame, cal: Calibration) -> pd.DataFrame:
    pred = pred.reset_index(drop=True)
    pred = pred.assign(hit=_direction(pred, cal))
    rows = []

    def score(level: str, name: str, key: str, g: pd.DataFrame) -> None:
        y = g["y"].to_numpy(float)
        p = g["predicted"].to_numpy(float)
        within = g.groupby("group")["y"].transform("mean").to_numpy(float)
        within_p = g.groupby("group")["predicted"].transform("mean").to_numpy(float)
        dy, dp = y - within, p - within_p
        corr = (
            float(np.corrcoef(dy, dp)[0, 1])
            if len(g) >= 3 and dy.std() > 0 and dp.std() > 0
            else np.nan
        )
        pers = g["persistence"].to_numpy(float)
        ok = np.isfinite(pers)
        inside50 = (y >= g["q25"]) & (y <= g["q75"])
        inside90 = (y >= g["q05"]) & (y <= g["q95"])
        hit = g["hit"].dropna()
        rows.append(
            {
                "level": level,
                "name": name,
                "key": key,
                "n": len(g),
                "rmse": float(np.sqrt(np.mean((y - p) ** 2))),
                "rmse_start": float(
                    np.sqrt(np.mean((y - g["start"].to_numpy(float)) ** 2))
                ),
                "rmse_persistence": float(np.sqrt(np.mean((y[ok] - pers[ok]) ** 2)))
                if ok.any()
                else np.nan,
                "corr": corr,
                "direction": float(hit.mean()) if len(hit) else np.nan,
                "n_direction": len(hit),
                "cover50": float(inside50.mean()),
                "cover90": float(inside90.mean()),
                "crps": float(g["crps"].mean()),
            }
        )

    keys = sorted(
        pred["key"].unique(),
        key=lambda k: (
            ("trade", "energy", "security", "west").index(k.split(":")[0])
            if k.split(":")[0] in ("trade", "energy", "security", "west")
            else 9,
            FAMILIES.index(k.split(":")[1]),
        ),
    )
    for key in keys:
        g = pred[pred["key"] == key]
        score("key", key, key, g)
        for series, s in g.groupby("group", sort=True):
            score("series", series, key, s)
    return pd.DataFrame(rows)


# --------------------------------------------------------------------------- command line


def add_commands(sub) -> None:
    """Add ``calibrate`` and ``hindcast`` to the ``relsim`` sub-command parsers."""
    cal = sub.add_parser(
        "calibrate", help="fit model and measurement parameters to the observed data"
    )
    cal.add_argument("scenario", type=Path)
    cal.add_argument(
        "--fit",
        help="comma-separated parameters to fit (default: "
        + ",".join(DEFAULT_FIT)
        + "); 'none' fits the measurement model only",
    )
    cal.add_argument("--until", type=_year, help="use only observations up to this year")
    cal.add_argument(
        "--out", type=Path, help="output folder (default: results/calibrate-<scenario name>)"
    )
    cal.add_argument(
        "--toml",
        type=Path,
        help="where to write the calibrated scenario (default: OUT/calibrated.toml)",
    )
    cal.add_argument(
        "--name", help="name of the calibrated scenario (default: the --toml file's stem)"
    )
    cal.add_argument(
        "--trend", action="store_true", help="add a time trend to the trade and gas equations"
    )
    cal.add_argument("--no-plots", action="store_true", help="skip the PNG plot")
    cal.set_defaults(func=_cmd_calibrate)

    hc = sub.add_parser(
        "hindcast", help="fit on the years up to --until and score the years after it"
    )
    hc.add_argument("scenario", type=Path)
    hc.add_argument("--until", type=_year, required=True, help="last year used for the fit")
    hc.add_argument("--fit", help="parameters to fit, as for calibrate")
    hc.add_argument(
        "--replicates",
        type=_count,
        default=100,
        help="ensemble size for the intervals (default 100)",
    )
    hc.add_argument("--seed", type=_count, help="seed of the ensemble (default: the scenario's)")
    hc.add_argument(
        "--out", type=Path, help="output folder (default: results/hindcast-<scenario name>-<until>)"
    )
    hc.add_argument(
        "--trend", action="store_true", help="add a time trend to the trade and gas equations"
    )
    hc.add_argument("--no-plots", action="store_true", help="skip the PNG plot")
    hc.set_defaults(func=_cmd_hindcast)


def _year(text: str) -> int:
    import argparse

    try:
        year = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"--until must be a year (got {text!r})") from None
    if not 1990 <= year <= 2100:
        raise argparse.ArgumentTypeError(
            f"--until must be a year between 1990 and 2100 (got {year})"
        )
    return year


def _count(text: str) -> int:
    import argparse

    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be an integer (got {text!r})") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0 (got {value})")
    return value


def _command_line(args, name: str) -> str:
    parts = ["relsim", name, str(args.scenario)]
    for flag in ("fit", "until", "replicates", "seed", "out", "toml", "name"):
        value = getattr(args, flag, None)
        if value is not None and value != "":
            parts += [f"--{flag}", str(value)]
    for flag in ("trend", "no_plots"):
        if getattr(args, flag, False):
            parts.append("--" + flag.replace("_", "-"))
    return " ".join(parts)


def _cmd_calibrate(args) -> int:
    from model.results import atomic_output

    scenario = model.load_scenario(args.scenario)
    cal = calibrate(scenario, args.fit, until=args.until, trend=TREND_KEYS if args.trend else None)
    out = args.out or Path("results") / f"calibrate-{scenario.name}"
    toml_path = args.toml or out / "calibrated.toml"
    name = args.name or (toml_path.stem if _valid_name(toml_path.stem) else None)
    extends = os.path.relpath(Path(args.scenario).resolve(), Path(toml_path).resolve().parent)
    text = cal.to_toml(
        extends=Path(extends).as_posix(), name=name, command=_command_line(args, "calibrate")
    )
    figures = {}
    if not args.no_plots:
        ens = cal.ensemble(100)
        figures = {
            "fit.png": _plot(lambda vp: vp.plot_fit(cal, ens)),
            "series.png": _plot(lambda vp: vp.plot_series(cal, ens, vp.MAIN_SERIES)),
        }
    with atomic_output(out) as tmp:
        cal.estimates.to_csv(tmp / "estimates.csv", index=False, float_format="%.6g")
        cal.measurement.to_csv(tmp / "measurement.csv", index=False, float_format="%.6g")
        cal.noise.to_csv(tmp / "noise.csv", index=False, float_format="%.6g")
        cal.residuals.to_csv(tmp / "residuals.csv", index=False, float_format="%.6g")
        cal.obs.excluded.to_csv(tmp / "excluded.csv", index=False)
        cal.correlation.to_csv(tmp / "correlation.csv", float_format="%.4f")
        (tmp / "report.md").write_text(report_calibration(cal, _command_line(args, "calibrate")))
        if args.toml is None:
            (tmp / "calibrated.toml").write_text(text)
        for name, fig in figures.items():
            fig.savefig(tmp / name, dpi=110, bbox_inches="tight")
    if args.toml is not None:
        tmp_toml = Path(args.toml).with_name("." + Path(args.toml).name)
        tmp_toml.write_text(text)
        tmp_toml.replace(args.toml)
    print(cal.summary())
    print(
        f"wrote {out}/: estimates.csv measurement.csv noise.csv residuals.csv excluded.csv correlation.csv "
        f"report.md"
        + ("" if args.toml else " calibrated.toml")
        + "".join(" " + f for f in figures)
        + (f"; and {args.toml}" if args.toml else "")
    )
    return 0


def _cmd_hindcast(args) -> int:
    from model.results import atomic_output

    scenario = model.load_scenario(args.scenario)
    hc = hindcast(
        scenario,
        args.until,
        args.fit,
        replicates=args.replicates or 100,
        seed=args.seed,
        trend=TREND_KEYS if args.trend else None,
    )
    out = args.out or Path("results") / f"hindcast-{scenario.name}-{args.until}"
    figure = None if args.no_plots else _plot(lambda vp: vp.plot_hindcast(hc))
    with atomic_output(out) as tmp:
        hc.scores.to_csv(tmp / "scores.csv", index=False, float_format="%.4f")
        hc.predictions.to_csv(tmp / "predictions.csv", index=False, float_format="%.6g")
        hc.calibration.estimates.to_csv(tmp / "estimates.csv", index=False, float_format="%.6g")
        hc.unscored.to_csv(tmp / "unscored.csv", index=False)
        (tmp / "report.md").write_text(report_hindcast(hc, _command_line(args, "hindcast")))
        if figure is not None:
            figure.savefig(tmp / "hindcast.png", dpi=110, bbox_inches="tight")
    print(score_table(hc.scores, level="key").to_string(index=False))
    print(
        f"wrote {out}/: scores.csv predictions.csv estimates.csv unscored.csv report.md"
        + ("" if figure is None else " hindcast.png")
    )
    return 0


def _valid_name(text: str) -> bool:
    import re

    return re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", text) is not None


def _plot(draw):
    import matplotlib

    matplotlib.use("Agg")
    from model import validation_plots

    return draw(validation_plots)


# --------------------------------------------------------------------------- checks against the record

#: The big moves of trade the model should reproduce: (label, first year, second year).
BIG_MOVES: tuple[tuple[str, int, int], ...] = (
    ("2009 dip", 2008, 2009),
    ("2015-16 collapse", 2014, 2016),
    ("recovery after 2017", 2016, 2019),
    ("2022 surge", 2021, 2022),
)


def annual_index(result: model.Result) -> pd.DataFrame:
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
    rows = []
    for label, y1, y2 in moves:
        dx = float(years.get(y2, np.nan) - years.get(y1, np.nan))
        found = False
        for group, g in f.groupby("group", sort=True):
            pick = {}
            for y in (y1, y2):
                gy = g[g["year"] == y]
                if len(gy):
                    gy = gy.sort_values(
                        ["frequency", "span"], ascending=[True, True]
                    )  # annual first
                    pick[y] = gy.iloc[0]
            if len(pick) < 2:
                continue
            found = True
            obs = float(pick[y2]["y"] - pick[y1]["y"])
            rows.append(
                (
                    label,
                    group,
                    f"{pick[y1]['period']} -> {pick[y2]['period']}",
                    obs,
                    slope * dx,
                    dx,
                    bool(np.sign(obs) == np.sign(slope * dx)),
                )
            )
        if not found:
            rows.append(
                (
                    label,
                    "(no series observed in both years)",
                    f"{y1} -> {y2}",
                    np.nan,
                    slope * dx,
                    dx,
                    np.nan,
                )
            )
    return pd.DataFrame(
        rows,
        columns=["move", "series", "periods", "observed", "modelled", "index_change", "same_sign"],
    )


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
    """The scores rounded for reading; ``level`` = ``"key"`` or ``"series"``; series with ``n >= min_n``."""
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
    slopes = cal.measurement[cal.measurement["parameter"].str.startswith(("slope:", "trend:"))]
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
    out = [f"# Calibration of `{cal.base.name}`", ""]
    if command:
        out += [f"`{command}`", ""]
    out += [
        (
            f"{len(cal.residuals)} observations, {cal.residuals['year'].min()}–{cal.residuals['year'].max()}; "
            f"log-likelihood {cal.info.get('loglik', float('nan')):.1f}; dispersion {cal.info.get('dispersion', 1):.2f}; "
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
    if len(cal.estimates):
        out += ["## Model parameters", "", _markdown(cal.estimates), ""]
        out += [
            "## Correlation of the estimates",
            "",
            _markdown(
                cal.correlation.round(2).reset_index().rename(columns={"index": "parameter"})
            ),
            "",
        ]
    out += [
        "## Measurement slopes and trends",
        "",
        _markdown(slopes.drop(columns="key")),
        "",
        "## Noise",
        "",
        _markdown(cal.noise),
        "",
        "## Residuals by series (standardised or deviance)",
        "",
        (
            f"Root mean square of the residuals of each series with two or more values ({single} series "
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
    return "\n".join(out)


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
