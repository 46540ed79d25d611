"""Rolling-origin evaluation: the model and naive baselines forecast the observed series from
each origin year, fitted only on the data up to it, and are scored on what came after.

This module owns :func:`evaluate` and its outcome, :class:`Evaluation`. At
each origin year ``T`` (:mod:`.origin`):

1. the observations of ``T`` and before (every frequency) are cut from the
   data and checked to end at ``T`` (:func:`.origin.check_no_leak`);
2. the model parameters and the measurement model are fitted on them
   (:func:`.fit.calibrate`, one fit per origin, shared by both modes);
3. the fitted scenario runs as an ensemble with its noise, and each annual
   observation of ``T + 1 .. T + H`` is predicted by draws through the fitted
   measurement model, measurement noise included (as :func:`.hindcast.hindcast`
   does). Mode ``known-events``: every event of the scenario happens as
   recorded, and the dollar-valued series see the actual prices
   (:mod:`.prices`). Mode ``frozen``: only the events that act up to 31
   December of ``T`` (:func:`.origin.frozen_scenario`; hazards and the policy
   stay), and the prices of ``T`` carried;
4. the baselines of :mod:`.baselines` are fitted on the annual history of
   each series cut at ``T``; the oil regression (trade values in dollars
   only) follows the actual Brent path in ``known-events`` and the last
   known price in ``frozen``.

Horizons are in years and only annual observations are forecast: a monthly
or year-to-date figure has no yearly history for a baseline and no "year
``T + h``" of its own (they still enter the model's fit). Several annual
values of one series in one year (sources that disagree) are scored as their
mean on the modelled scale. The scores are the tidy tables of
:mod:`.evaluation_table`; ``docs/VALIDATION.md`` reports them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, Final

import pandas as pd

from ..errors import ArgumentError
from ..parallel import progress_bar, run_tasks
from ..scenario import Scenario
from .drivers import BRENT, driver
from .evaluation_table import (
    SKILL_COLUMNS,
    Prediction,
    pooled_skill_table,
    scores_table,
    skill_table,
)
from .observations import Observations, for_scenario
from .origin import MODES, OriginTask, annual_series, run_origin
from .prices import Prices

__all__ = ["FAN_COLUMNS", "FIT_COLUMNS", "MODES", "Evaluation", "evaluate"]

#: The columns of :attr:`Evaluation.fans`, in order.
FAN_COLUMNS: Final[tuple[str, ...]] = (
    "index",
    "key",
    "series",
    "origin",
    "horizon",
    "year",
    "mode",
    "q05",
    "q25",
    "q50",
    "q75",
    "q95",
    "obs",
)
#: The columns of :attr:`Evaluation.fits`, in order.
FIT_COLUMNS: Final[tuple[str, ...]] = ("origin", "parameter", "estimate", "se", "fitted")


@dataclass
class Evaluation:
    """The outcome of :func:`evaluate`.

    ``scores``: one row per forecast (:data:`.evaluation_table.SCORE_COLUMNS`);
    ``skill``: the model against each baseline per series, horizon and mode
    (:data:`.evaluation_table.SKILL_COLUMNS`); ``pooled``: the same over the
    series of each measurement key (:data:`.evaluation_table.POOLED_COLUMNS`);
    ``predictions``: the predictive quantiles of every scored forecast with its
    observation (``index, key, series, origin, horizon, year, mode, method,
    q05 .. q95, obs``); ``fans``: the model's predictive quantiles in every
    target year up to the data's end, observed or not (the same columns but
    ``method``; ``obs`` NaN where none); ``history``: every annual value of the evaluated series
    (``index, key, series, year, y``); ``fits``: the fitted model parameters
    of each origin; ``left_out``: the series and rows not forecast, and why;
    ``settings``: what was asked for.
    """

    scores: pd.DataFrame
    skill: pd.DataFrame
    pooled: pd.DataFrame
    predictions: pd.DataFrame
    fans: pd.DataFrame
    history: pd.DataFrame
    fits: pd.DataFrame
    left_out: pd.DataFrame
    settings: dict[str, Any] = field(default_factory=dict)

    def summary(self, baseline: str = "persistence") -> str:
        """One screen of text: skill by key at horizons 1 and 3, the best and worst series.

        The series are ranked by their skill against ``baseline``.
        """
        from .evaluation_summary import summary

        return summary(self, baseline)


# --------------------------------------------------------------------------- settings


def _years(values: Iterable[int], name: str) -> tuple[int, ...]:
    try:
        out = tuple(sorted({int(v) for v in values}))
    except (TypeError, ValueError):
        raise ArgumentError(name, f"must be integer years (got {values!r})") from None
    if not out:
        raise ArgumentError(name, "must hold at least one year")
    return out


def _settings(
    origins: Iterable[int], horizons: Iterable[int] | int, mode: str
) -> tuple[tuple[int, ...], tuple[int, ...], tuple[str, ...]]:
    """Origins, horizons and modes, checked."""
    os_ = _years(origins, "origins")
    hs = _years(range(1, horizons + 1) if isinstance(horizons, int) else horizons, "horizons")
    if hs[0] < 1:
        raise ArgumentError("horizons", f"must be >= 1 (got {hs[0]})")
    if mode not in (*MODES, "both"):
        raise ArgumentError("mode", f"must be 'known-events', 'frozen' or 'both' (got {mode!r})")
    return os_, hs, MODES if mode == "both" else (mode,)


# --------------------------------------------------------------------------- evaluate


def evaluate(
    scenario: Scenario,
    origins: Iterable[int] = range(2005, 2020),
    horizons: Iterable[int] | int = range(1, 6),
    mode: str = "both",
    *,
    fit: str | Iterable[str] | None = None,
    observed: pd.DataFrame | Observations | str | None = None,
    oil: pd.Series | None = None,
    prices: Prices | bool = True,
    assimilate: bool = True,
    priors: bool = True,
    parameters: str = "calibrated",
    replicates: int = 100,
    draws: int = 10,
    seed: int | None = None,
    workers: int | None = 1,
    progress: bool = False,
) -> Evaluation:
    """Forecast every annual observed series from each origin with the model and the baselines.

    ``fit`` names the model parameters fitted at each origin (as in
    :func:`.fit.calibrate`; default :data:`.fit.DEFAULT_FIT`); ``observed``
    the data (default: the packaged observations); ``oil`` the yearly oil
    price (default: Brent, :func:`.drivers.driver`) of the oil regression;
    ``prices`` the price terms of the dollar-valued series in the model's
    measurement equations (:mod:`.prices`; ``True``: the packaged Brent
    price and CPI, ``False``: none); ``assimilate`` starts each Gaussian
    series' forecast from its filtered deviation from the model at the origin
    (:mod:`.assimilation`; ``False``: the model's level, independent
    measurement noise); ``priors`` fits each origin to the posterior mode
    under the priors of :func:`.fit.calibrate` (``False``: least squares);
    ``parameters="calibrated"`` draws the fitted model and measurement
    parameters from their covariance (:mod:`.uncertainty`), ``"fixed"``
    keeps the estimates. The model's predictive
    distribution has ``replicates * draws`` draws (``replicates`` runs of the
    fitted scenario with its noise, ``draws`` of the measurement noise each);
    ``seed`` defaults to the scenario's; ``observed="extended"`` takes the
    packaged data with the additions (:func:`.observed.load_observed`).
    ``workers`` > 1 runs origins in processes (``None``: all cores); the
    result does not depend on it.
    """
    origins_, hs, modes = _settings(origins, horizons, mode)
    _check_sampling(parameters, replicates, draws)
    obs, label = _observations(observed, scenario)
    _check_span(obs, origins_, hs)
    seed = scenario.run.seed if seed is None else int(seed)
    fit_ = fit if fit is None or isinstance(fit, str) else tuple(fit)
    oil_ = driver(BRENT) if oil is None else oil.astype(float)
    prices_ = Prices.packaged() if prices is True else prices or None
    task = OriginTask(
        scenario,
        obs,
        origins_[0],
        hs,
        modes,
        fit_,
        oil_,
        replicates,
        draws,
        seed,
        prices_,
        assimilate,
        priors,
        parameters,
    )
    preds, fans, fits = _run_all(task, origins_, workers, progress)
    if not preds:
        raise ArgumentError(
            "origins",
            "nothing to score: no series has an annual value at an origin and another "
            "within the horizons after it",
        )
    return _outcome(obs, preds, fans, fits, _record(task, origins_, label))


def _check_sampling(parameters: str, replicates: int, draws: int) -> None:
    """``parameters`` is a known choice and the counts of draws are positive."""
    if parameters not in ("calibrated", "fixed"):
        raise ArgumentError("parameters", f"must be 'calibrated' or 'fixed' (got {parameters!r})")
    for name, value in (("replicates", replicates), ("draws", draws)):
        if value < 1:
            raise ArgumentError(name, f"must be >= 1 (got {value})")


def _observations(
    observed: pd.DataFrame | Observations | str | None, scenario: Scenario
) -> tuple[Observations, str]:
    """The data to score on, for ``scenario``, and how they were given (for the record)."""
    label = observed if isinstance(observed, str) else "packaged" if observed is None else "given"
    if isinstance(observed, str):
        from .observed import KINDS, load_observed

        if observed not in KINDS:
            raise ArgumentError("observed", f"must be one of {', '.join(KINDS)} (got {observed!r})")
        observed = load_observed(observed)
    return for_scenario(observed, scenario), label


def _check_span(obs: Observations, origins: tuple[int, ...], horizons: tuple[int, ...]) -> None:
    """Every origin has data up to it, and some target year has data: else an ``origins`` error."""
    if len(obs) == 0:
        raise ArgumentError("origins", "no observations of the scenario's indices to evaluate")
    first, last = int(obs.frame["year"].min()), int(obs.frame["year"].max())
    if origins[0] < first:
        raise ArgumentError(
            "origins", f"no observations up to {origins[0]}: the data start in {first}"
        )
    if origins[0] + horizons[0] > last:
        raise ArgumentError(
            "origins",
            f"nothing to score: the data end in {last}, before {origins[0]} + {horizons[0]}",
        )


def _run_all(
    task: OriginTask, origins: tuple[int, ...], workers: int | None, progress: bool
) -> tuple[list[Prediction], list[pd.DataFrame], list[pd.DataFrame]]:
    """Every origin's predictions, fans and fits (here or in worker processes)."""
    tasks = [(replace(task, origin=T),) for T in origins]
    preds: list[Prediction] = []
    fans, fits = [], []
    with progress_bar(len(tasks), progress, "origin", "evaluate") as bar:
        for _, (p, fan, f) in run_tasks(
            run_origin, tasks, [1] * len(tasks), workers=workers, bar=bar
        ):
            preds += p
            fans.append(fan)
            fits.append(f)
    return preds, fans, fits


def _record(task: OriginTask, origins: tuple[int, ...], observed: str) -> dict[str, Any]:
    """The settings of an evaluation, as plain data (for ``metadata.json``)."""
    return {
        "origins": list(origins),
        "horizons": list(task.horizons),
        "modes": list(task.modes),
        "fit": task.fit if task.fit is None or isinstance(task.fit, str) else list(task.fit),
        "replicates": task.replicates,
        "draws": task.draws,
        "seed": task.seed,
        "oil": str(task.oil.name or "oil"),
        "prices": task.prices is not None,
        "assimilate": task.assimilate,
        "priors": task.priors,
        "parameters": task.parameters,
        "observed": observed,
    }


def _outcome(
    obs: Observations,
    preds: list[Prediction],
    fans: list[pd.DataFrame],
    fits: list[pd.DataFrame],
    settings: dict[str, Any],
) -> Evaluation:
    """The tables of the evaluation from the predictions, fans and fits of every origin."""
    from .evaluation_summary import left_out, predictions_table

    history = annual_series(obs)
    pools = dict(zip(history["series"], history["key"]))
    scores = scores_table(preds)
    has_model = (scores["method"] == "model").any()
    skill = skill_table(scores) if has_model else pd.DataFrame(columns=list(SKILL_COLUMNS))
    fit_table = _concat(fits, FIT_COLUMNS, ["origin", "parameter"])
    return Evaluation(
        scores=scores,
        skill=skill,
        pooled=pooled_skill_table(scores, pools),
        predictions=predictions_table(preds, pools),
        fans=_concat(fans, FAN_COLUMNS, ["series", "origin", "mode", "year"]),
        history=history,
        fits=fit_table,
        left_out=left_out(obs, scores),
        settings=settings,
    )


def _concat(frames: list[pd.DataFrame], columns: Sequence[str], keys: list[str]) -> pd.DataFrame:
    """The frames one under the other, with ``columns``, sorted by ``keys``."""
    frames = [f for f in frames if len(f)]
    if not frames:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    table = pd.concat(frames, ignore_index=True)[list(columns)]
    return table.sort_values(keys, kind="stable", ignore_index=True)
