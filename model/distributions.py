"""Uncertain numbers: a plain number or a distribution drawn once per replicate.

Any number of a scenario or an event may be a :class:`Dist` instead:
``normal`` (mean, sd), ``uniform`` (low, high), ``triangular`` (low, mode,
high) or ``lognormal`` (median, sigma: the s.d. of the log). A value is drawn
by inversion of a uniform from the replicate's own named stream
(:func:`sample`), and :func:`centre` is the one representative value used
wherever a single number is needed (range checks, starting points, labels):
the mean, or the median of a lognormal.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Literal

import numpy as np
from pydantic import BaseModel, BeforeValidator, ConfigDict, ValidationError, model_validator

from .errors import did_you_mean

if TYPE_CHECKING:  # pragma: no cover
    from .rng import Streams

__all__ = [
    "Dist",
    "Number",
    "centre",
    "check_positive_support",
    "check_range",
    "extremes",
    "sample",
    "to_number",
    "upper",
]

#: The widest lognormal (the s.d. of the log): its extreme draws stay finite.
MAX_LOG_SIGMA = 10.0
#: The standard normal quantile of 99.9%, for a lognormal's :func:`upper` value.
_Z999 = 3.090232306167813
#: The largest standard normal a draw can give: the quantile of the smallest uniform the
#: random streams give (2**-54), rounded up.
Z_EXTREME = 8.3

_NEEDS = {
    "normal": ("mean", "sd"),
    "uniform": ("low", "high"),
    "triangular": ("low", "mode", "high"),
    "lognormal": ("median", "sigma"),
}


class Dist(BaseModel):
    """A probability distribution for an uncertain number, sampled per replicate."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)
    dist: Literal["normal", "uniform", "triangular", "lognormal"]
    mean: float | None = None
    sd: float | None = None
    low: float | None = None
    high: float | None = None
    mode: float | None = None
    median: float | None = None
    sigma: float | None = None

    @model_validator(mode="after")
    def _check(self) -> Dist:
        need = _NEEDS[self.dist]
        given = {k for k, v in self.model_dump().items() if v is not None and k != "dist"}
        if missing := [k for k in need if k not in given]:
            raise ValueError(f"a {self.dist} distribution needs {', '.join(missing)}")
        if extra := sorted(given - set(need)):
            raise ValueError(
                f"a {self.dist} distribution takes only {', '.join(need)}, not {', '.join(extra)}"
            )
        for key in ("sd", "sigma"):
            val = getattr(self, key)
            if val is not None and val < 0:
                raise ValueError(f"'{key}' must be >= 0 (got {val})")
        lo, mo, hi = self.low, self.mode, self.high
        if lo is not None and hi is not None and lo >= hi:
            raise ValueError(f"'low' must be below 'high' (got {lo} >= {hi})")
        if self.dist == "triangular" and not (lo <= mo <= hi):  # type: ignore[operator]
            raise ValueError(f"'mode' must lie in [low, high] (got {mo})")
        if self.dist == "lognormal" and self.median <= 0:  # type: ignore[operator]
            raise ValueError(f"'median' must be > 0 (got {self.median})")
        if self.dist == "lognormal" and self.sigma > MAX_LOG_SIGMA:  # type: ignore[operator]
            raise ValueError(
                f"'sigma' of a lognormal must be at most {MAX_LOG_SIGMA:g}: wider ones draw "
                f"numbers that overflow (got {self.sigma})"
            )
        return self

    def center(self) -> float:
        """A representative value: the mean, or the median for lognormal."""
        if self.dist == "normal":
            return float(self.mean)  # type: ignore[arg-type]
        if self.dist == "lognormal":
            return float(self.median)  # type: ignore[arg-type]
        if self.dist == "triangular":
            return (self.low + self.mode + self.high) / 3.0  # type: ignore[operator]
        return 0.5 * (self.low + self.high)  # type: ignore[operator]

    def draw(self, u: np.ndarray) -> np.ndarray:
        """Inverse-CDF draw from uniforms ``u`` in (0, 1)."""
        from scipy.special import ndtri

        if self.dist == "normal":
            return self.mean + self.sd * ndtri(u)
        if self.dist == "lognormal":
            return self.median * np.exp(self.sigma * ndtri(u))
        lo, mo, hi = float(self.low), self.mode, float(self.high)  # type: ignore[arg-type]
        if self.dist == "uniform":
            return lo + (hi - lo) * u
        cut = (mo - lo) / (hi - lo)  # type: ignore[operator]
        left = lo + np.sqrt(u * (hi - lo) * (mo - lo))  # type: ignore[operator]
        right = hi - np.sqrt((1.0 - u) * (hi - lo) * (hi - mo))  # type: ignore[operator]
        return np.where(u < cut, left, right)


def to_number(value: object) -> object:
    """Accept a finite number, or a table read as a :class:`Dist` (its own errors kept, an
    unknown key with the one probably meant)."""
    if isinstance(value, float) and not np.isfinite(value):
        raise ValueError(f"must be a finite number (got {value})")
    if isinstance(value, dict):
        try:
            return Dist.model_validate(value)
        except ValidationError as exc:
            err = exc.errors()[0]
            where = ".".join(str(p) for p in err["loc"])
            msg = err["msg"].removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                known = list(_NEEDS.get(str(value.get("dist")), Dist.model_fields))
                msg = f"unknown key {where!r}{did_you_mean(where, known)}"
                where = ""
            raise ValueError(f"{where + ': ' if where else ''}{msg}") from None
    return value


#: A plain number, or a distribution sampled once per replicate.
Number = Annotated[float | Dist, BeforeValidator(to_number)]


def centre(value: float | Dist) -> float:
    """The representative value of a number or a distribution (see :meth:`Dist.center`)."""
    return value.center() if isinstance(value, Dist) else float(value)


def sample(value: float | Dist, streams: Streams | None, name: str, n: int) -> np.ndarray:
    """``value`` as an array of ``n`` per-replicate draws (constant if a float).

    Each uncertain number draws from its own stream, named by ``name`` (its
    place in the scenario), so adding an uncertainty elsewhere never changes
    these draws. Without ``streams`` a distribution gives its centre.
    """
    if not isinstance(value, Dist):
        return np.full(n, float(value))
    if streams is None:
        return np.full(n, value.center())
    return value.draw(streams.uniform("param:" + name, 0))


def upper(value: float | Dist) -> float:
    """The largest value a number takes: itself, the top of a uniform or triangular range, a
    lognormal's 99.9% quantile, or a normal's mean plus 3.09 s.d."""
    if not isinstance(value, Dist):
        return float(value)
    if value.dist in ("uniform", "triangular"):
        return float(value.high)  # type: ignore[arg-type]
    if value.dist == "lognormal":
        return float(value.median * np.exp(_Z999 * value.sigma))  # type: ignore[operator]
    return float(value.mean + _Z999 * value.sd)  # type: ignore[operator]


def extremes(value: float | Dist) -> tuple[float, float]:
    """The smallest and the largest value a draw of ``value`` can take (a normal or a lognormal:
    at :data:`Z_EXTREME` standard deviations of the normal)."""
    if not isinstance(value, Dist):
        return float(value), float(value)
    if value.dist in ("uniform", "triangular"):
        return float(value.low), float(value.high)  # type: ignore[arg-type]
    if value.dist == "lognormal":
        spread = float(np.exp(Z_EXTREME * value.sigma))  # type: ignore[operator]
        return value.median / spread, value.median * spread  # type: ignore[operator]
    return (
        value.mean - Z_EXTREME * value.sd,  # type: ignore[operator]
        value.mean + Z_EXTREME * value.sd,  # type: ignore[operator]
    )


def check_range(value: float | Dist, name: str, low: float | None, high: float | None) -> None:
    """Range-check a plain number (exclusive bounds); a distribution is checked at its centre."""
    x = centre(value)
    if low is not None and x <= low or high is not None and x >= high:
        bounds = f"between {low} and {high}" if high is not None else f"> {low}"
        raise ValueError(f"'{name}' must be {bounds} (got {x})")


def check_positive_support(value: Dist, name: str) -> None:
    """A quantity that must stay positive cannot take a distribution reaching 0 or below."""
    if value.dist == "normal":
        raise ValueError(
            f"'{name}' must stay positive: a normal distribution can draw values <= 0; "
            "use lognormal (median, sigma) or a positive uniform/triangular"
        )
    if value.dist in ("uniform", "triangular") and value.low <= 0:  # type: ignore[operator]
        raise ValueError(f"'{name}' must stay positive: 'low' must be > 0 (got {value.low})")
