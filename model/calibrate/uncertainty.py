"""Parameter uncertainty in forecasts: draws of the fitted parameters from their covariance.

A calibration's estimates carry a covariance (the inverse information of the
fit, with the priors' rows when it has them: a Laplace approximation of the
posterior; :func:`.fit.calibrate` keeps it in ``info["covariance"]``). This
module turns it into draws:

* :func:`measurement_shifts` draws the measurement parameters of each target
  row (its group's offset, its key's slope and oil price elasticity) once per
  replicate and returns the change of the linear predictor they make, so that
  a forecast's spread carries the uncertainty of the measurement equation as
  well as the index noise and the measurement noise;
* :func:`model_parameter_draws` draws the fitted model parameters (half-lives,
  event scales; on their natural scale, inside their bounds), one set per
  group of replicates.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from .measurement import CENTRE

if TYPE_CHECKING:
    from .fit import Calibration

__all__ = ["measurement_shifts", "model_parameter_draws"]


def _gaussian(cov: np.ndarray, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws of ``N(0, cov)`` (a covariance that may be singular), shape ``(n, k)``."""
    vals, vecs = np.linalg.eigh((cov + cov.T) / 2)
    root = vecs * np.sqrt(np.clip(vals, 0.0, None))
    return rng.standard_normal((n, len(vals))) @ root.T


def measurement_shifts(
    cal: Calibration,
    targets: pd.DataFrame,
    x: np.ndarray,
    oil: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """Per replicate and target row, the change of ``eta`` made by a draw of its parameters.

    ``x``: the index per replicate and row ``(replicates, rows)``; ``oil``: the
    row's real oil price term (0 where none). Parameters without a covariance
    (a slope held at 0, a group not fitted) are not drawn. Returns zeros
    without a covariance.
    """
    x = np.atleast_2d(np.asarray(x, float))
    cov = cal.info.get("covariance")
    if cov is None or not len(targets):
        return np.zeros_like(x)
    names = [n for n in cov.index if n.split(":", 1)[0] in ("offset", "slope", "price")]
    if not names:
        return np.zeros_like(x)
    z = _gaussian(cov.loc[names, names].to_numpy(float), x.shape[0], rng)
    col = {n: j for j, n in enumerate(names)}

    def pick(labels: pd.Series) -> np.ndarray:
        j = np.array([col.get(str(n), -1) for n in labels])
        return np.where(j[None, :] >= 0, z[:, np.maximum(j, 0)], 0.0)

    sign = targets["sign"].to_numpy(float)
    return (
        pick("offset:" + targets["group"].astype(str))
        + sign * (x - CENTRE) * pick("slope:" + targets["key"].astype(str))
        + np.asarray(oil, float)[None, :] * pick("price:" + targets["key"].astype(str))
    )


def model_parameter_draws(cal: Calibration, n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` draws of the fitted model parameters, natural scale, inside their bounds: ``(n, p)``.

    Drawn on the search scale (log for half-lives) from the covariance of the
    fit, clipped to the search bounds. Without fitted parameters: ``(n, 0)``.
    """
    params = cal.params
    cov = cal.info.get("covariance")
    if not params or cov is None:
        return np.zeros((n, 0))
    names = [p.name for p in params]
    centre = np.array([p.internal(v) for p, v in zip(params, cal.theta)])
    draws = centre + _gaussian(cov.loc[names, names].to_numpy(float), n, rng)
    lower = np.array([p.bounds[0] for p in params])
    upper = np.array([p.bounds[1] for p in params])
    draws = np.clip(draws, lower, upper)
    return np.array([[p.natural(v) for p, v in zip(params, row)] for row in draws])
