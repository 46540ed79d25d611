"""The fitting problem: model parameters -> modelled index values -> measurement residuals.

:func:`with_params` sets model parameters (named as in :mod:`model.params`)
on a scenario. :class:`_Problem` holds one calibration's problem: it replays
the scenario without noise for a vector of parameters on the search scale,
averages the recorded indices over each observation's window (cached per
vector) and turns them into the residuals of the measurement model
(:mod:`.measurement`), with their central differences for the Jacobian.
:func:`.fit.calibrate` drives it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..ensemble import simulate
from ..errors import ScenarioError
from ..params import Param, apply
from ..results import Result
from ..scenario import Scenario
from .measurement import Measurement
from .observations import Observations, averaging_matrix
from .prices import Prices

__all__ = ["DATA_END", "with_params"]

#: Last day of the observed data the fits use.
DATA_END = "2024-12-31"


def with_params(
    scenario: Scenario, params: Sequence[Param], values: ArrayLike, **run: Any
) -> Scenario:
    """``scenario`` with the parameters set to ``values`` (and ``run`` settings changed)."""
    numbers = np.asarray(values, dtype=float).tolist()
    return apply(scenario, {p.name: float(v) for p, v in zip(params, numbers)}, "fit", **run)


def _run_end(scenario: Scenario, obs: Observations, run: dict[str, Any]) -> str | None:
    """The end of a run shorter than the scenario's that still covers the data, if one is valid.

    A shorter run is faster; it must still hold every dated setting of the
    scenario (a policy start). ``None``: the run keeps the scenario's end.
    """
    end = max(
        pd.Timestamp(DATA_END), obs.frame["end"].max() if len(obs) else pd.Timestamp(DATA_END)
    )
    end = end + pd.offsets.MonthBegin(1)
    for candidate in (
        end,
        max(end, pd.Timestamp(scenario.policy.start) + pd.Timedelta(days=1)),
    ):
        if candidate.date() >= scenario.run.end:
            return None
        try:
            with_params(scenario, [], [], end=str(candidate.date()), **run)
        except ScenarioError:
            continue
        return str(candidate.date())
    return None


class _Problem:
    """Model parameters -> index values at the observations -> measurement residuals."""

    def __init__(
        self,
        scenario: Scenario,
        params: Sequence[Param],
        obs: Observations,
        trend: Sequence[str] | None,
        prices: Prices | None = None,
        priors: bool = False,
    ) -> None:
        self.base = scenario
        self.params = list(params)
        self.run: dict[str, Any] = {"noise": False, "record": "monthly", "replicates": 1}
        end = _run_end(scenario, obs, self.run)
        if end is not None:
            self.run["end"] = end
        self.obs = obs
        self.meas = Measurement(
            obs, trend=tuple(trend) if trend is not None else None, prices=prices, priors=priors
        )
        self.priors = priors
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

    def natural(self, phi: ArrayLike) -> np.ndarray:
        return np.array([p.natural(v) for p, v in zip(self.params, np.asarray(phi, dtype=float))])

    def scenario(self, phi: ArrayLike, **run: Any) -> Scenario:
        return with_params(self.base, self.params, self.natural(phi), **{**self.run, **run})

    def simulate(self, phi: ArrayLike) -> Result:
        self.runs += 1
        return simulate(self.scenario(phi), replicates=1, seed=0)

    def x(self, phi: ArrayLike) -> np.ndarray:
        """The index (points) averaged over each observation's window."""
        key = tuple(np.round(np.asarray(phi, float), 14))
        if key not in self._cache:
            path = self.simulate(phi).all_paths()[0]
            self._cache[key] = np.einsum("it,ti->i", self.M, path[:, self.col])
            if len(self._cache) > 256:
                self._cache.pop(next(iter(self._cache)))
        return self._cache[key]

    def residuals(self, theta: ArrayLike) -> np.ndarray:
        try:
            x = self.x(theta)
        except ScenarioError:  # e.g. unstable spill-overs: far worse than any stable point
            return np.full(self.meas.n + self.meas.n_prior() + self._n_model_prior(), 1e3)
        return np.concatenate([self.meas.solve(x).vector(), self.model_prior(theta)])

    def _n_model_prior(self) -> int:
        return len(self.params) if self.priors else 0

    def prior_sd(self) -> np.ndarray:
        """Prior s.d. of each model parameter on the search scale, centred on the scenario's value.

        0.5 for a parameter searched on the log scale (a half-life within a factor of
        about 1.6), else half the scenario's value (at least 0.25).
        """
        start = self.natural(self.start())
        return np.array(
            [0.5 if p.log else 0.5 * max(abs(v), 0.5) for p, v in zip(self.params, start)]
        )

    def model_prior(self, phi: ArrayLike) -> np.ndarray:
        """The model parameters' prior pseudo-residuals (none without ``priors``)."""
        if not self.priors:
            return np.zeros(0)
        return (np.asarray(phi, float) - self.start()) / self.prior_sd()

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
