"""The discrete-event engine: one SimPy environment drives a chunk of replicates.

SimPy decides *when*: every scheduled event, follow-up, baseline-shift undo,
hazard and the recorder is a process on one environment whose clock counts
whole days from the run's start. The pure functions of :mod:`model.dynamics`
decide *what*. The state is an array (replicates x indices) and every
per-replicate difference (sampled parameters, conditions, hazard firings) is a
mask over rows, never a Python loop over replicates. Between two moments the
state jumps exactly (no time step), so results do not depend on how often
anything is recorded.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from dataclasses import dataclass, field
from functools import lru_cache

import numpy as np
import simpy

from . import policies
from .catalog import Dist, Effect, Event, add_duration, parse_condition, sample
from .dynamics import (
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
from .indices import to_latent, to_points
from .rng import Streams, stream_ids
from .scenario import Hazard, Scenario

__all__ = ["IncidentRows", "Recorder", "RunOutput", "record_dates", "simulate_chunk"]

DAYS_PER_YEAR = 365.25
#: Scale of the fixed-point sums in ensemble-wide log rows.
FIXED_POINT = float(2**32)
#: Memory for the transition matrices kept per step length (per chunk): a
#: chunk of 10,000 replicates needs 2.6 MB per step length, and uses about 31.
CACHE_BYTES = 512 * 2**20
_FREQ = {"monthly": "MS", "quarterly": "QS", "yearly": "YS"}
_OPS = {"<": np.less, "<=": np.less_equal, ">": np.greater, ">=": np.greater_equal}


def record_dates(scenario: Scenario) -> list[dt.date]:
    """Record dates: the run's start, then the first day of each period."""
    run = scenario.run
    return list(_record_dates(run.start, run.end, run.record))


@lru_cache(maxsize=64)
def _record_dates(start: dt.date, end: dt.date, record: str) -> tuple[dt.date, ...]:
    import pandas as pd

    dates = pd.date_range(start, end, freq=_FREQ[record]).date.tolist()
    return tuple(dates if dates and dates[0] == start else [start] + dates)


class Recorder:
    """Keeps every recorded state: ``values[t, r, k]`` in index points."""

    def __init__(self, n_times: int, n_rows: int, n_indices: int) -> None:
        self.values = np.empty((n_times, n_rows, n_indices))

    def record(self, i: int, y: np.ndarray) -> None:
        self.values[i] = y


@dataclass
class IncidentRows:
    """Incident log rows (one replicate each) as columns, in log order.

    Row ``i`` is the log row ``(replicate[i], day[i], *labels[label[i]], value[i], 1)``:
    a chunk's incidents travel to the parent of an ensemble as a few arrays
    instead of a Python tuple per row.
    """

    replicate: np.ndarray
    day: np.ndarray
    label: np.ndarray
    value: np.ndarray
    labels: list

    @classmethod
    def from_log(cls, rows: list) -> IncidentRows:
        """Rows from incident log tuples (see :class:`RunOutput`)."""
        labels: dict = {}
        code = np.array([labels.setdefault(r[2:6], len(labels)) for r in rows], dtype=np.int64)
        return cls(np.array([r[0] for r in rows], dtype=np.int64), np.array([r[1] for r in rows], dtype=np.int64),
                   code, np.array([r[6] for r in rows], dtype=float), list(labels))

    @classmethod
    def concat(cls, parts: list[IncidentRows]) -> IncidentRows:
        """The rows of ``parts`` one after the other, their labels merged."""
        labels: dict = {}
        codes = [np.array([labels.setdefault(x, len(labels)) for x in p.labels], dtype=np.int64)[p.label]
                 for p in parts]
        return cls(np.concatenate([p.replicate for p in parts]), np.concatenate([p.day for p in parts]),
                   np.concatenate(codes), np.concatenate([p.value for p in parts]), list(labels))

    def __len__(self) -> int:
        return len(self.replicate)

    def by_day(self) -> IncidentRows:
        """The rows sorted by day, then replicate (stable: ties keep log order)."""
        order = np.argsort(self.day * (int(self.replicate.max(initial=0)) + 1) + self.replicate, kind="stable")
        return IncidentRows(self.replicate[order], self.day[order], self.label[order], self.value[order],
                             self.labels)

    def tuples(self) -> list[tuple]:
        """The rows as log tuples."""
        labels = self.labels
        return [(r, d, *labels[c], v, 1) for r, d, c, v in
                zip(self.replicate.tolist(), self.day.tolist(), self.label.tolist(), self.value.tolist())]


@dataclass
class RunOutput:
    """What one chunk produced: the recorder and the event log rows.

    Log rows are ``(replicate, day, event, title, indicator, kind, value, n)``:
    for an incident in one replicate ``value`` is its change in points and
    ``n`` is 1; for an ensemble-wide row (replicate -1) ``value`` is the
    fixed-point sum of the changes over the ``n`` replicates it reached.
    """

    recorder: object
    log: list[tuple] = field(default_factory=list)
    incidents: IncidentRows | None = None


class _State:
    """Latent state, baseline shifts and clocks of a chunk; exact transitions."""

    def __init__(self, scenario: Scenario, streams: Streams, noise: bool) -> None:
        names = scenario.indicators
        n = len(streams)
        specs = scenario.indices

        def column(attr: str) -> np.ndarray:
            return np.stack([sample(getattr(specs[k], attr), streams, f"indices.{k}.{attr}", n) for k in names], 1)

        self.base = column("baseline")
        self.sigma = column("sigma") if noise else np.zeros((n, len(names)))
        spill = np.zeros((n, len(names), len(names)))
        for i, target in enumerate(names):
            for source, value in scenario.spillover.get(target, {}).items():
                spill[:, i, names.index(source)] = sample(value, streams, f"spillover.{target}.{source}", n)
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
        self.spectral = None if self.shared else Spectral(self.a, self.sigma)
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
        self._f: np.ndarray | None = None
        self._root: np.ndarray | None = None

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
                out = self._cache[h] = _shared_transition(self.a.tobytes(), self.sigma[0].tobytes(),
                                                          self.a.shape[-1], h)
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
                f[part], root[part] = self._matrices(v, rows[part]) if v in self._cache else \
                    self._row_matrices(rows[part], v / DAYS_PER_YEAR)
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
        return (np.take(self._f.reshape(-1, k, k), flat, axis=0),
                np.take(self._root.reshape(-1, k, k), flat, axis=0))

    def _allocate(self) -> None:
        """The slot arrays (untouched pages cost no memory)."""
        if self._f is None:
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
        a_inv, rates = (self.a_inv, self.rates) if self.shared else (self.a_inv[rows], self.rates[rows])
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


class _Wake(simpy.events.Event):
    """A timeout with a rank: among wake-ups on one day, lower ranks go first."""

    def __init__(self, env: simpy.Environment, delay: float, rank: int) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, rank, delay)


@dataclass
class _Plan:
    """An event ready to fire: its day and per-replicate effect sizes."""

    event: Event
    sizes: list[np.ndarray]


@dataclass
class _HazardState:
    """One hazard's per-replicate rates, candidate clocks and counters."""

    hz: Hazard
    plan: _Plan
    rate: np.ndarray
    lam_max: np.ndarray
    clock: np.ndarray
    ctr: np.ndarray
    last: int
    stream: str
    k_rate: int | None


class _Stacked:
    """The hazards' per-replicate arrays stacked (hazard x replicate).

    Each hazard's ``clock`` and ``ctr`` become views into the stacks, so the
    windowed rounds and the day-by-day pass share them.
    """

    def __init__(self, states: list[_HazardState]) -> None:
        self.clock = np.stack([h.clock for h in states])
        self.ctr = np.stack([h.ctr for h in states])
        for j, h in enumerate(states):
            h.clock, h.ctr = self.clock[j], self.ctr[j]
        self.rate = np.stack([h.rate for h in states])
        self.lam_max = np.stack([h.lam_max for h in states])
        self.k_rate = np.array([-1 if h.k_rate is None else h.k_rate for h in states])
        self.neg_elasticity = np.array([-h.hz.elasticity for h in states], dtype=float)
        self.reference = np.array([h.hz.reference for h in states], dtype=float)
        self.accept_ids = stream_ids([h.stream + ":accept" for h in states])
        self.gap_ids = stream_ids([h.stream + ":gap" for h in states])


def _layers(states: list[_HazardState]) -> list[list[int]]:
    """Effect positions applied together when incidents of several hazards are.

    Every position in one layer when no effect of a hazard can see another's
    change (no two jumps, or two shifts, of one index; no damping by an index
    another effect jumps); else one position per layer, which is the order of
    the effects.
    """
    depth = max(len(h.hz.effects) for h in states)
    if all(_independent(h.hz.effects) for h in states):
        return [list(range(depth))]
    return [[i] for i in range(depth)]


def _independent(effects) -> bool:
    """Whether each of ``effects`` gives the same change applied before or after the others."""
    jumps = [e.indicator for e in effects if e.kind == "jump"]
    shifts = [e.indicator for e in effects if e.kind == "shift"]
    if len(set(jumps)) < len(jumps) or len(set(shifts)) < len(shifts):
        return False
    return not any(e.damped_by is not None and other is not e and other.kind == "jump"
                   and other.indicator == e.damped_by for e in effects for other in effects)


class _Run:
    """All state of one simulation of one chunk of replicates."""

    #: Handle hazard candidates in windows between other wake-ups (same
    #: results as the day-by-day pass, which tests compare it with).
    windowed = True

    def __init__(self, scenario: Scenario, replicates: np.ndarray, seed: int, recorder) -> None:
        self.sc = scenario
        self.names = scenario.indicators
        self.streams = Streams(seed, replicates)
        self.replicates = np.asarray(replicates)
        self.state = _State(scenario, self.streams, scenario.run.noise)
        self.n = len(self.replicates)
        self.start = scenario.run.start
        self.end_day = (scenario.run.end - self.start).days
        self.damping = sample(scenario.damping, self.streams, "damping", self.n)
        self.env = simpy.Environment()
        self.recorder = recorder
        self.log: list[tuple] = []
        self.keyed: list[tuple] = []
        self._labels: dict[tuple, int] = {}
        self.followups: dict[str, list[_Plan]] = {}

    # -- set-up -------------------------------------------------------------
    def plan(self, event: Event, prefix: str | None = None) -> _Plan:
        """Per-replicate effect sizes, each drawn from its own named stream."""
        scale = sample(self.sc.events.scale.get(event.id, 1.0), self.streams, f"events.scale.{event.id}", self.n)
        prefix = prefix or f"events.{event.id}"
        sizes = [sample(e.size, self.streams, f"{prefix}.{i}.{e.kind}", self.n) * scale
                 for i, e in enumerate(event.effects)]
        return _Plan(event, sizes)

    def start_processes(self, days: list[int]) -> None:
        for ev in self.sc.timeline():
            plan = self.plan(ev)
            if ev.after is not None:
                self.followups.setdefault(ev.after.event, []).append(plan)
            elif ev.date < self.start:
                self.pre_start(plan)
            elif (ev.date - self.start).days <= self.end_day:
                self.env.process(self.at(plan, (ev.date - self.start).days))
        if self.sc.hazards:
            self.env.process(self.hazards())
        if self.sc.policy.name != "passive" or self.sc.policy.reactions:
            self.env.process(self.policy())
        self.env.process(self.record(days))

    def pre_start(self, plan: _Plan) -> None:
        """Events before the run: still-active shifts move the baseline at the start.

        Their jumps are taken to be absorbed in the initial levels.
        """
        for k, (eff, size) in enumerate(zip(plan.event.effects, plan.sizes)):
            if eff.kind != "shift":
                continue
            if eff.duration is not None:
                until = add_duration(plan.event.date, eff.duration)
                if until <= self.start:
                    continue
                self.env.process(self.undo(plan.event, eff.indicator, size, np.ones(self.n, bool),
                                           (until - self.start).days))
            self.state.move_baseline(slice(None), self.names.index(eff.indicator), size)
            self.log_all(plan.event, eff.indicator, "shift", size, np.ones(self.n, bool))

    # -- processes ----------------------------------------------------------
    # Every wake-up carries a rank, so that on one day things happen in a fixed
    # order whatever the chunk: dated events, follow-ups, shift ends, the
    # policy review, incidents, and last the record. Within a rank, the order
    # of scheduling decides, and that order is the same for every replicate.
    def wake(self, day: int, rank: int) -> simpy.Event:
        return _Wake(self.env, day - self.env.now, rank)

    def at(self, plan: _Plan, day: int, mask: np.ndarray | None = None):
        yield self.wake(day, RANK_EVENT if mask is None else RANK_FOLLOW_UP)
        self.fire(plan, np.ones(self.n, bool) if mask is None else mask)

    def undo(self, event: Event, indicator: str, amount: np.ndarray, mask: np.ndarray, day: int):
        if day > self.end_day:
            return
        yield self.wake(day, RANK_SHIFT_END)
        self.state.advance(day, np.flatnonzero(mask))
        k = self.names.index(indicator)
        self.state.move_baseline(np.flatnonzero(mask), k, -amount[mask])
        self.log_all(event, indicator, "shift-end", -amount, mask)

    def record(self, days: list[int]):
        for i, day in enumerate(days):
            yield self.wake(day, RANK_RECORD)
            self.state.advance(day)
            self.recorder.record(i, self.state.points())

    def hazards(self):
        """All hazards in one process: exact thinning per replicate, resolved to the day.

        On a day with candidates, hazards are handled in the order the
        scenario lists them, so two incidents of one replicate on one day
        always act in the same order. Between two wake-ups of the other
        processes, replicates do not interact: every candidate up to the day
        before the next of those wake-ups is then handled in vectorised
        rounds (:meth:`_hazard_window`), each replicate in exactly the order
        of a day-by-day pass. Hazards whose shifts are undone after a
        duration are handled day by day, since an undo may fall inside the
        window.
        """
        states = [self._hazard_state(hz) for hz in self.sc.hazards]
        windowed = self.windowed and not any(eff.kind == "shift" and eff.duration is not None
                                             for hz in self.sc.hazards for eff in hz.effects)
        self._layers = _layers(states)
        if windowed:
            self._stacked = _Stacked(states)
        while True:
            due = [np.ceil(h.clock.min()) for h in states]
            live = [d for d, h in zip(due, states) if d <= h.last]
            if not live:
                return
            day = int(min(live))
            yield self.wake(day, RANK_INCIDENT)
            if windowed:
                stop = max(day, int(min(self.env.peek(), self.end_day + 1)) - 1)
                self._hazard_window(states, day, stop)
                continue
            for j, h in enumerate(states):
                if day <= h.last:
                    self._hazard_day(states, j, day)

    def _hazard_window(self, states: list[_HazardState], first: int, stop: int) -> None:
        """Every candidate of every hazard on days ``first..stop``, in vectorised rounds.

        Nothing else happens to any replicate on these days (after this
        day's earlier ranks), so each round takes, for every replicate with a
        candidate left, its next one in the order of a day-by-day pass (day,
        then hazard in listed order, then candidate), advances it to that
        candidate's day and thins it: each row with its own hazard's rate,
        streams and counters, the same operations as :meth:`_hazard_day`.
        Log rows carry that order as a sort key.
        """
        st = self._stacked
        n_h = len(states)
        limits = np.array([min(stop, h.last) for h in states], dtype=float)
        due = np.ceil(st.clock)
        due[due > limits[:, None]] = np.inf
        # only rows with a candidate in the window ever get one: the others'
        # clocks do not move
        active = np.flatnonzero(due.min(axis=0) <= stop)
        # C order: the fancy index alone would give a column-major array, whose
        # minima over hazards below run many times slower
        due = np.ascontiguousarray(due[:, active])
        last_day = np.full((n_h, active.size), -1, dtype=np.int64)
        nth = np.zeros((n_h, active.size), dtype=np.int64)
        while True:
            best = due.min(axis=0)
            pos = np.flatnonzero(best <= stop)
            if pos.size == 0:
                return
            which = np.argmin(due[:, pos], axis=0)
            # the rows of a round are distinct: move them all at once, and read
            # their levels before any of them is hit
            rows, days = active[pos], best[pos].astype(np.int64)
            self.state.advance_each(days, rows)
            lam = st.rate[which, rows]
            k = st.k_rate[which]
            has = k >= 0
            if has.any():
                y = to_points(self.state.z[rows[has], k[has]])
                w = which[has]
                lam[has] = lam[has] * np.exp(st.neg_elasticity[w] * (y - st.reference[w]))
            ctr = st.ctr[which, rows]
            lam_max = st.lam_max[which, rows]
            u = self.streams.uniform_ids(st.accept_ids[which], ctr, rows)
            hit = u * lam_max < lam
            count = np.where(last_day[which, pos] == days, nth[which, pos] + 1, 0)
            nth[which, pos] = count
            last_day[which, pos] = days
            if hit.any():
                self._round_incidents(states, which[hit], rows[hit], days[hit], count[hit])
            ctr = ctr + np.uint64(1)
            st.ctr[which, rows] = ctr
            gap = -np.log(self.streams.uniform_ids(st.gap_ids[which], ctr, rows)) / lam_max
            clock = st.clock[which, rows] + gap * DAYS_PER_YEAR
            st.clock[which, rows] = clock
            nxt = np.ceil(clock)
            due[which, pos] = np.where(nxt > limits[which], np.inf, nxt)

    def _round_incidents(self, states: list[_HazardState], which: np.ndarray, rows: np.ndarray,
                         days: np.ndarray, nth: np.ndarray) -> None:
        """The incidents of one thinning round (of :meth:`_hazard_window` or
        :meth:`_hazard_day`): hazard ``which[i]`` hits row ``rows[i]`` on ``days[i]``,
        its ``nth[i]``-th candidate of that day.

        The rows are distinct, so all hazards' effects are applied at once, layer
        by layer (see :func:`_layers`): each row gets its own hazard's effects
        with the same arithmetic, and in effect, the same order, as
        :meth:`apply`. A size given as a distribution is drawn afresh for each
        incident. Log rows go to ``self.keyed`` with their sort key.
        """
        hazards = [(j, np.flatnonzero(which == j)) for j in np.unique(which).tolist()]
        for layer in self._layers:
            effects = [(j, mine, i) for j, mine in hazards for i in layer if i < len(states[j].hz.effects)]
            jumps, shifts = [], []
            for (j, mine, i), amount in zip(effects, self._incident_sizes(states, rows, effects)):
                h = states[j]
                fired = rows[mine]
                eff = h.hz.effects[i]
                if eff.damped_by is not None:
                    amount = amount * self._damping(eff, amount, fired)
                event = h.plan.event
                label = self._labels.setdefault((event.id, event.title, eff.indicator, eff.kind), len(self._labels))
                part = (mine, self.names.index(eff.indicator), amount, j, i, label)
                (jumps if eff.kind == "jump" else shifts).append(part)
                if eff.kind == "shift" and eff.duration is not None:
                    # (only on the day-by-day pass, where the rows are at today)
                    self.schedule_undo(event, eff, fired, amount)
            for kind, parts in (("jump", jumps), ("shift", shifts)):
                if not parts:
                    continue
                mine = np.concatenate([p[0] for p in parts])
                k = np.concatenate([np.full(p[0].size, p[1]) for p in parts])
                amount = np.concatenate([p[2] for p in parts])
                r = rows[mine]
                realised = self.state.change(kind, r, k, amount)
                sizes = [p[0].size for p in parts]
                self.keyed.append((days[mine], np.repeat([p[3] for p in parts], sizes), nth[mine],
                                   np.repeat([p[4] for p in parts], sizes), self.replicates[r], realised,
                                   np.repeat([p[5] for p in parts], sizes)))

    def _incident_sizes(self, states: list[_HazardState], rows: np.ndarray, effects: list[tuple]) -> list:
        """The size of effect ``i`` of hazard ``states[j]`` for the rows ``rows[mine]``, for each
        ``(j, mine, i)`` of ``effects``.

        A size given as a distribution is drawn afresh for each incident, from
        the stream of that hazard and effect, counted by the hazard's
        candidates; the draws of all effects come from one call.
        """
        out = []
        drawn = []
        for n, (j, mine, i) in enumerate(effects):
            h = states[j]
            eff = h.hz.effects[i]
            if isinstance(eff.size, Dist):
                drawn.append((n, h, rows[mine], eff.size, f"param:hazards.{h.hz.id}.{i}.{eff.kind}"))
                out.append(None)
            else:
                out.append(h.plan.sizes[i][rows[mine]])
        if drawn:
            counts = [d[2].size for d in drawn]
            fired = np.concatenate([d[2] for d in drawn])
            ctr = np.concatenate([h.ctr[f] for _, h, f, _, _ in drawn])
            ids = np.repeat(stream_ids([d[4] for d in drawn]), counts)
            u = np.split(self.streams.uniform_ids(ids, ctr, fired), np.cumsum(counts)[:-1])
            for (n, _, _, dist, _), part in zip(drawn, u):
                out[n] = dist.draw(part)
        return out

    def _hazard_state(self, hz: Hazard) -> _HazardState:
        rate = sample(hz.rate, self.streams, f"hazards.{hz.id}.rate", self.n)
        level_max = 0.0 if hz.elasticity > 0 else 100.0
        lam_max = rate * np.exp(-hz.elasticity * (level_max - hz.reference))
        first = 0 if hz.start is None else (hz.start - self.start).days
        last = self.end_day if hz.end is None else (hz.end - self.start).days
        stream = f"hazard:{hz.id}"
        ctr = np.zeros(self.n, dtype=np.uint64)
        active = lam_max > 0
        gap = -np.log(self.streams.uniform(stream + ":gap", ctr)) / np.where(active, lam_max, 1.0)
        clock = np.where(active, first + gap * DAYS_PER_YEAR, np.inf)
        event = Event(id=hz.id, date=self.start, title=hz.title, effects=hz.effects, category=hz.category)
        k_rate = self.names.index(hz.indicator) if hz.indicator else None
        return _HazardState(hz, self.plan(event, f"hazards.{hz.id}"), rate, lam_max, clock, ctr, last,
                            stream, k_rate)

    def _hazard_day(self, states: list[_HazardState], j: int, day: int) -> None:
        """Thinning rounds for every candidate of hazard ``states[j]`` falling on ``day``."""
        h = states[j]
        nth = 0
        while True:
            rows = np.flatnonzero(np.ceil(h.clock) <= day)
            if rows.size == 0:
                return
            self.state.advance(day, rows)
            lam = h.rate[rows]
            if h.k_rate is not None:
                y = self.state.points(rows)[:, h.k_rate]
                lam = lam * np.exp(-h.hz.elasticity * (y - h.hz.reference))
            u = self.streams.uniform(h.stream + ":accept", h.ctr[rows], rows=rows)
            fired = rows[u * h.lam_max[rows] < lam]
            if fired.size:
                self._round_incidents(states, np.full(fired.size, j), fired, np.full(fired.size, day),
                                      np.full(fired.size, nth))
            h.ctr[rows] += np.uint64(1)
            gap = -np.log(self.streams.uniform(h.stream + ":gap", h.ctr[rows], rows=rows)) / h.lam_max[rows]
            h.clock[rows] = h.clock[rows] + gap * DAYS_PER_YEAR
            nth += 1

    def policy(self):
        """Türkiye's policy and the actors' reactions, reviewed every ``policy.every``."""
        spec = self.sc.policy
        menu = policies.actions()
        rules = policies.reactions() if spec.reactions else {}
        plans = {name: self._action_plan(f"policy-{name}", act) for name, act in menu.items()}
        plans |= {name: self._action_plan(f"reaction-{name}", act) for name, act in rules.items()}
        params = dict(policies.DEFAULT_PARAMS.get(spec.name, {}), **spec.params)
        params = {k: sample(v, self.streams, f"policy.params.{k}", self.n) for k, v in params.items()}
        ready = {name: np.full(self.n, -1) for name in plans}
        when = spec.start
        while (day := (when - self.start).days) <= self.end_day:
            yield self.wake(day, RANK_POLICY)
            self.state.advance(day)
            y = self.state.points()
            levels = dict(zip(self.names, y.T))
            choice = policies.decide(spec.name, levels, params, [(r.when, r.action) for r in spec.rules])
            for name in menu:
                self._act(name, menu[name], plans[name], (choice == name), ready, day)
            for name, rule in rules.items():
                hit = np.ones(self.n, bool)
                for idx, op, value in parse_condition(rule.when):
                    hit &= _OPS[op](levels[idx], value)
                self._act(name, rule, plans[name], hit, ready, day)
            when = add_duration(when, spec.every)

    def _action_plan(self, ident: str, act) -> _Plan:
        event = Event(id=ident, date=self.start, title=act.title, effects=act.effects, category="policy")
        return self.plan(event, ident)

    def _act(self, name: str, act, plan: _Plan, wanted: np.ndarray, ready: dict, day: int) -> None:
        rows = np.flatnonzero(wanted & (ready[name] <= day))
        if rows.size:
            self.apply(plan, rows, per_replicate=True)
            today = self.start + dt.timedelta(days=day)
            ready[name][rows] = (add_duration(today, act.cooldown) - self.start).days

    # -- effects ------------------------------------------------------------
    def fire(self, plan: _Plan, mask: np.ndarray) -> None:
        # only the replicates the event can reach are moved to today, so a
        # replicate's path never depends on which others share its chunk
        self.state.advance(int(self.env.now), None if mask.all() else np.flatnonzero(mask))
        if plan.event.condition:
            y = self.state.points()
            for name, op, value in parse_condition(plan.event.condition):
                mask = mask & _OPS[op](y[:, self.names.index(name)], value)
        if not mask.any():
            return
        # every replicate: views instead of gathered copies
        self.apply(plan, slice(None) if mask.all() else np.flatnonzero(mask))
        for child in self.followups.get(plan.event.id, []):
            self.env.process(self.at(child, int(self.env.now) + child.event.after.days, mask.copy()))

    def apply(self, plan: _Plan, rows: np.ndarray | slice, per_replicate: bool = False) -> None:
        """Apply every effect of ``plan`` to ``rows`` (which are at the event's day)."""
        for i, (eff, size) in enumerate(zip(plan.event.effects, plan.sizes)):
            k = self.names.index(eff.indicator)
            amount = size[rows]
            if eff.damped_by is not None:
                amount = amount * self._damping(eff, amount, rows)
            realised = self.state.change(eff.kind, rows, k, amount)
            if eff.kind == "shift" and eff.duration is not None:
                self.schedule_undo(plan.event, eff, rows, amount)
            if per_replicate:
                day = int(self.env.now)
                for r, v in zip(self.replicates[rows], realised):
                    self.log.append((int(r), day, plan.event.id, plan.event.title, eff.indicator, eff.kind,
                                     float(v), 1))
            else:
                self.log_all(plan.event, eff.indicator, eff.kind, *self._spread(rows, realised))

    def keyed_rows(self) -> IncidentRows:
        """The incidents' log rows (they come from :meth:`_round_incidents`), in the
        order of a day-by-day pass."""
        if not self.keyed:
            return IncidentRows.from_log([])
        day, j, nth, eff_i, rep, value, label = (np.concatenate(p) for p in zip(*self.keyed))
        order = np.lexsort((rep, eff_i, nth, j, day))
        return IncidentRows(rep[order], day[order], label[order].astype(np.int64), value[order],
                            list(self._labels))

    def schedule_undo(self, event: Event, eff: Effect, rows: np.ndarray, amount: np.ndarray) -> None:
        """Undo a shift of ``rows`` ``eff.duration`` after today."""
        full, mask = self._spread(rows, amount)
        today = self.start + dt.timedelta(days=int(self.env.now))
        end = (add_duration(today, eff.duration) - self.start).days
        self.env.process(self.undo(event, eff.indicator, full, mask, end))

    def _spread(self, rows, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``values`` of ``rows`` as a chunk-wide array (zero elsewhere), and the mask of ``rows``."""
        full = np.zeros(self.n)
        full[rows] = values
        mask = np.zeros(self.n, bool)
        mask[rows] = True
        return full, mask

    def _damping(self, eff: Effect, size: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The factor on ``size`` of an effect ``damped_by`` an index, for ``rows``."""
        level = self.state.points(rows)[:, self.names.index(eff.damped_by)]
        return np.where(size < 0, 1.0 - self.damping[rows] * level / 100.0, 1.0)

    def log_all(self, event: Event, indicator: str, kind: str, delta: np.ndarray, mask: np.ndarray) -> None:
        """One log row for an event applied across the ensemble.

        Carries the sum of the changes where it fired in fixed point (units of
        2**-32 points, an exact integer), so chunks merge without rounding.
        """
        day = max(int(self.env.now), 0)
        total = int(np.round(delta[mask] * FIXED_POINT).astype(np.int64).sum())
        self.log.append((-1, day, event.id, event.title, indicator, kind, total, int(mask.sum())))


def simulate_chunk(scenario: Scenario, replicates: np.ndarray, seed: int, recorder=None,
                   incident_arrays: bool = False) -> RunOutput:
    """Run ``scenario`` for the given global replicate numbers.

    ``recorder`` receives ``record(i, y)`` for each record date ``i`` with
    ``y`` the (replicates x indices) levels; by default every state is kept.
    With ``incident_arrays``, the hazards' incidents are left out of ``log``
    and given as arrays in ``incidents``.
    """
    days = [(d - scenario.run.start).days for d in record_dates(scenario)]
    if recorder is None:
        recorder = Recorder(len(days), len(replicates), len(scenario.indicators))
    run = _Run(scenario, np.asarray(replicates, dtype=np.int64), seed, recorder)
    run.start_processes(days)
    run.env.run(until=run.end_day + 1)
    if incident_arrays:
        return RunOutput(recorder, run.log, run.keyed_rows())
    return RunOutput(recorder, run.log + run.keyed_rows().tuples())
