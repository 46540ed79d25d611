"""The measurement model: how the latent indices show up in observed data.

The indices are not measured quantities (``docs/MODEL.md``). This module links
them to the observed series of :mod:`model.observed` by one equation per
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
only has to handle the model parameters (:mod:`model.calibrate`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Final

import numpy as np
import pandas as pd

__all__ = [
    "FAMILIES",
    "Fit",
    "Measurement",
    "Observations",
    "crps_sample",
    "prepare",
]

#: The measurement families, in the order they are reported.
FAMILIES: Final[tuple[str, ...]] = ("log", "logit", "count", "binary")
GAUSSIAN: Final[frozenset[str]] = frozenset({"log", "logit"})

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
TREND_CENTRE: Final[float] = 2012.0
#: Starting noise per family before it is estimated (transformed units).
_START_SIGMA: Final[dict[str, float]] = {"log": 0.2, "logit": 0.4}
#: Weight (in degrees of freedom) of the typical noise in each block's noise estimate.
NOISE_PRIOR_DOF: Final[float] = 4.0
#: Lower bound of an estimated noise s.d. (transformed units).
SIGMA_FLOOR: Final[float] = 0.02

_UNIT_TOKEN = re.compile(r"_(?:usd_bn|usd_mn|bcm)(?=_|$)")
_TO_DATE = re.compile(r"to (\d{1,2}) ([A-Za-z]{3})")
_MONTHS = {
    m: i
    for i, m in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"), 1
    )
}
_PERIOD = re.compile(
    r"^(?P<y0>\d{4})(?:-(?P<m0>\d{2})(?:\.\.(?P<y1>\d{4})-(?P<m1>\d{2})(?:-(?P<d1>\d{2}))?)?)?$"
)
DAYS_PER_MONTH: Final[float] = 365.25 / 12


# --------------------------------------------------------------------------- preparing the data


def _window(period: str) -> tuple[pd.Timestamp, pd.Timestamp]:
    """First and last day covered by a ``YYYY`` / ``YYYY-MM[..YYYY-MM[-DD]]`` period."""
    m = _PERIOD.match(str(period))
    if m is None:
        raise ValueError(f"unrecognised period {period!r}")
    y0 = int(m["y0"])
    if m["m0"] is None:
        return pd.Timestamp(y0, 1, 1), pd.Timestamp(y0, 12, 31)
    start = pd.Timestamp(y0, int(m["m0"]), 1)
    if m["y1"] is None:
        return start, start + pd.offsets.MonthEnd(0)
    if m["d1"] is None:
        return start, pd.Timestamp(int(m["y1"]), int(m["m1"]), 1) + pd.offsets.MonthEnd(0)
    return start, pd.Timestamp(int(m["y1"]), int(m["m1"]), int(m["d1"]))


def _family(series: str, unit: str, indicator: str, values: pd.Series) -> tuple[str | None, str]:
    """The measurement family of a series, or ``None`` and the reason it is left out."""
    u = unit.lower()
    if indicator not in ("trade", "energy", "security", "west"):
        return None, "context: measures no index"
    if "% y/y" in u or series.endswith("_yoy_pct"):
        return None, "a growth rate: needs the previous level on the same basis"
    if "cumulative" in u or "cumulative" in series or "stock" in u:
        return None, "a stock (cumulative total), not a flow"
    if u.startswith("sipri tiv"):
        if (values <= 0).any():
            return "binary", "arms deliveries in the year (any vs none): mostly zero, lumpy"
        return "log", "arms deliveries (SIPRI TIV)"
    if u.startswith(("usd", "bcm")):
        return "log", "a value or volume"
    if u.startswith("pct"):
        return "logit", "a survey share"
    if u.startswith(("meetings", "calls", "bilateral meetings")):
        return "count", "a yearly count"
    if u == "0/1":
        return "binary", "held or not"
    return None, f"no measurement equation for unit {unit!r}"


def _quantity(series: str, basis: str) -> str:
    """``tr_exports_to_ru_usd_mn__tim`` -> ``tr_exports_to_ru``: the name without unit and basis."""
    name = series.split("__", 1)[0]
    name = _UNIT_TOKEN.sub("", name)
    if name.endswith("_" + basis):
        name = name[: -len(basis) - 1]
    return name


def _exposure(unit: str, year: int) -> float | None:
    """Share of the year a count covers; ``None`` when it cannot be told (drop the row)."""
    u = unit.lower()
    if "partial year" in u:
        return None
    m = _TO_DATE.search(u)
    if m and m[2][:3] in _MONTHS:
        end = pd.Timestamp(year, _MONTHS[m[2][:3]], int(m[1]))
        return ((end - pd.Timestamp(year, 1, 1)).days + 1) / 365.25
    return 1.0


@dataclass(frozen=True)
class Observations:
    """Observed values ready for the measurement model.

    ``frame`` has one row per usable observation: ``series, group, key, block,
    indicator, family, basis, frequency, period, year, date, start, end,
    value`` (as published), ``y`` (the modelled quantity: log or logit of the
    annualised value, or the count, or 0/1), ``exposure`` (share of the year a
    count covers), ``sign``, ``unit``, ``source``. ``excluded`` lists the
    series and rows left out, with the reason.
    """

    frame: pd.DataFrame
    excluded: pd.DataFrame

    def until(self, year: int | None) -> Observations:
        """Only the observations of ``year`` and before."""
        if year is None:
            return self
        return Observations(
            self.frame[self.frame["year"] <= year].reset_index(drop=True), self.excluded
        )

    def after(self, year: int) -> Observations:
        """Only the observations after ``year``."""
        return Observations(
            self.frame[self.frame["year"] > year].reset_index(drop=True), self.excluded
        )

    def __len__(self) -> int:
        return len(self.frame)


def prepare(
    observed: pd.DataFrame | None = None,
    indicators=None,
    start: str | pd.Timestamp | None = None,
    end: str | pd.Timestamp | None = None,
) -> Observations:
    """Turn a tidy observed frame (``model.observed.load_observed()`` by default) into measurements.

    ``indicators`` keeps only series of those indices; ``start`` and ``end``
    keep only observations whose window lies inside the run.
    """
    if observed is None:
        from .observed import load_observed

        observed = load_observed()
    need = {"series", "indicator", "basis", "value", "unit", "frequency", "sign", "period", "year"}
    missing = need - set(observed.columns)
    if missing:
        raise ValueError(f"observed data lack the columns {sorted(missing)}")
    rows, excluded = [], []
    for series, part in observed.groupby("series", sort=True):
        first = part.iloc[0]
        units = " | ".join(dict.fromkeys(part["unit"]))
        family, reason = _family(
            str(series), str(first["unit"]), str(first["indicator"]), part["value"]
        )
        if family is None or (indicators is not None and first["indicator"] not in indicators):
            excluded.append(
                (
                    series,
                    first["indicator"],
                    first["basis"],
                    units,
                    len(part),
                    reason if family is None else "index not in the scenario",
                )
            )
            continue
        dropped = 0
        for row in part.itertuples(index=False):
            win_start, win_end = _window(row.period)
            exposure = 1.0
            value = float(row.value)
            if family == "log":
                if value <= 0:
                    dropped += 1
                    continue
                months = ((win_end - win_start).days + 1) / DAYS_PER_MONTH
                scale = 1e-3 if "usd mn" in row.unit.lower() else 1.0
                y = np.log(value * scale * 12.0 / months)
            elif family == "logit":
                p = min(max(value / 100.0, 0.005), 0.995)
                y = np.log(p / (1.0 - p))
            elif family == "count":
                exp_ = _exposure(row.unit, int(row.year))
                if exp_ is None:
                    dropped += 1
                    continue
                exposure, y = exp_, value
            else:
                y = float(value > 0)
            key = f"{row.indicator}:{family}"
            group = (
                f"{_quantity(str(series), row.basis)}|{row.basis}"
                if family == "log" and not str(series).startswith(("RU_", "WEST_"))
                else str(series)
            )
            rows.append(
                {
                    "series": series,
                    "group": group,
                    "key": key,
                    "block": f"{key}:{row.frequency}",
                    "indicator": row.indicator,
                    "family": family,
                    "basis": row.basis,
                    "frequency": row.frequency,
                    "period": row.period,
                    "year": int(row.year),
                    "date": win_start + (win_end - win_start) / 2,
                    "start": win_start,
                    "end": win_end,
                    "value": value,
                    "y": float(y),
                    "exposure": exposure,
                    "sign": int(row.sign),
                    "unit": row.unit,
                    "source": getattr(row, "source", ""),
                }
            )
        if dropped:
            excluded.append(
                (
                    series,
                    first["indicator"],
                    first["basis"],
                    units,
                    dropped,
                    "rows without a usable value or exposure (e.g. a partial-year count)",
                )
            )
    frame = pd.DataFrame(rows)
    if frame.empty:
        frame = pd.DataFrame(
            columns=[
                "series",
                "group",
                "key",
                "block",
                "indicator",
                "family",
                "basis",
                "frequency",
                "period",
                "year",
                "date",
                "start",
                "end",
                "value",
                "y",
                "exposure",
                "sign",
                "unit",
                "source",
            ]
        )
    if start is not None:
        frame = frame[frame["start"] >= pd.Timestamp(start)]
    if end is not None:
        frame = frame[frame["end"] <= pd.Timestamp(end)]
    frame = frame.sort_values(["indicator", "family", "group", "date"], kind="stable").reset_index(
        drop=True
    )
    excl = pd.DataFrame(excluded, columns=["series", "indicator", "basis", "unit", "n", "reason"])
    return Observations(frame, excl)


def decades(dates) -> np.ndarray:
    """Time in decades from the trend's centre (``TREND_CENTRE``), for the trend term."""
    mid = pd.DatetimeIndex(dates)
    return np.asarray((mid.year + (mid.day_of_year - 0.5) / 365.25 - TREND_CENTRE) / 10.0, float)


def averaging_matrix(frame: pd.DataFrame, dates: pd.DatetimeIndex) -> np.ndarray:
    """``M[i, t]``: weights that average the records ``t`` inside observation ``i``'s window.

    A window takes the records from its first day to the day after its last
    (monthly records on the 1st: a year averages 1 Jan to 1 Jan, a month its
    two ends). A window with no record inside takes the nearest record.
    """
    d = np.asarray(pd.DatetimeIndex(dates).values, dtype="datetime64[D]")
    M = np.zeros((len(frame), len(d)))
    starts = np.asarray(pd.DatetimeIndex(frame["start"]).values, dtype="datetime64[D]")
    ends = np.asarray(
        pd.DatetimeIndex(frame["end"]).values, dtype="datetime64[D]"
    ) + np.timedelta64(1, "D")
    for i, (s, e) in enumerate(zip(starts, ends)):
        inside = (d >= s) & (d <= e)
        if inside.any():
            M[i, inside] = 1.0 / inside.sum()
        else:
            mid = s + (e - s) // 2
            M[i, int(np.argmin(np.abs(d - mid)))] = 1.0
    return M


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

    def vector(self) -> np.ndarray:
        """All residuals (observations, then priors): their sum of squares is -2 log posterior + const."""
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

    def n_params(self, key: str) -> int:
        """Offsets, the slope and (if any) the trend of one key."""
        return len(self.groups[key]) + 1 + (key in self.trend)

    # -- one design per key: columns = group offsets, the slope, then the trend (if any)
    def design(self, key: str, x: np.ndarray) -> np.ndarray:
        r = self.rows[key]
        n_g = len(self.groups[key])
        D = np.zeros((len(r), self.n_params(key)))
        D[np.arange(len(r)), self.group_of[key]] = 1.0
        D[:, n_g] = self.sign[r] * (x[r] - CENTRE)
        if key in self.trend:
            D[:, n_g + 1] = self.time[r]
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
        sig = self.sigma_rows()
        for key in self.keys:
            r = self.rows[key]
            D = self.design(key, x)
            fam = self.family[key]
            n_g = len(self.groups[key])
            if fam in GAUSSIAN:
                w = 1.0 / sig[r]
                beta, lev[r] = _weighted_lstsq(D * w[:, None], self.y[r] * w)
                if beta[n_g] < 0:  # the slope is >= 0: refit without it
                    keep = np.arange(D.shape[1]) != n_g
                    sub, lev[r] = _weighted_lstsq(D[:, keep] * w[:, None], self.y[r] * w)
                    beta = np.insert(sub, n_g, 0.0)
                eta[r] = D @ beta
                resid[r] = (self.y[r] - eta[r]) * w
            else:
                sd = _prior_sd(n_g + 1)
                beta = _glm(D, self.y[r], self.log_exposure[r], fam, self._warm.get(key), sd, n_g)
                if beta[n_g] < 0:
                    beta = np.append(
                        _glm(D[:, :n_g], self.y[r], self.log_exposure[r], fam, None, sd[:n_g], n_g),
                        0.0,
                    )
                self._warm[key] = beta
                eta[r] = D @ beta
                resid[r] = _deviance_residuals(self.y[r], eta[r] + self.log_exposure[r], fam)
                prior.append(beta / _prior_sd(len(beta)))
            for g, name in enumerate(self.groups[key]):
                offsets[name] = float(beta[g])
            slopes[key] = float(beta[n_g])
            if key in self.trend:
                trends[key] = float(beta[n_g + 1])
        return Fit(
            offsets,
            slopes,
            dict(self.sigma),
            eta,
            resid,
            np.concatenate(prior) if prior else np.zeros(0),
            lev,
            trends,
        )

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
    def linear_predictor(self, fit: Fit, frame: pd.DataFrame, x: np.ndarray) -> np.ndarray:
        """``eta`` for the rows of ``frame`` given their index values ``x`` (NaN where not fitted)."""
        a = frame["group"].map(fit.offsets).to_numpy(float)
        b = frame["key"].map(fit.slopes).to_numpy(float)
        c = frame["key"].map(fit.trends).fillna(0.0).to_numpy(float)
        return (
            a
            + frame["sign"].to_numpy(float) * b * (np.asarray(x, float) - CENTRE)
            + c * decades(frame["date"])
        )

    # -- the information matrix
    def jacobian(self, fit: Fit, x: np.ndarray, dx: np.ndarray) -> tuple[np.ndarray, list[str]]:
        """Jacobian of the (Pearson) residuals in all parameters: model, then measurement.

        ``dx[i, j]`` is the derivative of ``x_i`` in model parameter ``j``.
        Returns the matrix (observation rows, then the prior rows of count and
        binary keys, by parameters) and the measurement parameters' names
        (``offset:<group>``, ``slope:<key>``, ``trend:<key>``). A slope held at
        its bound 0 is left out: it is not estimated there.
        """
        x = np.asarray(x, float)
        dx = np.asarray(dx, float).reshape(self.n, -1)
        p = dx.shape[1]
        names: list[str] = []
        blocks: list[
            tuple[str, list[int], list[int]]
        ] = []  # key, design columns kept, their J columns
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
            blocks.append((key, cols, list(range(p + len(names), p + len(names) + len(cols)))))
            names += labels
        n_prior = sum(len(self.groups[k]) + 1 for k in self.keys if self.family[k] not in GAUSSIAN)
        J = np.zeros((self.n + n_prior, p + len(names)))
        sig = self.sigma_rows()
        row_prior = self.n
        for key, cols, jcols in blocks:
            r = self.rows[key]
            fam = self.family[key]
            if fam in GAUSSIAN:
                scale = 1.0 / sig[r]
            else:
                mu = _mean(fit.eta[r] + self.log_exposure[r], fam)
                scale = np.sqrt(mu if fam == "count" else mu * (1.0 - mu))
            J[r, :p] = -(scale * self.sign[r] * fit.slopes[key])[:, None] * dx[r]
            D = self.design(key, x)
            J[np.ix_(r, jcols)] = -scale[:, None] * D[:, cols]
            if fam not in GAUSSIAN:
                sd = _prior_sd(len(self.groups[key]) + 1)
                for c, jc in zip(cols, jcols):
                    J[row_prior + c, jc] = 1.0 / sd[c]
                row_prior += len(self.groups[key]) + 1
        return J, names


def _prior_sd(n: int) -> np.ndarray:
    """Prior s.d. of a count or binary key's parameters: the offsets, then the slope."""
    sd = np.full(n, PRIOR_SD_OFFSET)
    sd[-1] = PRIOR_SD_SLOPE
    return sd


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


# --------------------------------------------------------------------------- scores


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
    """The expected observation on its modelled scale: ``eta`` (log, logit), a count, a probability."""
    fam = frame["family"].to_numpy()
    out = np.array(eta, float)
    c = fam == "count"
    out[c] = frame["exposure"].to_numpy(float)[c] * np.exp(np.clip(out[c], -30, 30))
    b = fam == "binary"
    out[b] = 1.0 / (1.0 + np.exp(-out[b]))
    return out
