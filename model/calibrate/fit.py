"""Calibration: model parameters and the measurement model fitted to the observed data.

This module owns :func:`calibrate` and its outcome, :class:`Calibration`.
:func:`calibrate` fits chosen model parameters (half-lives, baselines, initial
levels, spill-overs, event scales, damping; named as in :mod:`model.params`)
together with the measurement parameters of :mod:`.measurement` to the
observed series. The model runs once per evaluation without noise (one
deterministic replay, ``run.noise = false``; the problem is :mod:`.problem`);
the measurement parameters are solved for given that replay, so the optimiser
(``scipy.optimize.least_squares`` with bounds) only moves the model
parameters. Standard errors come from the Jacobian of all parameters together
(Gauss–Newton / Fisher information). ``docs/VALIDATION.md`` describes the
method and reports the results.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from ..ensemble import simulate
from ..errors import ArgumentError
from ..params import Param, resolve_all
from ..results import Result
from ..scenario import Scenario
from .measurement import Fit, Measurement
from .observations import TABLE_COLUMNS, Observations, for_scenario
from .prices import Prices
from .problem import DATA_END, _Problem, with_params
from .scores import point_prediction

__all__ = ["DATA_END", "DEFAULT_FIT", "Calibration", "calibrate", "parse_params", "with_params"]

#: The parameters ``relsim calibrate`` fits unless told otherwise: the trade block, which the
#: data speak to. Fitting the security and west half-lives or their events' scales gives
#: estimates at the bounds with very wide intervals (docs/VALIDATION.md, *Calibration*).
DEFAULT_FIT: tuple[str, ...] = (
    "indices.trade.half_life",
    "events.scale.russian-sanctions-2015",
    "events.scale.ukraine-war-trade-2022",
)


def parse_params(spec: str | Iterable[str] | None, scenario: Scenario) -> list[Param]:
    """The parameters to fit, from names such as ``trade.half_life,scale.su24-downing-2015``.

    Accepted: ``indices.<index>.half_life|baseline|initial`` (or
    ``<index>.<attr>``), ``spillover.<index>.<index>``, ``events.scale.<event
    id>`` (or ``scale.<id>``) and ``damping`` (see :mod:`model.params`).
    ``None`` gives :data:`DEFAULT_FIT`; ``""`` or ``"none"`` no parameter
    (the measurement model only). An unknown name is an
    :class:`~model.errors.ArgumentError` of the argument ``fit``.
    """
    if spec is None:
        return resolve_all(DEFAULT_FIT, scenario, "fit", calibrated=True)
    if isinstance(spec, str) and spec.strip() in ("none", "-"):
        return []
    return resolve_all(spec, scenario, "fit", calibrated=True)


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

    scenario: Scenario
    base: Scenario
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
    replay: Result
    info: dict = field(default_factory=dict)

    @property
    def theta(self) -> np.ndarray:
        """The fitted values of ``params`` (natural scale)."""
        return self.estimates.loc[self.estimates["fitted"], "estimate"].to_numpy(float)

    def ensemble(self, replicates: int = 100, seed: int | None = None) -> Result:
        """The calibrated scenario run with its noise over the fitted years (for bands)."""
        sc = with_params(
            self.base,
            self.params,
            self.theta,
            record="monthly",
            end=str(self.replay.metadata["end"]),
        )
        return simulate(sc, replicates=replicates, seed=seed)

    def to_toml(
        self,
        extends: str,
        name: str | None = None,
        command: str | None = None,
        uncertain: bool = False,
    ) -> str:
        """A scenario file that ``extends`` the fitted scenario's file and sets the estimates.

        See :func:`.calibrated_file.calibrated_toml`: each estimate with its
        standard error and the parent's value in a comment; ``uncertain``
        writes it as a lognormal (:meth:`uncertain_values`), so that an
        ensemble of the file draws one parameter set per replicate.
        """
        from .calibrated_file import calibrated_toml

        return calibrated_toml(self, extends, name, command, uncertain)

    def uncertain_values(self) -> dict[str, tuple[float, float]]:
        """Per fitted parameter, the lognormal ``(median, sigma)`` of its estimate.

        See :func:`.calibrated_file.uncertain_values`.
        """
        from .calibrated_file import uncertain_values

        return uncertain_values(self)

    def summary(self) -> str:
        """A plain-text report: the estimates, the slopes and the noise."""
        out = [
            f"fitted {len(self.residuals)} observations in {len(self.fit.offsets)} groups"
            + (f" (years <= {self.until})" if self.until else "")
            + f"; {self.info.get('evaluations', 0)} model runs; {self.info.get('message', '')}"
        ]
        if self.info.get("held"):
            out[0] += (
                "\nnot fitted (the event comes after the last observation; "
                "the scenario's value kept): " + ", ".join(self.info["held"])
            )
        if len(self.estimates):
            out.append(self.estimates.to_string(index=False, float_format=lambda v: _fmt(v)))
        m = self.measurement[
            self.measurement["parameter"].str.startswith(("slope:", "trend:", "price:"))
        ]
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


# --------------------------------------------------------------------------- calibrate


def calibrate(
    scenario: Scenario,
    fit: str | Iterable[str] | None = None,
    *,
    observed: pd.DataFrame | Observations | None = None,
    until: int | None = None,
    trend: Sequence[str] | None = None,
    prices: Prices | bool | None = None,
    priors: bool = False,
    max_evaluations: int = 400,
) -> Calibration:
    """Fit ``fit`` (see :func:`parse_params`; default :data:`DEFAULT_FIT`) to the observations.

    ``observed`` is a tidy frame like :func:`.observed.load_observed`
    (default: the packaged data) or prepared :class:`Observations`; ``until``
    keeps only the observations of that year and before. ``trend`` names the
    measurement keys that get a linear time trend (default none;
    :data:`~.measurement.TREND_KEYS` for trade values and gas volumes).
    ``prices`` adds the price terms of :mod:`.prices` to the dollar-valued
    series (``True``: the packaged Brent price and CPI; default none).
    ``priors`` makes the fit a posterior mode: each model parameter gets a
    normal prior centred on the scenario's value (:meth:`.problem._Problem.prior_sd`)
    and, with prices, the dollar-valued keys' slope and oil price elasticity
    get :data:`~.measurement.DOLLAR_PRIORS`.
    """
    params = parse_params(fit, scenario)
    obs = _observations_until(observed, scenario, until)
    params, held = _split_held(params, obs, scenario)
    prob = _Problem(
        scenario,
        params,
        obs,
        trend,
        Prices.packaged() if prices is True else prices or None,
        priors=priors,
    )
    phi, info = _optimise(prob, max_evaluations)
    return _outcome(prob, phi, held, info, until)


def _observations_until(
    observed: pd.DataFrame | Observations | None, scenario: Scenario, until: int | None
) -> Observations:
    """The observations of the scenario's indices up to ``until``; none is an error of ``until``."""
    obs = for_scenario(observed, scenario)
    obs = obs.until(until)
    if len(obs) == 0:
        raise ArgumentError(
            "until",
            f"no observations up to {until}: the data start in "
            f"{int(for_scenario(observed, scenario).frame['year'].min())}",
        )
    return obs


def _split_held(
    params: list[Param], obs: Observations, scenario: Scenario
) -> tuple[list[Param], list[Param]]:
    """The parameters to fit, and those held because their event comes after the data.

    An event after the last observation leaves no trace in the data: its scale stays as set.
    """
    last = obs.frame["end"].max()
    dates = {e.id: e.date for e in scenario.timeline() if e.date is not None}
    held = [
        p
        for p in params
        if p.path[:2] == ("events", "scale")
        and p.path[2] in dates
        and pd.Timestamp(dates[p.path[2]]) > last
    ]
    return [p for p in params if p not in held], held


def _optimise(prob: _Problem, max_evaluations: int) -> tuple[np.ndarray, dict[str, Any]]:
    """The model parameters (search scale) that fit best, and the optimiser's report.

    The measurement noise is settled at the scenario's values and again at
    the optimum; the fit is repeated once if the noise moved.
    """
    from scipy.optimize import least_squares

    phi = prob.start()
    meas = prob.meas
    meas.settle(prob.x(phi))
    if not prob.params:
        return phi, {"message": "measurement only", "success": True}
    lower = np.array([p.bounds[0] for p in prob.params])
    upper = np.array([p.bounds[1] for p in prob.params])
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
    return phi, {"message": res.message, "success": bool(res.success)}


def _outcome(
    prob: _Problem, phi: np.ndarray, held: list[Param], info: dict[str, Any], until: int | None
) -> Calibration:
    """The calibration at ``phi``: estimates with their uncertainty, tables and the replay."""
    meas, params, scenario = prob.meas, prob.params, prob.base
    x = prob.x(phi)
    fitted = meas.solve(x)
    cov, dispersion, names = _uncertainty(prob, phi, x, fitted)
    info["dispersion"] = dispersion
    labels = [q.name for q in params] + names
    info["covariance"] = pd.DataFrame(cov, index=labels, columns=labels)
    info["loglik"] = meas.loglik(fitted)
    info["evaluations"] = prob.runs
    p = len(params)
    se_int = np.sqrt(np.clip(np.diag(cov), 0, None))
    estimates = _estimates(prob, phi, se_int[:p])
    if held:
        info["held"] = [q.name for q in held]
        estimates = pd.concat([estimates, _held_rows(held, scenario)], ignore_index=True)
    return Calibration(
        scenario=with_params(scenario, params, prob.natural(phi)),
        base=scenario,
        params=params,
        estimates=estimates,
        measurement=_measurement_table(fitted, names, se_int[p:], meas),
        noise=_noise_table(fitted, meas),
        residuals=_residual_frame(prob.obs, x, fitted),
        correlation=_correlation(cov, se_int, params),
        fit=fitted,
        model_fit=meas,
        obs=prob.obs,
        until=until,
        x=x,
        replay=prob.simulate(phi),
        info=info,
    )


def _uncertainty(
    prob: _Problem, phi: np.ndarray, x: np.ndarray, fitted: Fit
) -> tuple[np.ndarray, float, list[str]]:
    """The covariance of all parameters, the dispersion and the measurement parameters' names.

    The model parameters come first (on the search scale), then the measurement parameters.
    """
    meas = prob.meas
    dx = prob.dx(phi) if prob.params else np.zeros((meas.n, 0))
    J, names = meas.jacobian(fitted, x, dx)
    if prob.priors and prob.params:
        rows = np.zeros((len(prob.params), J.shape[1]))
        rows[:, : len(prob.params)] = np.diag(1.0 / prob.prior_sd())
        J = np.vstack([J, rows])
    cov, dispersion = _covariance(J, np.concatenate([fitted.vector(), prob.model_prior(phi)]))
    return cov, dispersion, names


def _estimates(prob: _Problem, phi: np.ndarray, se_int: np.ndarray) -> pd.DataFrame:
    """One row per fitted model parameter: its estimate, standard error, interval and flags.

    ``se_int``: the standard errors on the search scale. On the natural scale
    the delta method gives the s.e.; the interval is mapped from the search scale.
    """
    params = prob.params
    theta = prob.natural(phi)
    grad = np.array([q.natural(v) if q.log else 1.0 for q, v in zip(params, phi)])
    se = se_int * grad
    lo_int, hi_int = _interval(phi, se_int, params)
    at_bound = _at_bound(phi, params)
    estimates = pd.DataFrame(
        {
            "parameter": [q.name for q in params],
            "start": prob.natural(prob.start()),
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
    estimates["weak"] = (rel >= 0.5) | at_bound if params else np.zeros(0, bool)
    return estimates


def _interval(
    phi: np.ndarray, se_int: np.ndarray, params: list[Param]
) -> tuple[np.ndarray, np.ndarray]:
    """The 95 % interval on the search scale, kept inside the bounds."""
    if not params:
        return np.zeros(0), np.zeros(0)
    lo_int = np.maximum(phi - 1.96 * se_int, [q.bounds[0] for q in params])
    hi_int = np.minimum(phi + 1.96 * se_int, [q.bounds[1] for q in params])
    return lo_int, hi_int


def _at_bound(phi: np.ndarray, params: list[Param]) -> np.ndarray:
    """Whether each estimate (search scale) lies on a bound of the search."""
    return np.array(
        [
            np.isclose(v, q.bounds[0], atol=1e-6) or np.isclose(v, q.bounds[1], atol=1e-6)
            for v, q in zip(phi, params)
        ],
        dtype=bool,
    )


def _held_rows(held: list[Param], scenario: Scenario) -> pd.DataFrame:
    """Rows of the estimates for the held parameters: the scenario's values, not fitted."""
    values = [q.value(scenario) for q in held]
    return pd.DataFrame(
        {
            "parameter": [q.name for q in held],
            "start": values,
            "estimate": values,
            "se": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "at_bound": False,
            "fitted": False,
            "weak": True,
        }
    )


def _correlation(cov: np.ndarray, se_int: np.ndarray, params: list[Param]) -> pd.DataFrame:
    """Correlations of the model parameter estimates (NaN where a standard error is 0 or
    unknown: a parameter at a bound or one the data do not move)."""
    p = len(params)
    with np.errstate(divide="ignore", invalid="ignore"):
        corr = cov[:p, :p] / np.outer(se_int[:p], se_int[:p]) if p else np.zeros((0, 0))
    return pd.DataFrame(corr, index=[q.name for q in params], columns=[q.name for q in params])


def _noise_table(fitted: Fit, meas: Measurement) -> pd.DataFrame:
    """The noise s.d. of each Gaussian block and its number of observations."""
    return pd.DataFrame(
        [(b, fitted.sigma[b], int((meas._block == b).sum())) for b in meas.blocks],
        columns=["block", "sigma", "n"],
    )


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
        for kind, values in (("trend", fit.trends), ("price", fit.prices)):
            if key in values:
                name = f"{kind}:{key}"
                rows.append((name, key, values[key], se_of.get(name, np.nan), False))
    return pd.DataFrame(rows, columns=["parameter", "key", "estimate", "se", "at_bound"])


def _residual_frame(obs: Observations, x: np.ndarray, fit: Fit) -> pd.DataFrame:
    f = obs.frame
    out = f[list(TABLE_COLUMNS)].copy()
    out["x"] = x
    out["fitted"] = point_prediction(f, fit.eta)
    out["residual"] = fit.residuals
    return out
