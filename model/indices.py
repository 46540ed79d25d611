"""The cooperation indices: their 0–100 scale, soft bounds and the latent scale.

Indices live on 0–100 (0 = rupture, 50 = ordinary working relations,
100 = closest partnership). The dynamics run on a logit *latent* scale,
``z = log(y / (100 - y))``, so that no path can leave (0, 100) and nothing
piles up at the edges. Jumps and baseline shifts are added in index points;
a sum that would leave the scale is passed through :func:`squeeze`, a smooth,
strictly increasing map that is the identity on [5, 95].

The names of the indices are data (a scenario declares its own), but the
shipped scenarios, the policies and the observed data speak of four, named
here once: :data:`TITLES`, and the relations with Russia (:data:`RUSSIA`)
against alignment with the West (:data:`WEST`).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "HIGH",
    "LOW",
    "MARGIN",
    "RUSSIA",
    "STANDARD",
    "TITLES",
    "WEST",
    "squeeze",
    "to_latent",
    "to_points",
    "unsqueeze",
]

#: The bounds of the scale (index points).
LOW, HIGH = 0.0, 100.0
#: Width (index points) of the soft zone at each end of the scale.
MARGIN = 5.0
#: The four indices of the shipped scenarios, with a title for tables and charts.
TITLES = {
    "trade": "trade (Türkiye–Russia)",
    "energy": "energy (Türkiye–Russia)",
    "security": "security (Türkiye–Russia)",
    "west": "alignment with the West",
    "russia": "Russia overall (mean of the three)",
}
#: The relations with Russia, and alignment with the West: the two sides of balancing.
RUSSIA = ("trade", "energy", "security")
WEST = "west"
STANDARD = (*RUSSIA, WEST)


def squeeze(y: np.ndarray) -> np.ndarray:
    """Map any real number of index points into (0, 100).

    Identity on [MARGIN, 100 - MARGIN]; below, ``M * exp((y - M) / M)``;
    above, its mirror image. Continuous with a continuous, positive slope, so
    it keeps order: a larger negative change never leaves a higher level.
    """
    y = np.asarray(y, dtype=float)
    lo, hi = MARGIN, 100.0 - MARGIN
    below = MARGIN * np.exp((np.minimum(y, lo) - lo) / MARGIN)
    above = 100.0 - MARGIN * np.exp((hi - np.maximum(y, hi)) / MARGIN)
    return np.where(y < lo, below, np.where(y > hi, above, y))


def unsqueeze(y: np.ndarray) -> np.ndarray:
    """Inverse of :func:`squeeze` on (0, 100): the stretched level a change is added to."""
    y = np.clip(np.asarray(y, dtype=float), _EPS, 100.0 - _EPS)
    lo, hi = MARGIN, 100.0 - MARGIN
    below = lo + MARGIN * np.log(np.minimum(y, lo) / MARGIN)
    above = hi - MARGIN * np.log((100.0 - np.maximum(y, hi)) / MARGIN)
    return np.where(y < lo, below, np.where(y > hi, above, y))


#: Floating-point guard: levels closer than this to 0 or 100 are treated as
#: this close (far inside any soft zone; it only keeps the logit finite).
_EPS = 1e-9


def to_latent(y: np.ndarray) -> np.ndarray:
    """Index points in (0, 100) -> latent logit scale."""
    y = np.clip(np.asarray(y, dtype=float), _EPS, 100.0 - _EPS)
    return np.log(y) - np.log(100.0 - y)


def to_points(z: np.ndarray) -> np.ndarray:
    """Latent logit scale -> index points in (0, 100)."""
    return 100.0 / (1.0 + np.exp(-np.asarray(z, dtype=float)))
