"""Hazards: random incidents, each a Poisson process whose rate depends on the state.

Candidates are drawn per replicate with exact thinning: a candidate clock
advances by exponential gaps at the hazard's maximal rate, and a candidate
becomes an incident with probability rate(level) / maximal rate, the level
read on the candidate's day. Every draw comes from the replicate's own named
streams, so an incident never depends on the other replicates of the chunk.
Candidates are resolved to the day; between the other processes' wake-ups
they are handled in vectorised rounds that keep, for every replicate, the
order of a day-by-day pass (which tests compare them with, bit for bit).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from ..catalog import Event
from ..distributions import Dist, sample
from ..eventlog import IncidentRows
from ..indices import to_points
from ..rng import stream_ids
from ..scenario import Hazard
from ..timeaxis import DAYS_PER_YEAR
from .run import RANK_INCIDENT, Plan, Process

if TYPE_CHECKING:  # pragma: no cover
    from .run import Run

__all__ = ["HazardState", "Hazards", "Stacked", "independent", "layers"]


@dataclass
class HazardState:
    """One hazard's per-replicate rates, candidate clocks and counters."""

    hz: Hazard
    plan: Plan
    rate: np.ndarray
    lam_max: np.ndarray
    clock: np.ndarray
    ctr: np.ndarray
    last: int
    stream: str
    k_rate: int | None


class Stacked:
    """The hazards' per-replicate arrays stacked (hazard x replicate).

    Each hazard's ``clock`` and ``ctr`` become views into the stacks, so the
    windowed rounds and the day-by-day pass share them.
    """

    def __init__(self, states: list[HazardState]) -> None:
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


def layers(states: list[HazardState]) -> list[list[int]]:
    """Effect positions applied together when incidents of several hazards are.

    Every position in one layer when no effect of a hazard can see another's
    change (no two jumps, or two shifts, of one index; no damping by an index
    another effect jumps); else one position per layer, which is the order of
    the effects.
    """
    depth = max(len(h.hz.effects) for h in states)
    if all(independent(h.hz.effects) for h in states):
        return [list(range(depth))]
    return [[i] for i in range(depth)]


def independent(effects) -> bool:
    """Whether each of ``effects`` gives the same change applied before or after the others."""
    jumps = [e.indicator for e in effects if e.kind == "jump"]
    shifts = [e.indicator for e in effects if e.kind == "shift"]
    if len(set(jumps)) < len(jumps) or len(set(shifts)) < len(shifts):
        return False
    return not any(
        e.damped_by is not None
        and other is not e
        and other.kind == "jump"
        and other.indicator == e.damped_by
        for e in effects
        for other in effects
    )


class Hazards:
    """The hazards of a run, handled in one SimPy process (:meth:`process`)."""

    #: Handle candidates in windows between other wake-ups (same results as the
    #: day-by-day pass, which tests compare it with).
    windowed = True
    #: the hazards' arrays stacked, for the windowed rounds
    _stacked: Stacked

    def __init__(self, run: Run) -> None:
        self.run = run
        #: incident rows of each round, with their sort keys (see :meth:`rows`)
        self.keyed: list[tuple] = []
        self._layers: list[list[int]] = []

    def rows(self) -> IncidentRows:
        """The incidents' rows, in the order of a day-by-day pass."""
        if not self.keyed:
            return IncidentRows.empty()
        day, j, nth, eff_i, rep, value, label = (np.concatenate(p) for p in zip(*self.keyed))
        order = np.lexsort((rep, eff_i, nth, j, day))
        return IncidentRows(
            rep[order],
            day[order],
            label[order].astype(np.int64),
            value[order],
            list(self.run.labels),
        )

    def process(self) -> Process:
        """All hazards in one process: exact thinning per replicate, resolved to the day.

        On a day with candidates, hazards are handled in the order the
        scenario lists them, so two incidents of one replicate on one day
        always act in the same order. Between two wake-ups of the other
        processes, replicates do not interact: every candidate up to the day
        before the next of those wake-ups is then handled in vectorised
        rounds (:meth:`_window`), each replicate in exactly the order
        of a day-by-day pass. Hazards whose shifts are undone after a
        duration are handled day by day, since an undo may fall inside the
        window.
        """
        states = [self._state_of(hz) for hz in self.run.sc.hazards]
        windowed = self.windowed and not any(
            eff.kind == "shift" and eff.duration is not None
            for hz in self.run.sc.hazards
            for eff in hz.effects
        )
        self._layers = layers(states)
        if windowed:
            self._stacked = Stacked(states)
        while True:
            due = [np.ceil(h.clock.min()) for h in states]
            live = [d for d, h in zip(due, states) if d <= h.last]
            if not live:
                return
            day = int(min(live))
            yield self.run.wake(day, RANK_INCIDENT)
            if windowed:
                stop = max(day, int(min(self.run.env.peek(), self.run.end_day + 1)) - 1)
                self._window(states, day, stop)
                continue
            for j, h in enumerate(states):
                if day <= h.last:
                    self._day(states, j, day)

    def _window(self, states: list[HazardState], first: int, stop: int) -> None:
        """Every candidate of every hazard on days ``first..stop``, in vectorised rounds.

        Nothing else happens to any replicate on these days (after this
        day's earlier ranks), so each round takes, for every replicate with a
        candidate left, its next one in the order of a day-by-day pass (day,
        then hazard in listed order, then candidate), advances it to that
        candidate's day and thins it: each row with its own hazard's rate,
        streams and counters, the same operations as :meth:`_day`.
        Log rows carry that order as a sort key.
        """
        limits, active, due = self._due(states, stop)
        last_day = np.full((len(states), active.size), -1, dtype=np.int64)
        nth = np.zeros((len(states), active.size), dtype=np.int64)
        while True:
            best = due.min(axis=0)
            pos = np.flatnonzero(best <= stop)
            if pos.size == 0:
                return
            which = np.argmin(due[:, pos], axis=0)
            # the rows of a round are distinct: move them all at once, and read
            # their levels before any of them is hit
            rows, days = active[pos], best[pos].astype(np.int64)
            self.run.state.advance_each(days, rows)
            ctr, lam_max, hit = self._thin(which, rows)
            count = np.where(last_day[which, pos] == days, nth[which, pos] + 1, 0)
            nth[which, pos] = count
            last_day[which, pos] = days
            if hit.any():
                self._round(states, which[hit], rows[hit], days[hit], count[hit])
            nxt = self._next_candidates(which, rows, ctr, lam_max)
            due[which, pos] = np.where(nxt > limits[which], np.inf, nxt)

    def _due(
        self, states: list[HazardState], stop: int
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The window's candidates: each hazard's last day in it, the rows with a candidate
        on or before ``stop`` (``active``), and the day of each hazard's next candidate for
        them (hazard x active row, ``inf`` after the hazard's last day).
        """
        st = self._stacked
        limits = np.array([min(stop, h.last) for h in states], dtype=float)
        due = np.ceil(st.clock)
        due[due > limits[:, None]] = np.inf
        # only rows with a candidate in the window ever get one: the others'
        # clocks do not move
        active = np.flatnonzero(due.min(axis=0) <= stop)
        # C order: the fancy index alone would give a column-major array, whose
        # minima over hazards below run many times slower
        due = np.ascontiguousarray(due[:, active])
        return limits, active, due

    def _thin(
        self, which: np.ndarray, rows: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Thinning of the current candidate of hazard ``which[i]`` for row ``rows[i]``.

        Returns the candidates' counters, their hazards' maximal rates and
        whether each becomes an incident.
        """
        st = self._stacked
        lam = self._rates(which, rows)
        ctr = st.ctr[which, rows]
        lam_max = st.lam_max[which, rows]
        u = self.run.streams.uniform_ids(st.accept_ids[which], ctr, rows)
        return ctr, lam_max, u * lam_max < lam

    def _rates(self, which: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """The rate of hazard ``which[i]`` for row ``rows[i]``, at the row's level now."""
        st = self._stacked
        lam = st.rate[which, rows]
        k = st.k_rate[which]
        has = k >= 0
        if has.any():
            y = to_points(self.run.state.z[rows[has], k[has]])
            w = which[has]
            lam[has] = lam[has] * np.exp(st.neg_elasticity[w] * (y - st.reference[w]))
        return lam

    def _next_candidates(
        self, which: np.ndarray, rows: np.ndarray, ctr: np.ndarray, lam_max: np.ndarray
    ) -> np.ndarray:
        """Counters and clocks moved past the rows' current candidates; the next ones' days."""
        st = self._stacked
        ctr = ctr + np.uint64(1)
        st.ctr[which, rows] = ctr
        gap = -np.log(self.run.streams.uniform_ids(st.gap_ids[which], ctr, rows)) / lam_max
        clock = st.clock[which, rows] + gap * DAYS_PER_YEAR
        st.clock[which, rows] = clock
        return np.ceil(clock)

    def _round(
        self,
        states: list[HazardState],
        which: np.ndarray,
        rows: np.ndarray,
        days: np.ndarray,
        nth: np.ndarray,
    ) -> None:
        """The incidents of one thinning round (of :meth:`_window` or
        :meth:`_day`): hazard ``which[i]`` hits row ``rows[i]`` on ``days[i]``,
        its ``nth[i]``-th candidate of that day.

        The rows are distinct, so all hazards' effects are applied at once, layer
        by layer (see :func:`layers`): each row gets its own hazard's effects
        with the same arithmetic, and in effect, the same order, as
        :meth:`apply`. A size given as a distribution is drawn afresh for each
        incident. Log rows go to ``self.keyed`` with their sort key.
        """
        hazards = [(j, np.flatnonzero(which == j)) for j in np.unique(which).tolist()]
        for layer in self._layers:
            effects = [
                (j, mine, i) for j, mine in hazards for i in layer if i < len(states[j].hz.effects)
            ]
            jumps, shifts = self._parts(states, rows, effects)
            for kind, parts in (("jump", jumps), ("shift", shifts)):
                if parts:
                    self._apply(kind, parts, rows, days, nth)

    def _parts(
        self, states: list[HazardState], rows: np.ndarray, effects: list[tuple]
    ) -> tuple[list[tuple], list[tuple]]:
        """The jumps and the shifts of one layer's ``effects`` (as in :meth:`_sizes`).

        Each part is ``(mine, index position, amount, hazard, effect, label)``,
        its amounts damped where the effect says so; a shift undone after a
        duration gets its undo scheduled.
        """
        jumps: list[tuple] = []
        shifts: list[tuple] = []
        for (j, mine, i), amount in zip(effects, self._sizes(states, rows, effects)):
            h = states[j]
            fired = rows[mine]
            eff = h.hz.effects[i]
            if eff.damped_by is not None:
                amount = amount * self.run.damping_factor(eff, amount, fired)
            event = h.plan.event
            label = self.run.label(event, eff.indicator, eff.kind)
            part = (mine, self.run.names.index(eff.indicator), amount, j, i, label)
            (jumps if eff.kind == "jump" else shifts).append(part)
            if eff.kind == "shift" and eff.duration is not None:
                # (only on the day-by-day pass, where the rows are at today)
                self.run.schedule_undo(event, eff, fired, amount)
        return jumps, shifts

    def _apply(
        self, kind: str, parts: list[tuple], rows: np.ndarray, days: np.ndarray, nth: np.ndarray
    ) -> None:
        """The changes of ``parts`` (all jumps or all shifts, see :meth:`_parts`) in one call;
        their log rows go to ``self.keyed`` with their sort key.
        """
        mine = np.concatenate([p[0] for p in parts])
        k = np.concatenate([np.full(p[0].size, p[1]) for p in parts])
        amount = np.concatenate([p[2] for p in parts])
        r = rows[mine]
        realised = self.run.state.change(kind, r, k, amount)
        sizes = [p[0].size for p in parts]
        self.keyed.append(
            (
                days[mine],
                np.repeat([p[3] for p in parts], sizes),
                nth[mine],
                np.repeat([p[4] for p in parts], sizes),
                self.run.replicates[r],
                realised,
                np.repeat([p[5] for p in parts], sizes),
            )
        )

    def _sizes(self, states: list[HazardState], rows: np.ndarray, effects: list[tuple]) -> list:
        """The size of effect ``i`` of hazard ``states[j]`` for the rows ``rows[mine]``, for each
        ``(j, mine, i)`` of ``effects``.

        A size given as a distribution is drawn afresh for each incident, from
        the stream of that hazard and effect, counted by the hazard's
        candidates; the draws of all effects come from one call.
        """
        out: list = []
        drawn: list[tuple] = []
        for n, (j, mine, i) in enumerate(effects):
            h = states[j]
            eff = h.hz.effects[i]
            if isinstance(eff.size, Dist):
                drawn.append(
                    (n, h, rows[mine], eff.size, f"param:hazards.{h.hz.id}.{i}.{eff.kind}")
                )
                out.append(None)
            else:
                out.append(h.plan.sizes[i][rows[mine]])
        if drawn:
            counts = [d[2].size for d in drawn]
            fired = np.concatenate([d[2] for d in drawn])
            ctr = np.concatenate([h.ctr[f] for _, h, f, _, _ in drawn])
            ids = np.repeat(stream_ids([d[4] for d in drawn]), counts)
            u = np.split(self.run.streams.uniform_ids(ids, ctr, fired), np.cumsum(counts)[:-1])
            for (n, _, _, dist, _), part in zip(drawn, u):
                out[n] = dist.draw(part)
        return out

    def _state_of(self, hz: Hazard) -> HazardState:
        rate = sample(hz.rate, self.run.streams, f"hazards.{hz.id}.rate", self.run.n)
        level_max = 0.0 if hz.elasticity > 0 else 100.0
        lam_max = rate * np.exp(-hz.elasticity * (level_max - hz.reference))
        first = 0 if hz.start is None else (hz.start - self.run.start).days
        last = self.run.end_day if hz.end is None else (hz.end - self.run.start).days
        stream = f"hazard:{hz.id}"
        ctr = np.zeros(self.run.n, dtype=np.uint64)
        active = lam_max > 0
        gap = -np.log(self.run.streams.uniform(stream + ":gap", ctr)) / np.where(
            active, lam_max, 1.0
        )
        clock = np.where(active, first + gap * DAYS_PER_YEAR, np.inf)
        event = Event(
            id=hz.id, date=self.run.start, title=hz.title, effects=hz.effects, category=hz.category
        )
        k_rate = self.run.names.index(hz.indicator) if hz.indicator else None
        return HazardState(
            hz,
            self.run.plan(event, f"hazards.{hz.id}"),
            rate,
            lam_max,
            clock,
            ctr,
            last,
            stream,
            k_rate,
        )

    def _day(self, states: list[HazardState], j: int, day: int) -> None:
        """Thinning rounds for every candidate of hazard ``states[j]`` falling on ``day``."""
        h = states[j]
        nth = 0
        while True:
            rows = np.flatnonzero(np.ceil(h.clock) <= day)
            if rows.size == 0:
                return
            self.run.state.advance(day, rows)
            lam = h.rate[rows]
            if h.k_rate is not None:
                y = self.run.state.points(rows)[:, h.k_rate]
                lam = lam * np.exp(-h.hz.elasticity * (y - h.hz.reference))
            u = self.run.streams.uniform(h.stream + ":accept", h.ctr[rows], rows=rows)
            fired = rows[u * h.lam_max[rows] < lam]
            if fired.size:
                self._round(
                    states,
                    np.full(fired.size, j),
                    fired,
                    np.full(fired.size, day),
                    np.full(fired.size, nth),
                )
            h.ctr[rows] += np.uint64(1)
            u = self.run.streams.uniform(h.stream + ":gap", h.ctr[rows], rows=rows)
            gap = -np.log(u) / h.lam_max[rows]
            h.clock[rows] = h.clock[rows] + gap * DAYS_PER_YEAR
            nth += 1
