"""Randomness: counter-based streams keyed by seed, replicate and process.

Randomness enters once. ``numpy.random.SeedSequence(seed)`` gives a root key;
each replicate ``r`` gets its own key derived from the root and ``r`` (the
role a spawned child seed plays), and each random process within a replicate
(noise, a hazard, parameter draws) draws from its own named stream. A draw is
a pure function ``hash(replicate key, stream, counter)`` (SplitMix64 mixing),
so a replicate's numbers never depend on which other replicates share its
chunk or worker, and two scenarios run with one seed draw the same numbers
wherever their events agree (common random numbers).
"""

from __future__ import annotations

import hashlib
from functools import lru_cache

import numpy as np
from scipy.special import ndtri

__all__ = ["Streams", "stream_ids"]

_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64 finaliser, elementwise on uint64 (wraps modulo 2**64)."""
    x = x ^ (x >> np.uint64(30))
    x *= _M1
    x ^= x >> np.uint64(27)
    x *= _M2
    x ^= x >> np.uint64(31)
    return x


@lru_cache(maxsize=4096)
def _stream_id(name: str) -> np.uint64:
    digest = hashlib.blake2b(name.encode(), digest_size=8).digest()
    return np.uint64(int.from_bytes(digest, "little"))


@lru_cache(maxsize=256)
def _stream_ids(names: tuple[str, ...]) -> np.ndarray:
    ids = np.array([_stream_id(name) for name in names], dtype=np.uint64)
    ids.flags.writeable = False
    return ids


def stream_ids(names: list[str]) -> np.ndarray:
    """The ids of named streams, for :meth:`Streams.uniform_ids`."""
    return _stream_ids(tuple(names))


def _uniforms(keys: np.ndarray, ids, ctr: np.ndarray) -> np.ndarray:
    """The draw ``hash(replicate key, stream id, counter)`` as a uniform in (0, 1), 53 bits.

    Broadcasts ``keys``, ``ids`` and ``ctr`` against one another.
    """
    return _finish(_keyed(keys, ids), ctr)


def _keyed(keys: np.ndarray, ids) -> np.ndarray:
    """First stage of the draw: the key of one stream of one replicate."""
    with np.errstate(over="ignore"):
        return _mix(keys ^ ids)


def _finish(keyed: np.ndarray, ctr: np.ndarray) -> np.ndarray:
    """Second stage: the ``ctr``-th uniform of the streams keyed by ``keyed``."""
    with np.errstate(over="ignore"):
        x = _mix(keyed + (ctr + np.uint64(1)) * _GOLDEN)
    return ((x >> np.uint64(11)).astype(float) + 0.5) * 2.0**-53


class Streams:
    """Random numbers for a set of replicates.

    ``replicates`` are the global replicate numbers (0, 1, ...) of the rows,
    so a chunk holding replicates 1000–1999 draws exactly what rows
    1000–1999 of a single big run would.
    """

    def __init__(self, seed: int, replicates: np.ndarray) -> None:
        root = np.random.SeedSequence(int(seed)).generate_state(2, np.uint64)
        ids = np.asarray(replicates, dtype=np.uint64)
        with np.errstate(over="ignore"):
            self.keys = _mix(_mix(ids ^ root[0]) + root[1])
        self.seed = int(seed)
        #: see :meth:`_kept`
        self._stream_keys: dict[str | tuple[str, ...], np.ndarray] = {}

    def __len__(self) -> int:
        return len(self.keys)

    def uniform(self, stream: str, counter, rows=None) -> np.ndarray:
        """Uniforms in (0, 1): one per row (of ``rows``, or all), for ``counter`` (one or per row).

        A stream drawn for some rows is usually drawn again (incidents, hazard
        candidates): its keys are kept for every row, for the next call.
        """
        ctr = np.asarray(counter, dtype=np.uint64)
        if rows is None:
            return _uniforms(self.keys, _stream_id(stream), ctr)
        return _finish(self._kept(stream)[rows], ctr)

    def uniform_ids(self, ids: np.ndarray, counter: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """:meth:`uniform` with a stream per row: ``ids[i]`` for ``rows[i]``."""
        return _uniforms(self.keys[rows], ids, np.asarray(counter, dtype=np.uint64))

    def normal(self, stream: str, counter, rows=None) -> np.ndarray:
        """Standard normals by inversion of :meth:`uniform`."""
        return ndtri(self.uniform(stream, counter, rows))

    def normals(self, streams: list[str], counter, rows: np.ndarray) -> np.ndarray:
        """Normals ``(len(rows), len(streams))``: one per row from each named stream.

        ``counter`` is a scalar or one per row. The streams' keys are kept
        for the next call with the same streams.
        """
        ctr = np.asarray(counter, dtype=np.uint64)
        if ctr.ndim:
            ctr = ctr[:, None]
        return ndtri(_finish(self._kept(tuple(streams))[rows], ctr))

    def _kept(self, names: str | tuple[str, ...]) -> np.ndarray:
        """The keys of a stream for every row (a name), or of several streams (a
        tuple of names, one column each), computed once per set of replicates."""
        keyed = self._stream_keys.get(names)
        if keyed is None:
            if isinstance(names, str):
                keyed = _keyed(self.keys, _stream_id(names))
            else:
                keyed = _keyed(self.keys[:, None], _stream_ids(names)[None, :])
            self._stream_keys[names] = keyed
        return keyed
