"""Scores of predictive distributions against observations, and tests between forecasters.

This module owns the scoring arithmetic of the hindcasts and the evaluation:
pure functions over arrays, lower is better for every loss. The CRPS of an
empirical sample is computed here (:func:`crps_sample`) and by scoringrules
(:func:`crps_ensemble`), which agree; :func:`predictive_draws` turns linear
predictors into draws of the observations (Gaussian noise, Poisson counts,
Bernoulli outcomes) and :func:`point_prediction` gives the expected
observation.

Axis convention, for every function here: ``obs`` has any shape ``S``
(usually ``(n,)``, one entry per forecast case); ``samples`` has shape
``(n_draws,) + S``, the draws of each case's predictive distribution along
the FIRST axis and the cases along the last axes, matching ``obs``
(the layout of :func:`crps_sample`).
"""

from __future__ import annotations

from typing import Literal, NamedTuple

import numpy as np
import pandas as pd
from scipy import stats

from .observations import GAUSSIAN

__all__ = [
    "DMTest",
    "abs_error_median",
    "coverage",
    "crps_ensemble",
    "crps_normal",
    "crps_sample",
    "diebold_mariano",
    "direction_ok",
    "point_prediction",
    "predictive_draws",
    "skill",
]


def _pair(obs, samples) -> tuple[np.ndarray, np.ndarray]:
    """``obs`` and ``samples`` as float arrays, checked against the axis convention."""
    obs, samples = np.asarray(obs, float), np.asarray(samples, float)
    if samples.ndim != obs.ndim + 1 or samples.shape[1:] != obs.shape or samples.shape[0] < 1:
        raise ValueError(
            f"'samples' must have shape (n_draws,) + {obs.shape} (got {samples.shape})"
        )
    return obs, samples


def crps_ensemble(obs, samples) -> np.ndarray:
    """CRPS of the empirical distribution of the draws: ``E|X - y| - E|X - X'| / 2``.

    Exact for the draws as given (``scoringrules.crps_ensemble`` with the
    quantile-decomposition estimator, which equals the energy form, not the
    "fair" estimator with ``m (m - 1)``). Shape of ``obs``.
    """
    obs, samples = _pair(obs, samples)
    return np.asarray(_scoringrules().crps_ensemble(obs, samples, m_axis=0, estimator="qd"), float)


def crps_normal(obs, mu, sigma) -> np.ndarray:
    """CRPS of ``N(mu, sigma^2)`` in closed form; arrays broadcast together.

    ``sigma * (w (2 Phi(w) - 1) + 2 phi(w) - 1 / sqrt(pi))`` with
    ``w = (y - mu) / sigma`` (``scoringrules.crps_normal``).
    """
    sigma = np.asarray(sigma, float)
    if not (sigma > 0).all():
        raise ValueError(f"'sigma' must be > 0 (got min {sigma.min()})")
    return np.asarray(
        _scoringrules().crps_normal(np.asarray(obs, float), np.asarray(mu, float), sigma), float
    )


def coverage(obs, samples, level: float) -> np.ndarray:
    """Whether each observation lies in the central ``level`` interval of its draws.

    The interval runs from the ``(1 - level) / 2`` to the ``(1 + level) / 2``
    quantile of the draws (linear interpolation), ends included. Booleans,
    shape of ``obs``.
    """
    if not 0 < level < 1:
        raise ValueError(f"'level' must be in (0, 1) (got {level})")
    obs, samples = _pair(obs, samples)
    lo, hi = np.quantile(samples, [(1 - level) / 2, (1 + level) / 2], axis=0)
    return (lo <= obs) & (obs <= hi)


def abs_error_median(obs, samples) -> np.ndarray:
    """``|median of the draws - y|``, shape of ``obs``."""
    obs, samples = _pair(obs, samples)
    return np.abs(np.median(samples, axis=0) - obs)


def direction_ok(obs, last, median, tol: float = 0.0) -> np.ndarray:
    """Whether the predicted change from the last observed value has the observed sign.

    The signs of ``median - last`` and ``obs - last`` are compared, a change
    no larger than ``tol`` in absolute value counting as no change (sign 0):
    a predicted "no change" is right only when there was none, and vice
    versa. Arrays broadcast together; NaN anywhere gives False.
    """
    if tol < 0:
        raise ValueError(f"'tol' must be >= 0 (got {tol})")
    obs, last, median = (np.asarray(a, float) for a in (obs, last, median))

    def sign(change: np.ndarray) -> np.ndarray:
        return np.where(np.abs(change) <= tol, 0.0, np.sign(change))

    ok = sign(median - last) == sign(obs - last)
    return ok & np.isfinite(obs) & np.isfinite(last) & np.isfinite(median)


class DMTest(NamedTuple):
    """A Diebold–Mariano test: the statistic and its two-sided p-value."""

    statistic: float
    pvalue: float


def _long_run_variance(d: np.ndarray, lags: int, kernel: str) -> float:
    """``gamma_0 + 2 sum_k w_k gamma_k`` for k = 1..lags, autocovariances divided by n."""
    n, dev = len(d), d - d.mean()
    gamma = np.array([dev[k:] @ dev[: n - k] / n for k in range(lags + 1)])
    k = np.arange(1, lags + 1)
    w = np.ones(lags) if kernel == "rectangular" else 1 - k / (lags + 1)
    return float(gamma[0] + 2 * w @ gamma[1:])


def diebold_mariano(
    loss_a, loss_b, h: int, kernel: Literal["rectangular", "bartlett"] = "rectangular"
) -> DMTest:
    """Diebold–Mariano test of equal expected loss, with the Harvey–Leybourne–Newbold correction.

    ``d_t = loss_a[t] - loss_b[t]`` over ``n`` paired cases in time order
    (for ``h``-step forecasts from successive origins). As in Diebold and
    Mariano (1995), the variance of the mean is ``V / n`` with
    ``V = gamma_0 + 2 sum_{k=1}^{h-1} gamma_k``: sample autocovariances
    (divided by ``n``) up to lag ``h - 1`` with rectangular weights
    (``kernel="bartlett"``: Newey–West weights ``1 - k / h``). Harvey,
    Leybourne and Newbold (1997) scale ``dbar / sqrt(V / n)`` by
    ``sqrt((n + 1 - 2h + h (h - 1) / n) / n)`` and refer it to Student's
    t with ``n - 1`` degrees of freedom (two-sided p-value).

    Negative statistics favour ``a``. NaN for both values when ``n < 3``, when
    ``V <= 0`` (no variation in the differential, or a negative rectangular
    estimate), or when the correction factor is not positive (``h`` too
    large for ``n``). Lags are capped at ``n - 1``.
    """
    a, b = np.asarray(loss_a, float).ravel(), np.asarray(loss_b, float).ravel()
    if a.shape != b.shape:
        raise ValueError(f"'loss_a' and 'loss_b' must be paired (got {a.size} and {b.size})")
    if int(h) != h or h < 1:
        raise ValueError(f"'h' must be a positive integer (got {h})")
    if kernel not in ("rectangular", "bartlett"):
        raise ValueError(f"'kernel' must be 'rectangular' or 'bartlett' (got {kernel!r})")
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        raise ValueError("'loss_a' and 'loss_b' must be finite")
    d, n = a - b, a.size
    nan = DMTest(float("nan"), float("nan"))
    if n < 3:
        return nan
    v = _long_run_variance(d, min(int(h) - 1, n - 1), kernel)
    factor = (n + 1 - 2 * h + h * (h - 1) / n) / n
    if not v > 1e-12 * max(float(np.mean(d**2)), np.finfo(float).tiny) or factor <= 0:
        return nan
    stat = float(np.sqrt(factor) * d.mean() / np.sqrt(v / n))
    return DMTest(stat, float(2 * stats.t.sf(abs(stat), df=n - 1)))


def skill(crps_model, crps_baseline) -> float:
    """Skill score ``1 - mean(model) / mean(baseline)``: > 0 when the model's loss is lower.

    The two arrays are paired (same cases). NaN when the baseline's mean loss is 0.
    """
    m, b = np.asarray(crps_model, float), np.asarray(crps_baseline, float)
    if m.shape != b.shape or m.size == 0:
        raise ValueError(
            f"'crps_model' and 'crps_baseline' must be paired and non-empty "
            f"(got shapes {m.shape} and {b.shape})"
        )
    mean_b = float(np.mean(b))
    return float("nan") if mean_b == 0 else 1.0 - float(np.mean(m)) / mean_b


def _scoringrules():
    """scoringrules, imported on first use."""
    import scoringrules

    return scoringrules


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
    sd: np.ndarray | None = None,
) -> np.ndarray:
    """Draws of the observations given ``eta[r, i]`` (replicates by rows) and the noise.

    Gaussian families add ``N(0, sigma_block^2)``, or ``N(0, sd_i^2)`` where
    ``sd`` (one per row) is finite; counts draw Poisson, binary rows
    Bernoulli. Returns ``(replicates * draws, rows)``.
    """
    rng = np.random.default_rng(0) if rng is None else rng
    eta = np.atleast_2d(eta)
    fam = frame["family"].to_numpy()
    block_sd = frame["block"].map(sigma).fillna(0.0).to_numpy(float)
    sd = block_sd if sd is None else np.where(np.isfinite(sd), sd, block_sd)
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
