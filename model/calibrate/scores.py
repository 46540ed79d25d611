"""Scores of predictive distributions against observations, on the modelled scale.

:func:`crps_sample` is the exact continuous ranked probability score of an
empirical sample; :func:`predictive_draws` turns linear predictors into
draws of the observations (Gaussian noise, Poisson counts, Bernoulli
outcomes); :func:`point_prediction` gives the expected observation.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from .observations import GAUSSIAN

__all__ = ["crps_sample", "point_prediction", "predictive_draws"]


def crps_sample(samples: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Continuous ranked probability score of each column's sample against ``y`` (lower is better).

    ``samples[m, i]``: ``m`` draws of the predictive distribution of
    observation ``i``. ``CRPS = E|X - y| - E|X - X'| / 2``, computed exactly
    for the empirical distribution of the draws.
    """
    s = np.sort(np.asarray(samples, float), axis=0)
    m = s.shape[0]
    first = np.mean(np.abs(s - np.asarray(y, float)[None, :]), axis=0)
    k = np.arange(1, m + 1)[:, None]
    spread = 2.0 * np.sum((2 * k - m - 1) * s, axis=0) / m**2
    return first - 0.5 * spread


def predictive_draws(
    frame: pd.DataFrame,
    eta: np.ndarray,
    sigma: dict[str, float],
    draws: int = 20,
    rng: np.random.Generator | None = None,
) -> np.ndarray:
    """Draws of the observations given ``eta[r, i]`` (replicates by rows) and the noise.

    Gaussian families add ``N(0, sigma_block^2)``; counts draw Poisson, binary
    rows Bernoulli. Returns ``(replicates * draws, rows)``.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    eta = np.atleast_2d(eta)
    fam = frame["family"].to_numpy()
    sd = frame["block"].map(sigma).fillna(0.0).to_numpy(float)
    expo = frame["exposure"].to_numpy(float)
    out = np.repeat(eta, draws, axis=0)
    g = np.isin(fam, list(GAUSSIAN))
    out[:, g] = out[:, g] + rng.standard_normal((out.shape[0], g.sum())) * sd[g]
    c = fam == "count"
    if c.any():
        out[:, c] = rng.poisson(expo[c] * np.exp(np.clip(out[:, c], -30, 30)))
    b = fam == "binary"
    if b.any():
        out[:, b] = (rng.random((out.shape[0], b.sum())) < 1.0 / (1.0 + np.exp(-out[:, b]))).astype(
            float
        )
    return out


def point_prediction(frame: pd.DataFrame, eta: np.ndarray) -> np.ndarray:
    """The expected observation on its modelled scale: ``eta`` (log, logit), a count, a chance."""
    fam = frame["family"].to_numpy()
    out = np.array(eta, float)
    c = fam == "count"
    out[c] = frame["exposure"].to_numpy(float)[c] * np.exp(np.clip(out[c], -30, 30))
    b = fam == "binary"
    out[b] = 1.0 / (1.0 + np.exp(-out[b]))
    return out
