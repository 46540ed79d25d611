"""The measurement model: how the latent indices show up in observed data.

The indices are not measured quantities (``docs/MODEL.md``). This module links
them to the observed series of :mod:`.observed` by one equation per
observation, so that the model can be fitted to data and scored against it.
``docs/VALIDATION.md`` (section *Measurement model*) gives the equations and
the reasons; in short, for an observation ``i`` of series ``s`` covering the
window ``[start_i, end_i]``:

``x_i``
    the mean of the modelled index (points, 0–100) over the window;
``eta_i = a_g + sign_s * b_k * (x_i - 50)``
    the linear predictor: ``a_g`` one offset per *group* (a quantity on one
    statistical basis, so bases are never spliced; every proxy series is a
    group of its own), ``b_k`` one slope per *key* (index and family), and
    ``sign_s = -1`` for items that run against cooperation ("threat",
    "unfavourable", ...);

dollar-valued observations (unit ``USD ...``) add the price terms of
:mod:`.prices` when the measurement is built with prices: the US CPI deflates
the dollars (elasticity 1) and the log real Brent price enters with a fitted
elasticity ``c_k`` per key (``price:<key>``);

and by family:

``log``     (trade values, gas volumes, arms imports from the US)
    ``log(value, annualised) = eta + e``, ``e ~ N(0, sigma_block^2)``;
``logit``   (survey shares)
    ``logit(share) = eta + e``;
``count``   (leader meetings, phone calls per year)
    ``count ~ Poisson(exposure * exp(eta))``;
``binary``  (a council session held, any arms delivered from Russia)
    ``held ~ Bernoulli(1 / (1 + exp(-eta)))``.

The measurement parameters enter linearly (Gaussian families) or through a
small generalised linear model (count, binary), so given the modelled path
they are solved for directly (:meth:`Measurement.solve`); an outer optimiser
only has to handle the model parameters (:mod:`.fit`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

from .observations import GAUSSIAN, Observations, decades
from .prices import Prices

__all__ = ["CENTRE", "TREND_KEYS", "Fit", "Measurement"]

#: Centre of the index scale: offsets are the transformed value at index 50.
CENTRE: Final[float] = 50.0
#: Prior standard deviations of the count and binary parameters (their
#: likelihood alone can run off to infinity, e.g. a council held every year).
PRIOR_SD_OFFSET: Final[float] = 3.0
PRIOR_SD_SLOPE: Final[float] = 0.2  # per index point
#: Keys whose log values get a linear time trend: nominal trade values and gas
#: volumes grow with prices and with both economies, which the index does not
#: represent (docs/VALIDATION.md, *Measurement model*).
TREND_KEYS: Final[tuple[str, ...]] = ("trade:log", "energy:log")
#: Starting noise per family before it is estimated (transformed units).
_START_SIGMA: Final[dict[str, float]] = {"log": 0.2, "logit": 0.4}
#: Weight (in degrees of freedom) of the typical noise in each block's noise estimate.
NOISE_PRIOR_DOF: Final[float] = 4.0
#: Lower bound of an estimated noise s.d. (transformed units).
SIGMA_FLOOR: Final[float] = 0.02
#: Priors (mean, s.d.) of a dollar-valued key's slope (per index point) and real oil price
#: elasticity, used when the measurement is built with ``priors``: fuels are about two thirds
#: of the value of Türkiye–Russia trade and move one for one with their price; a fall of the
#: index by 20 points (the 2016 sanctions) about halves the dollar value.
DOLLAR_PRIORS: Final[dict[str, tuple[float, float]]] = {"slope": (0.03, 0.015), "price": (0.7, 0.2)}


# --------------------------------------------------------------------------- solving


@dataclass
class Fit:
    """Measurement parameters given one modelled path, and the residuals."""

    offsets: dict[str, float]  # group -> a_g
    slopes: dict[str, float]  # key -> b_k (per index point)
    sigma: dict[str, float]  # block -> noise s.d. (Gaussian families)
    eta: np.ndarray  # linear predictor per observation
    residuals: np.ndarray  # standardised (Gaussian) or deviance (count, binary)
    prior: np.ndarray  # prior pseudo-residuals of count and binary parameters
    leverage: np.ndarray = field(repr=False, default_factory=lambda: np.zeros(0))
    trends: dict[str, float] = field(default_factory=dict)  # key -> per decade
    prices: dict[str, float] = field(default_factory=dict)  # key -> real oil price elasticity

    def vector(self) -> np.ndarray:
        """All residuals (observations, then priors): sum of squares = -2 log posterior + const."""
        return np.concatenate([self.residuals, self.prior])


class Measurement:
    """The measurement equations for a fixed set of observations.

    Build once (:meth:`__init__` groups the rows), then :meth:`solve` for the
    measurement parameters given the index values ``x`` (points) at each
    observation, as often as the outer optimiser needs.
    """

    def __init__(
        self,
        obs: Observations,
        sigma: dict[str, float] | None = None,
        trend: tuple[str, ...] | None = None,
        prices: Prices | None = None,
        priors: bool = False,
    ) -> None:
        f = obs.frame
        self.obs = obs
        self.frame = f
        self.n = len(f)
        self.y = f["y"].to_numpy(float)
        self.sign = f["sign"].to_numpy(float)
        self.exposure = f["exposure"].to_numpy(float)
        self.log_exposure = np.log(self.exposure)
        self.keys = list(dict.fromkeys(f["key"]))
        self.rows = {k: np.flatnonzero(f["key"].to_numpy() == k) for k in self.keys}
        self.family = {k: k.split(":", 1)[1] for k in self.keys}
        self.groups = {
            k: list(dict.fromkeys(f["group"].to_numpy()[r])) for k, r in self.rows.items()
        }
        self.group_of = {
            k: np.array([self.groups[k].index(g) for g in f["group"].to_numpy()[r]], dtype=int)
            for k, r in self.rows.items()
        }
        self.blocks = list(dict.fromkeys(f.loc[f["family"].isin(GAUSSIAN), "block"]))
        block_col = f["block"].to_numpy()
        self.sigma = {b: _START_SIGMA[b.split(":")[1]] for b in self.blocks}
        self.sigma.update(sigma or {})
        self._block = block_col
        self._warm: dict[str, np.ndarray] = {}
        self.trend = tuple(
            k for k in (trend or ()) if k in self.keys and self.family[k] in GAUSSIAN
        )
        self.time = decades(f["date"])
        self.prices = prices
        zeros = (np.zeros(self.n), np.zeros(self.n))
        self.oil: np.ndarray
        self.deflator: np.ndarray
        self.oil, self.deflator = prices.columns(f) if prices is not None else zeros
        self.priors = priors and prices is not None
        self.priced = tuple(
            k
            for k in self.keys
            if prices is not None
            and self.family[k] in GAUSSIAN
            and self.deflator[self.rows[k]].any()
        )

    def n_params(self, key: str) -> int:
        """Offsets, the slope and (if any) the trend and the oil price elasticity of one key."""
        return len(self.groups[key]) + 1 + (key in self.trend) + (key in self.priced)

    # -- one design per key: columns = group offsets, the slope, the trend, the oil price (if any)
    def design(self, key: str, x: np.ndarray) -> np.ndarray:
        r = self.rows[key]
        n_g = len(self.groups[key])
        D = np.zeros((len(r), self.n_params(key)))
        D[np.arange(len(r)), self.group_of[key]] = 1.0
        D[:, n_g] = self.sign[r] * (x[r] - CENTRE)
        if key in self.trend:
            D[:, n_g + 1] = self.time[r]
        if key in self.priced:
            D[:, -1] = self.oil[r]
        return D

    def sigma_rows(self) -> np.ndarray:
        return np.array([self.sigma.get(b, 1.0) for b in self._block])

    def solve(self, x: np.ndarray) -> Fit:
        """Measurement parameters and residuals given ``x`` (index points per observation)."""
        x = np.asarray(x, float)
        eta = np.zeros(self.n)
        resid = np.zeros(self.n)
        lev = np.zeros(self.n)
        prior: list[np.ndarray] = []
        offsets: dict[str, float] = {}
        slopes: dict[str, float] = {}
        trends: dict[str, float] = {}
        prices: dict[str, float] = {}
        sig = self.sigma_rows()
        for key in self.keys:
            r = self.rows[key]
            D = self.design(key, x)
            fam = self.family[key]
            n_g = len(self.groups[key])
            if fam in GAUSSIAN:
                w = 1.0 / sig[r]
                P, p_mean, p_sd = self._gaussian_prior(key)
                beta, lev_all = _gaussian_fit(
                    np.vstack([D, P]),
                    np.concatenate([self.y[r] - self.deflator[r], p_mean]),
                    np.concatenate([w, 1.0 / p_sd]),
                    n_g,
                )
                lev[r] = lev_all[: len(r)]
                eta[r] = D @ beta + self.deflator[r]
                resid[r] = (self.y[r] - eta[r]) * w
                prior.append((P @ beta - p_mean) / p_sd)
            else:
                beta = self._glm_fit(key, D)
                eta[r] = D @ beta
                resid[r] = _deviance_residuals(self.y[r], eta[r] + self.log_exposure[r], fam)
                prior.append(beta / _prior_sd(len(beta)))
            for g, name in enumerate(self.groups[key]):
                offsets[name] = float(beta[g])
            slopes[key] = float(beta[n_g])
            if key in self.trend:
                trends[key] = float(beta[n_g + 1])
            if key in self.priced:
                prices[key] = float(beta[-1])
        return Fit(
            offsets,
            slopes,
            dict(self.sigma),
            eta,
            resid,
            np.concatenate(prior) if prior else np.zeros(0),
            lev,
            trends,
            prices,
        )

    def _gaussian_prior(self, key: str) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Prior rows of a Gaussian key's design (the slope and the oil price), means and s.d.s."""
        if not (self.priors and key in self.priced):
            return np.zeros((0, self.n_params(key))), np.zeros(0), np.ones(0)
        P = np.zeros((2, self.n_params(key)))
        P[0, len(self.groups[key])] = 1.0
        P[1, -1] = 1.0
        (m0, s0), (m1, s1) = DOLLAR_PRIORS["slope"], DOLLAR_PRIORS["price"]
        return P, np.array([m0, m1]), np.array([s0, s1])

    def n_prior(self) -> int:
        """The number of prior pseudo-residuals in :meth:`Fit.vector`."""
        glm = sum(len(self.groups[k]) + 1 for k in self.keys if self.family[k] not in GAUSSIAN)
        return glm + sum(len(self._gaussian_prior(k)[1]) for k in self.keys)

    def _glm_fit(self, key: str, D: np.ndarray) -> np.ndarray:
        """The parameters of a count or binary key (the slope >= 0), started at its last fit."""
        r = self.rows[key]
        fam = self.family[key]
        n_g = len(self.groups[key])
        sd = _prior_sd(n_g + 1)
        beta = _glm(D, self.y[r], self.log_exposure[r], fam, self._warm.get(key), sd, n_g)
        if beta[n_g] < 0:
            beta = np.append(
                _glm(D[:, :n_g], self.y[r], self.log_exposure[r], fam, None, sd[:n_g], n_g),
                0.0,
            )
        self._warm[key] = beta
        return beta

    def loglik(self, fit: Fit) -> float:
        """Log-likelihood of the observations under ``fit`` (no prior terms)."""
        sig = self.sigma_rows()
        total = 0.0
        for key in self.keys:
            r = self.rows[key]
            fam = self.family[key]
            if fam in GAUSSIAN:
                z = fit.residuals[r]
                total += float(np.sum(-0.5 * z**2 - np.log(sig[r]) - 0.5 * np.log(2 * np.pi)))
            elif fam == "count":
                eta = fit.eta[r] + self.log_exposure[r]
                from scipy.special import gammaln

                total += _loglik(self.y[r], eta, fam) - float(np.sum(gammaln(self.y[r] + 1)))
            else:
                total += _loglik(self.y[r], fit.eta[r], fam)
        return total

    def update_sigma(self, fit: Fit) -> dict[str, float]:
        """Re-estimate each block's noise s.d. from ``fit``.

        The residual degrees of freedom are counted by leverage, and
        ``NOISE_PRIOR_DOF`` pseudo-observations at the family's typical noise
        (``_START_SIGMA``) are added, so that a block with few free values (a
        handful of surveys) cannot claim a tiny noise and outweigh the rest.
        """
        sig = self.sigma_rows()
        for b in self.blocks:
            r = self._block == b
            raw = fit.residuals[r] * sig[r]
            dof = r.sum() - fit.leverage[r].sum()
            prior = _START_SIGMA[b.split(":")[1]]
            var = (np.sum(raw**2) + NOISE_PRIOR_DOF * prior**2) / (max(dof, 0.0) + NOISE_PRIOR_DOF)
            self.sigma[b] = max(float(np.sqrt(var)), SIGMA_FLOOR)
        return dict(self.sigma)

    def settle(self, x: np.ndarray, rounds: int = 5) -> Fit:
        """Solve, re-estimate the noise, and repeat until the noise settles."""
        fit = self.solve(x)
        for _ in range(rounds):
            before = dict(self.sigma)
            self.update_sigma(fit)
            fit = self.solve(x)
            if all(abs(self.sigma[b] - before[b]) < 1e-4 * before[b] for b in self.blocks):
                break
        return fit

    # -- predictions for new rows (the same groups and keys)
    def linear_predictor(
        self, fit: Fit, frame: pd.DataFrame, x: np.ndarray, prices: Prices | None = None
    ) -> np.ndarray:
        """``eta`` of the rows of ``frame`` given their index values ``x`` (NaN if not fitted).

        ``prices``: the price path of the rows' years (default: the prices of the fit).
        """
        a = frame["group"].map(fit.offsets).to_numpy(float)
        b = frame["key"].map(fit.slopes).to_numpy(float)
        c = frame["key"].map(fit.trends).fillna(0.0).to_numpy(float)
        eta = (
            a
            + frame["sign"].to_numpy(float) * b * (np.asarray(x, float) - CENTRE)
            + c * decades(frame["date"])
        )
        prices = prices or self.prices
        if fit.prices and prices is not None:
            oil, deflator = prices.columns(frame)
            priced = frame["key"].isin(list(fit.prices)).to_numpy()
            elasticity = frame["key"].map(fit.prices).fillna(0.0).to_numpy(float)
            eta = eta + np.where(priced, elasticity * oil + deflator, 0.0)
        return eta

    # -- the information matrix
    def jacobian(self, fit: Fit, x: np.ndarray, dx: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Jacobian of the (Pearson) residuals in all parameters: model, then measurement.

        ``dx[i, j]`` is the derivative of ``x_i`` in model parameter ``j``.
        Returns the matrix (observation rows, then the prior rows of count and
        binary keys, by parameters) and the measurement parameters' names
        (``offset:<group>``, ``slope:<key>``, ``trend:<key>``, ``price:<key>``). A slope held at
        its bound 0 is left out: it is not estimated there.
        """
        x = np.asarray(x, float)
        dx = np.asarray(dx, float).reshape(self.n, -1)
        p = dx.shape[1]
        blocks, names = self._jacobian_columns(fit, p)
        J = np.zeros((self.n + self.n_prior(), p + len(names)))
        sig = self.sigma_rows()
        row_prior = self.n
        for key, cols, jcols in blocks:
            r = self.rows[key]
            scale = self._pearson_scale(key, fit, sig)
            J[r, :p] = -(scale * self.sign[r] * fit.slopes[key])[:, None] * dx[r]
            D = self.design(key, x)
            J[np.ix_(r, np.asarray(jcols, dtype=np.int64))] = -scale[:, None] * D[:, cols]
            if self.family[key] not in GAUSSIAN:
                sd = _prior_sd(len(self.groups[key]) + 1)
                for c, jc in zip(cols, jcols):
                    J[row_prior + c, jc] = 1.0 / sd[c]
                row_prior += len(self.groups[key]) + 1
            else:
                P, _, p_sd = self._gaussian_prior(key)
                for i in range(len(p_sd)):
                    J[row_prior + i, jcols] = P[i, cols] / p_sd[i]
                row_prior += len(p_sd)
        return J, names

    def _jacobian_columns(
        self, fit: Fit, p: int
    ) -> tuple[list[tuple[str, list[int], list[int]]], list[str]]:
        """The measurement parameters estimated: per key, its design columns and columns of J.

        The columns of J start after the ``p`` model parameters. Returns
        ``(key, design columns kept, their J columns)`` per key and the
        parameters' names. A slope held at its bound 0 is left out.
        """
        names: list[str] = []
        blocks: list[tuple[str, list[int], list[int]]] = []
        for key in self.keys:
            n_g = len(self.groups[key])
            cols = list(range(n_g))
            labels = [f"offset:{g}" for g in self.groups[key]]
            if fit.slopes[key] > 0:
                cols.append(n_g)
                labels.append(f"slope:{key}")
            if key in self.trend:
                cols.append(n_g + 1)
                labels.append(f"trend:{key}")
            if key in self.priced:
                cols.append(self.n_params(key) - 1)
                labels.append(f"price:{key}")
            blocks.append((key, cols, list(range(p + len(names), p + len(names) + len(cols)))))
            names += labels
        return blocks, names

    def _pearson_scale(self, key: str, fit: Fit, sig: np.ndarray) -> np.ndarray:
        """Per row of ``key``: the size of the change of its residual per unit of ``eta``."""
        r = self.rows[key]
        fam = self.family[key]
        if fam in GAUSSIAN:
            return 1.0 / sig[r]
        mu = _mean(fit.eta[r] + self.log_exposure[r], fam)
        return np.sqrt(mu if fam == "count" else mu * (1.0 - mu))


def _prior_sd(n: int) -> np.ndarray:
    """Prior s.d. of a count or binary key's parameters: the offsets, then the slope."""
    sd = np.full(n, PRIOR_SD_OFFSET)
    sd[-1] = PRIOR_SD_SLOPE
    return sd


def _gaussian_fit(
    D: np.ndarray, y: np.ndarray, w: np.ndarray, n_g: int
) -> tuple[np.ndarray, np.ndarray]:
    """Weighted least squares of a Gaussian key with its slope (column ``n_g``) kept >= 0.

    Returns the parameters and the leverages of the rows.
    """
    beta, lev = _weighted_lstsq(D * w[:, None], y * w)
    if beta[n_g] < 0:  # the slope is >= 0: refit without it
        keep = np.arange(D.shape[1]) != n_g
        sub, lev = _weighted_lstsq(D[:, keep] * w[:, None], y * w)
        beta = np.insert(sub, n_g, 0.0)
    return beta, lev


def _weighted_lstsq(A: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Least squares and the leverages (diagonal of the hat matrix)."""
    U, s, Vt = np.linalg.svd(A, full_matrices=False)
    keep = s > s.max() * 1e-10 if s.size else s.astype(bool)
    U, s, Vt = U[:, keep], s[keep], Vt[keep]
    beta = Vt.T @ ((U.T @ b) / s)
    return beta, np.sum(U**2, axis=1)


def _mean(eta: np.ndarray, family: str) -> np.ndarray:
    if family == "count":
        return np.exp(np.clip(eta, -30, 30))
    return 1.0 / (1.0 + np.exp(-np.clip(eta, -30, 30)))


def _loglik(y, eta, family):
    if family == "count":
        return float(np.sum(y * eta - np.exp(np.clip(eta, -30, 30))))
    return float(np.sum(y * eta - np.logaddexp(0.0, eta)))


def _glm(
    D: np.ndarray,
    y: np.ndarray,
    off: np.ndarray,
    family: str,
    start: np.ndarray | None,
    prior_sd: np.ndarray,
    n_offsets: int,
) -> np.ndarray:
    """Posterior mode of a Poisson or Bernoulli GLM with independent normal priors (Newton)."""
    prec = 1.0 / prior_sd**2
    beta = np.zeros(D.shape[1]) if start is None or len(start) != D.shape[1] else start.copy()
    if start is None and family == "count":
        beta[:n_offsets] = np.log(max(y.mean(), 0.5))

    def objective(b):
        return _loglik(y, D @ b + off, family) - 0.5 * np.sum(prec * b**2)

    current = objective(beta)
    for _ in range(100):
        mu = _mean(D @ beta + off, family)
        w = mu if family == "count" else mu * (1.0 - mu)
        grad = D.T @ (y - mu) - prec * beta
        H = (D * w[:, None]).T @ D + np.diag(prec)
        step = np.linalg.solve(H, grad)
        t = 1.0
        while t > 1e-6:
            new = objective(beta + t * step)
            if new >= current - 1e-12:
                break
            t /= 2
        beta = beta + t * step
        done = abs(new - current) < 1e-10 and np.max(np.abs(t * step)) < 1e-8
        current = new
        if done:
            break
    return beta


def _deviance_residuals(y: np.ndarray, eta: np.ndarray, family: str) -> np.ndarray:
    mu = _mean(eta, family)
    if family == "count":
        with np.errstate(divide="ignore", invalid="ignore"):
            term = np.where(y > 0, y * np.log(y / mu), 0.0)
        dev = 2.0 * (term - (y - mu))
    else:
        dev = -2.0 * np.where(
            y > 0.5, np.log(np.clip(mu, 1e-300, 1)), np.log(np.clip(1.0 - mu, 1e-300, 1))
        )
    return np.sign(y - mu) * np.sqrt(np.maximum(dev, 0.0))
