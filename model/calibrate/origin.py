"""One origin of the rolling-origin evaluation: the data cut at it, the fit, the forecasts.

This module owns what happens at one origin year ``T`` of :func:`.evaluate.evaluate`:

- :func:`cut` gives the observations the fit may see (``T`` and before) and
  :func:`check_no_leak` refuses any that reach past 31 December of ``T``;
- :func:`frozen_scenario` is the scenario as known at the end of ``T``: every
  event that acts later dropped (mode ``frozen``);
- :func:`run_origin` fits the model on the cut data (:func:`.fit.calibrate`,
  once for both modes), runs the fitted scenario as an ensemble in each mode
  and turns it into draws of each annual observation of ``T + 1 .. T + H``
  through the fitted measurement model, measurement noise included (the
  dollar-valued series at the actual prices of the target years, or, frozen,
  at the prices of ``T`` carried); and fits
  the baselines (:mod:`.baselines`) on each series' annual history cut at ``T``.

Only annual observations are forecast (:func:`annual_series`: one value per
series and year, the mean on the modelled scale where sources disagree).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any, Final

import numpy as np
import pandas as pd

from ..catalog import Event
from ..ensemble import simulate
from ..errors import ArgumentError, ModelError
from ..scenario import Scenario, scenario_from_dict
from .assimilation import Assimilation, assimilate
from .baselines import (
    METHODS,
    Forecast,
    fit_baselines,
    frozen_oil_path,
    known_oil_path,
    oil_regression,
)
from .evaluation_table import Prediction, forecast_predictions
from .fit import Calibration, calibrate
from .observations import Observations, averaging_matrix
from .prices import Prices
from .problem import with_params
from .scores import predictive_draws
from .uncertainty import measurement_shifts, model_parameter_draws

__all__ = [
    "DOLLAR_KEYS",
    "MODES",
    "OriginTask",
    "annual_series",
    "check_no_leak",
    "cut",
    "frozen_scenario",
    "later_events",
    "run_origin",
]

#: The modes, in the order they are reported.
MODES: Final[tuple[str, ...]] = ("known-events", "frozen")
#: The measurement keys whose series are dollar values: the oil regression forecasts them.
DOLLAR_KEYS: Final[frozenset[str]] = frozenset({"trade:log"})
#: The most draws of the model parameters per origin and mode (replicates are split among them).
PARAMETER_SETS: Final[int] = 10
#: The quantiles of the model's fans.
FAN_QUANTILES: Final[tuple[float, ...]] = (0.05, 0.25, 0.5, 0.75, 0.95)


# --------------------------------------------------------------------------- the data at T


def cut(obs: Observations, origin: int) -> Observations:
    """The observations the fit at ``origin`` may see: those of ``origin`` and before."""
    return obs.until(origin)


def check_no_leak(obs: Observations, origin: int) -> None:
    """Refuse data that reach past 31 December of ``origin``.

    Raises :class:`~model.errors.ModelError` naming the first offending
    series, its year and its period.
    """
    end = pd.Timestamp(origin, 12, 31)
    late = obs.frame[(obs.frame["year"] > origin) | (obs.frame["end"] > end)]
    if len(late):
        row = late.sort_values(["year", "series"], kind="stable").iloc[0]
        raise ModelError(
            f"data leak at origin {origin}: the fit would see {row['series']} of "
            f"{int(row['year'])} (period {row['period']}) and {len(late) - 1} more "
            f"observation(s) after {origin}"
        )


def annual_series(obs: Observations) -> pd.DataFrame:
    """The annual observations as one value per series and year: ``index, key, series, year, y``.

    ``series`` is the measurement group (a quantity on one statistical
    basis); values of one series in one year are averaged on the modelled scale.
    """
    f = obs.frame[obs.frame["frequency"] == "annual"]
    out = f.groupby(["indicator", "key", "group", "year"], as_index=False, sort=True)["y"].mean()
    return out.rename(columns={"indicator": "index", "group": "series"})


# --------------------------------------------------------------------------- the frozen scenario


def _acts_on(event: Event, by_id: dict[str, Event]) -> dt.date | None:
    """The day ``event`` acts: its date, or its parent's plus the delay for a follow-up."""
    days, seen = 0, set()
    while event.date is None:
        after = event.after
        if after is None or event.id in seen or after.event not in by_id:
            return None
        seen.add(event.id)
        days += after.days
        event = by_id[after.event]
    return event.date + dt.timedelta(days=days)


def later_events(scenario: Scenario, origin: int) -> list[str]:
    """The ids of the scenario's events (catalog or added) that act after 31 December of ``origin``.

    A follow-up acts on its parent's day plus its delay, so one that would
    come after the origin is later too, whatever its parent's date.
    """
    events = scenario.timeline()
    by_id = {e.id: e for e in events}
    end = dt.date(origin, 12, 31)
    return [e.id for e in events if (when := _acts_on(e, by_id)) is not None and when > end]


def frozen_scenario(scenario: Scenario, origin: int, **run: Any) -> Scenario:
    """``scenario`` as known at the end of ``origin``: every later event dropped.

    Hazards and the policy stay as the scenario sets them: they are the
    model's own rules for what may happen, not the record, so they act
    after the origin as before it. ``run`` changes run settings.
    """
    data = scenario.to_dict()
    events = data.setdefault("events", {})
    events["drop"] = list(dict.fromkeys([*events.get("drop", []), *later_events(scenario, origin)]))
    data.setdefault("run", {}).update(run)
    return scenario_from_dict(data, file=f"{scenario.name} frozen at the end of {origin}")


# --------------------------------------------------------------------------- one origin


@dataclass(frozen=True)
class OriginTask:
    """Everything one origin needs (picklable: origins may run in worker processes)."""

    scenario: Scenario
    obs: Observations
    origin: int
    horizons: tuple[int, ...]
    modes: tuple[str, ...]
    fit: str | tuple[str, ...] | None
    oil: pd.Series
    replicates: int
    draws: int
    seed: int
    prices: Prices | None = None
    assimilate: bool = True
    priors: bool = True
    parameters: str = "calibrated"


def run_origin(task: OriginTask) -> tuple[list[Prediction], pd.DataFrame, pd.DataFrame]:
    """At one origin: the predictions of every method, the model's fans and the fit's estimates.

    The fans hold the model's predictive quantiles in every target year, observed or not.
    """
    data = cut(task.obs, task.origin)
    check_no_leak(data, task.origin)
    cal = calibrate(
        task.scenario,
        task.fit,
        observed=data,
        until=task.origin,
        prices=task.prices,
        priors=task.priors,
    )
    assim = assimilate(cal, task.origin) if task.assimilate else None
    known = annual_series(task.obs)
    history = annual_series(data)
    targets = _targets(task, cal, data, known)
    preds: list[Prediction] = []
    fans = []
    for mode in task.modes if len(targets) else ():
        draws = _model_draws(task, cal, targets, mode, assim)
        preds += _model_predictions(task, targets, history, mode, draws)
        fans.append(_fans(targets, mode, draws))
    preds += _baseline_predictions(task, history, known)
    fits = cal.estimates[["parameter", "estimate", "se", "fitted"]].assign(origin=task.origin)
    return preds, pd.concat(fans, ignore_index=True) if fans else pd.DataFrame(), fits


def _targets(
    task: OriginTask, cal: Calibration, data: Observations, known: pd.DataFrame
) -> pd.DataFrame:
    """One annual row per series the model can forecast and target year up to the data's end.

    A series is forecast when it has a fitted offset and an annual value up
    to the origin (its ``last``). Each row is the series' last annual row up
    to the origin moved to the year ``origin + horizon`` (the whole year as
    its window); ``y`` is that year's observed value (the mean where sources
    disagree), NaN where none was observed.
    """
    f = data.frame
    rows = f[
        (f["frequency"] == "annual")
        & f["group"].isin(cal.fit.offsets)
        & f["key"].isin(cal.fit.slopes)
    ]
    template = rows.sort_values("year", kind="stable").drop_duplicates("group", keep="last")
    last_year = int(task.obs.frame["year"].max())
    out = []
    for h in (h for h in task.horizons if task.origin + h <= last_year):
        year = task.origin + h
        start, end = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
        out.append(
            template.assign(
                year=year,
                period=str(year),
                start=start,
                end=end,
                date=start + (end - start) / 2,
                exposure=1.0,
                horizon=h,
            )
        )
    if not out:
        return template.iloc[:0].assign(horizon=0)
    grid = pd.concat(out, ignore_index=True).drop(columns="y")
    observed = known.rename(columns={"series": "group"})[["group", "year", "y"]]
    grid = grid.merge(observed, on=["group", "year"], how="left")
    return grid.sort_values(["key", "group", "year"], kind="stable").reset_index(drop=True)


def _ensemble_scenario(
    cal: Calibration, mode: str, origin: int, values: np.ndarray | None = None
) -> Scenario:
    """The fitted scenario of a mode, run monthly to the end of the fit's replay.

    ``values``: the model parameters to set instead of the estimates (a draw).
    """
    run = {"record": "monthly", "end": str(cal.replay.metadata["end"])}
    fitted = cal.scenario if values is None else with_params(cal.base, cal.params, values)
    if mode == "frozen":
        return frozen_scenario(fitted, origin, **run)
    return with_params(fitted, [], [], **run)


def _index_paths(
    task: OriginTask, cal: Calibration, mode: str
) -> tuple[pd.DatetimeIndex, list[str], np.ndarray]:
    """The ensemble's dates, indices and paths ``(replicates, records, indices)``.

    With ``parameters = "calibrated"`` the replicates come in up to
    :data:`PARAMETER_SETS` groups, each run with its own draw of the fitted
    model parameters (:func:`.uncertainty.model_parameter_draws`).
    """
    if task.parameters == "fixed" or not cal.params:
        ens = simulate(_ensemble_scenario(cal, mode, task.origin), task.replicates, task.seed)
        return ens.dates, list(ens.indicators), ens.all_paths()
    k = min(PARAMETER_SETS, task.replicates)
    values = model_parameter_draws(cal, k, np.random.default_rng([task.seed, task.origin, 2]))
    sizes = np.diff(np.linspace(0, task.replicates, k + 1).round().astype(int))
    paths = []
    for j, (row, n) in enumerate(zip(values, sizes)):
        ens = simulate(_ensemble_scenario(cal, mode, task.origin, row), int(n), task.seed + j)
        paths.append(ens.all_paths())
    return ens.dates, list(ens.indicators), np.concatenate(paths)


def _model_draws(
    task: OriginTask,
    cal: Calibration,
    targets: pd.DataFrame,
    mode: str,
    assim: Assimilation | None = None,
) -> np.ndarray:
    """Draws of the targets, ``(replicates * draws, rows)``: index noise, then measurement noise.

    With ``assim``, a Gaussian series with a filtered deviation at the origin
    gets its expected deviation added and the deviation's predictive s.d. in
    place of the measurement noise (:mod:`.assimilation`). Both modes use the
    same random numbers (the ensemble's seed, and a measurement stream keyed
    by the seed and the origin), so their difference is the events'.
    """
    dates, indicators, paths = _index_paths(task, cal, mode)
    M = averaging_matrix(targets, dates)
    col = np.array([indicators.index(k) for k in targets["indicator"]], dtype=int)
    x = np.einsum("it,rti->ri", M, paths[:, :, col])
    prices = _price_path(task, targets, mode)
    eta = cal.model_fit.linear_predictor(cal.fit, targets, x, prices)
    if task.parameters == "calibrated":
        oil = prices.columns(targets)[0] if prices is not None else np.zeros(len(targets))
        rng_p = np.random.default_rng([task.seed, task.origin, 1])
        eta = eta + measurement_shifts(cal, targets, x, oil, rng_p)
    rng = np.random.default_rng([task.seed, task.origin])
    shift, sd = assim.shift(targets) if assim is not None else (np.zeros(len(targets)), None)
    eta = eta + np.where(np.isfinite(shift), shift, 0.0)
    return predictive_draws(targets, eta, cal.fit.sigma, draws=task.draws, rng=rng, sd=sd)


def _price_path(task: OriginTask, targets: pd.DataFrame, mode: str) -> Prices | None:
    """The prices of the target years: the actual ones, or those of the origin carried (frozen)."""
    if task.prices is None or mode != "frozen" or not len(targets):
        return task.prices
    return task.prices.frozen(task.origin, int(targets["year"].max()))


def _model_predictions(
    task: OriginTask, targets: pd.DataFrame, history: pd.DataFrame, mode: str, draws: np.ndarray
) -> list[Prediction]:
    """The model's predictions of the targets that were observed."""
    last = history.groupby("series")["y"].last()
    return [
        Prediction(
            row.indicator,
            row.group,
            task.origin,
            int(row.horizon),
            mode,
            "model",
            draws[:, i],
            float(row.y),
            float(last[row.group]),
        )
        for i, row in enumerate(targets.itertuples(index=False))
        if np.isfinite(row.y)
    ]


def _fans(targets: pd.DataFrame, mode: str, draws: np.ndarray) -> pd.DataFrame:
    """The model's predictive quantiles of every target, observed or not (``obs`` NaN if not)."""
    q = np.quantile(draws, FAN_QUANTILES, axis=0)
    fans = pd.DataFrame(
        {
            "index": targets["indicator"].to_numpy(),
            "key": targets["key"].to_numpy(),
            "series": targets["group"].to_numpy(),
            "origin": targets["year"].to_numpy() - targets["horizon"].to_numpy(),
            "horizon": targets["horizon"].to_numpy(),
            "year": targets["year"].to_numpy(),
            "mode": mode,
        }
    )
    for name, row in zip(("q05", "q25", "q50", "q75", "q95"), q, strict=True):
        fans[name] = row
    fans["obs"] = targets["y"].to_numpy(float)
    return fans


def _baseline_predictions(
    task: OriginTask, history: pd.DataFrame, known: pd.DataFrame
) -> list[Prediction]:
    """Every baseline's predictions of every annual series with a history up to the origin.

    ``persistence``, ``rw_drift`` and ``ar1`` know no events: fitted once, the
    same forecast serves both modes. Each series draws from its own seed.
    """
    last_year = int(known["year"].max()) if len(known) else task.origin
    hs = tuple(h for h in task.horizons if task.origin + h <= last_year)
    preds: list[Prediction] = []
    if not hs:
        return preds
    groups = history.groupby(["index", "key", "series"], sort=True)
    for k, ((index, key, series), past) in enumerate(groups):
        seed = int(np.random.SeedSequence([task.seed, task.origin, k]).generate_state(1)[0])
        y_past = pd.Series(past["y"].to_numpy(), index=past["year"].to_numpy())
        common = [f for f in fit_baselines(y_past, task.origin, hs, seed=seed).values() if f]
        full = known[known["series"] == series]
        y_all = pd.Series(full["y"].to_numpy(), index=full["year"].to_numpy())
        for mode in task.modes:
            oil = _oil_forecast(task, y_past, hs, mode, seed) if key in DOLLAR_KEYS else []
            for forecast in common + oil:
                preds += forecast_predictions(
                    forecast, y_all, index=index, series=series, mode=mode
                )
    return preds


def _oil_forecast(
    task: OriginTask, history: pd.Series, hs: tuple[int, ...], mode: str, seed: int
) -> list[Forecast]:
    """The oil regression of one dollar series: the actual oil path, or the last price carried.

    It draws from the same child of ``seed`` as in :func:`.baselines.fit_baselines`.
    """
    try:
        path = (frozen_oil_path if mode == "frozen" else known_oil_path)(task.oil, task.origin, hs)
    except ValueError as exc:
        raise ArgumentError("oil", str(exc)) from None
    child = np.random.SeedSequence(seed).spawn(len(METHODS))[METHODS.index("oil_regression")]
    rng = np.random.default_rng(child)
    forecast = oil_regression(history, task.origin, hs, task.oil, path, seed=rng)
    return [] if forecast is None else [forecast]
