"""The state of a chunk of replicates and its exact transitions between moments.

:class:`State` holds, per replicate, the latent levels, the baseline shifts
and the clock (a day per replicate), the drift and noise parameters drawn for
it, and the transition matrices already computed. It moves rows forward
exactly (:meth:`State.advance`, :meth:`State.advance_each`) and applies a
jump or a shift (:meth:`State.change`). Each row always gets its matrices the
same way, however many rows step together, so a replicate's path never
depends on its chunk.
"""

from __future__ import annotations

from collections import OrderedDict
from functools import lru_cache

import numpy as np

from ..distributions import Dist, sample
from ..dynamics import (
    Spectral,
    apply_change,
    baseline_latent,
    check_stable,
    drift_matrix,
    equilibrium,
    equilibrium_parts,
    row_index,
    step,
    transition,
)
from ..indices import to_latent, to_points
from ..rng import Streams
from ..scenario import Scenario
from ..timeaxis import DAYS_PER_YEAR

__all__ = ["CACHE_BYTES", "State"]

#: Memory for the transition matrices kept per step length (per chunk): a
#: chunk of 10,000 replicates needs 2.6 MB per step length, and uses about 31.
CACHE_BYTES = 512 * 2**20


class State:
    """Latent state, baseline shifts and clocks of a chunk; exact transitions."""

    #: per-row transitions through eigenvectors (only when drift or noise is drawn per replicate)
    spectral: Spectral

    def __init__(self, scenario: Scenario, streams: Streams, noise: bool) -> None:
        names = scenario.indicators
        n = len(streams)
        specs = scenario.indices

        def column(attr: str) -> np.ndarray:
            return np.stack(
                [sample(getattr(specs[k], attr), streams, f"indices.{k}.{attr}", n) for k in names],
                1,
            )

        self.base = column("baseline")
        self.sigma = column("sigma") if noise else np.zeros((n, len(names)))
        spill = np.zeros((n, len(names), len(names)))
        for i, target in enumerate(names):
            for source, value in scenario.spillover.get(target, {}).items():
                spill[:, i, names.index(source)] = sample(
                    value, streams, f"spillover.{target}.{source}", n
                )
        a = drift_matrix(column("half_life"), spill)
        # shared when no drift or noise parameter is uncertain: decided by the
        # scenario, never by the values drawn, so a chunk of one replicate
        # takes the same path as a chunk of thousands
        uncertain = [getattr(specs[k], attr) for k in names for attr in ("half_life", "sigma")]
        uncertain += [v for row in scenario.spillover.values() for v in row.values()]
        self.shared = not any(isinstance(v, Dist) for v in uncertain)
        self.a = a[0] if self.shared else a
        check_stable(self.a)
        self.a_inv = np.linalg.inv(self.a)
        if not self.shared:
            self.spectral = Spectral(self.a, self.sigma)
        self.m0 = baseline_latent(self.base)
        self.rates, self.pull = equilibrium_parts(self.a, self.m0)
        self.target = self.m0.copy()
        self.z = to_latent(column("initial"))
        self.shift = np.zeros_like(self.z)
        self.day = np.zeros(n, dtype=np.int64)
        self._all = np.arange(n)
        self.streams = streams
        self.noise = noise
        self.noise_streams = [f"noise:{name}" for name in names]
        self._cache: OrderedDict = OrderedDict()
        # the slots of per-row matrices, allocated on first use (see _allocate)
        self._f = self._root = np.empty((0, 0, 0, 0))

    def _matrices(self, h: int, sel) -> tuple[np.ndarray, np.ndarray]:
        """``(F, L)`` for a step of ``h`` days: shared, or one per row of ``sel``
        (rows, or a slice as from :meth:`_view`).

        Each row always gets its matrices the same way (through its
        eigenvectors, or by the matrix exponential when those are
        ill-conditioned), however many rows step together, so a replicate's
        path never depends on its chunk. Per-row matrices are computed once
        per ``h`` for every row of the chunk and kept (see :meth:`_slot`); a
        step of a few rows gathers its rows.
        """
        if self.shared:
            out = self._cache.get(h)
            if out is None:
                out = self._cache[h] = _shared_transition(
                    self.a.tobytes(), self.sigma[0].tobytes(), self.a.shape[-1], h
                )
            return out
        slot = self._slot(h)
        return self._f[slot, sel], self._root[slot, sel]

    def _slot(self, h: int, keep: frozenset = frozenset()) -> int:
        """Slot of the per-row matrices for ``h`` days, computed if not kept.

        Slots hold every row's ``(F, L)`` for one step length, within
        ``CACHE_BYTES`` (at least 4 slots); the least recently used step
        length not in ``keep`` gives up its slot.
        """
        slot = self._cache.get(h)
        if slot is not None:
            self._cache.move_to_end(h)
            return slot
        self._allocate()
        if len(self._cache) < len(self._f):
            slot = len(self._cache)
        else:
            old = next(x for x in self._cache if x not in keep)
            slot = self._cache.pop(old)
        self._f[slot], self._root[slot] = self._row_matrices(self._all, h / DAYS_PER_YEAR)
        self._cache[h] = slot
        return slot

    def _gathered(self, h: np.ndarray, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``(F, L)`` per row for steps of ``h[i]`` days of rows ``rows[i]``."""
        values, inverse = _unique_small(h)
        if self.shared:
            mats = [self._matrices(int(v), rows) for v in values]
            f = np.stack([m[0] for m in mats])[inverse]
            root = np.stack([m[1] for m in mats])[inverse]
            return f, root
        k = self.z.shape[1]
        self._allocate()
        if values.size > len(self._f):
            # more step lengths than slots (a very large chunk): the rows'
            # matrices are computed for them alone, the same way
            f, root = np.empty((rows.size, k, k)), np.empty((rows.size, k, k))
            for i, v in enumerate(values.tolist()):
                part = inverse == i
                f[part], root[part] = (
                    self._matrices(v, rows[part])
                    if v in self._cache
                    else self._row_matrices(rows[part], v / DAYS_PER_YEAR)
                )
            return f, root
        lengths = values.tolist()
        try:
            # usually every step length is kept already: no call per length
            slots = [self._cache[v] for v in lengths]
            for v in lengths:
                self._cache.move_to_end(v)
        except KeyError:
            keep = frozenset(lengths)
            slots = [self._slot(v, keep) for v in lengths]
        flat = np.array(slots)[inverse] * len(self.z) + rows
        return (
            np.take(self._f.reshape(-1, k, k), flat, axis=0),
            np.take(self._root.reshape(-1, k, k), flat, axis=0),
        )

    def _allocate(self) -> None:
        """The slot arrays (untouched pages cost no memory)."""
        if not len(self._f):
            n, k = self.z.shape
            slots = max(CACHE_BYTES // (2 * n * k * k * 8), 4)
            self._f, self._root = np.empty((slots, n, k, k)), np.empty((slots, n, k, k))

    def _row_matrices(self, sel: np.ndarray, years: float) -> tuple[np.ndarray, np.ndarray]:
        ok = self.spectral.ok[sel]
        if ok.all():
            return self.spectral.matrices(sel, years)
        k = self.z.shape[1]
        f, root = np.empty((sel.size, k, k)), np.empty((sel.size, k, k))
        if ok.any():
            f[ok], root[ok] = self.spectral.matrices(sel[ok], years)
        bad = sel[~ok]
        f[~ok], root[~ok] = transition(self.a[bad], np.full(bad.size, years), self.sigma[bad])
        return f, root

    def advance(self, day: int, rows: np.ndarray | None = None) -> None:
        """Move ``rows`` (all by default) forward to ``day``, exactly."""
        if rows is None:
            if self.day.size and (self.day == self.day[0]).all():
                # every row at one day (before any hazard): whole-array step
                if day > self.day[0]:
                    self._step(self._all, int(day - self.day[0]), day)
                return
            rows = self._all
        h = day - self.day[rows]
        moving = h > 0
        if not moving.all():
            rows, h = rows[moving], h[moving]
        if rows.size == 0:
            return
        if h.min() == h.max():
            self._step(rows, int(h[0]), day)
        else:
            # rows at different days: one pass, each row with its own matrices
            self.advance_each(np.full(rows.size, day), rows)

    def _view(self, rows: np.ndarray):
        """``rows`` as an index (a slice when they are every row in order)."""
        return row_index(rows, self._all)

    def _step(self, rows: np.ndarray, h: int, day: int) -> None:
        """One exact step of ``h`` days, ending on ``day``, for ``rows``."""
        sel = self._view(rows)
        self._move(sel, *self._matrices(h, sel), day)

    def _move(self, sel, f: np.ndarray, root: np.ndarray, days) -> None:
        """The exact step of the rows ``sel`` with matrices ``(F, L)``, ending on ``days``
        (one day, or one per row)."""
        # one noise stream per index, keyed by the day the step ends on:
        # scenarios that split a period differently, or add an index, still
        # share the noise of every step that ends on the same day
        eps = self.streams.normals(self.noise_streams, days, sel) if self.noise else None
        self.z[sel] = step(self.z[sel], self.target[sel], f, root, eps)
        self.day[sel] = days

    def advance_each(self, days: np.ndarray, rows: np.ndarray) -> None:
        """Move each of ``rows`` forward to its own day ``days[i]``, exactly.

        Row by row the same arithmetic as :meth:`advance` (the same matrices
        and noise for the same step), in one pass for all rows.
        """
        h = days - self.day[rows]
        moving = h > 0
        if not moving.all():
            rows, h, days = rows[moving], h[moving], days[moving]
        if rows.size == 0:
            return
        self._move(self._view(rows), *self._gathered(h, rows), days)

    def points(self, rows: np.ndarray | None = None) -> np.ndarray:
        return to_points(self.z if rows is None else self.z[rows])

    def change(self, kind: str, rows, k, amount: np.ndarray) -> np.ndarray:
        """A ``jump`` or ``shift`` of ``amount`` points in index ``k`` (one, or one per
        row) of ``rows``; returns the realised change."""
        if kind == "jump":
            z, realised = apply_change(self.z[rows, k], amount)
            self.z[rows, k] = z
            return realised
        self.move_baseline(rows, k, amount)
        return amount

    def move_baseline(self, rows, k, amount: np.ndarray) -> None:
        """Add ``amount`` points to the baseline shift of index ``k`` (one, or one per
        row) and re-aim ``rows``."""
        self.shift[rows, k] += amount
        a_inv, rates = (
            (self.a_inv, self.rates) if self.shared else (self.a_inv[rows], self.rates[rows])
        )
        m = baseline_latent(self.base[rows] + self.shift[rows])
        self.target[rows] = equilibrium(a_inv, rates, self.pull[rows], m)


def _unique_small(h: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``np.unique(h, return_inverse=True)`` for non-negative integers of modest size (step
    lengths in days), by counting instead of sorting."""
    counts = np.bincount(h)
    values = np.flatnonzero(counts)
    position = np.empty(counts.size, dtype=np.int64)
    position[values] = np.arange(values.size)
    return values, position[h]


@lru_cache(maxsize=512)
def _shared_transition(a: bytes, sigma: bytes, k: int, h: int) -> tuple[np.ndarray, np.ndarray]:
    """``(F, L)`` of a shared drift for ``h`` days, kept across runs (read-only)."""
    a_ = np.frombuffer(a).reshape(k, k)
    f, root = transition(a_, np.array([h / DAYS_PER_YEAR]), np.frombuffer(sigma))
    f, root = f[0], root[0]
    f.flags.writeable = False
    root.flags.writeable = False
    return f, root


RANK_EVENT, RANK_FOLLOW_UP, RANK_SHIFT_END, RANK_POLICY, RANK_INCIDENT, RANK_RECORD = range(1, 7)
