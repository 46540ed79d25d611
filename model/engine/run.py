"""One simulation of one chunk of replicates: the SimPy processes and the effects.

SimPy decides *when*: every scheduled event, follow-up, baseline-shift undo,
the hazards (:mod:`.hazards`), the policy (:mod:`.policy`) and the recorder
is a process on one environment whose clock counts whole days from the run's
start. Every wake-up carries a rank, so that on one day things happen in a
fixed order whatever the chunk: dated events, follow-ups, shift ends, the
policy review, incidents, and last the record. Within a rank, the order of
scheduling decides, and that order is the same for every replicate.

An event that ``requires`` others fires only in the replicates where all of
them fired: the run keeps, for each event something requires, the mask of
replicates it fired in, and narrows its consequences' masks with it. Events
that fire everywhere (dated, without a condition) leave the masks whole.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Generator
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np
import simpy
from simpy.core import EventPriority

from ..catalog import Effect, Event
from ..conditions import holds
from ..distributions import sample
from ..eventlog import IncidentRows, Label, SharedRow, shared_row
from ..rng import Streams
from ..scenario import Scenario
from ..timeaxis import add_duration
from .state import State

__all__ = ["RANK_EVENT", "Plan", "Recorder", "Run"]

RANK_EVENT, RANK_FOLLOW_UP, RANK_SHIFT_END, RANK_POLICY, RANK_INCIDENT, RANK_RECORD = range(1, 7)

Process = Generator[simpy.Event, Any, None]


class Recorder(Protocol):
    """Receives the levels ``y`` (replicates x indices, points) at record ``i``."""

    def record(self, i: int, y: np.ndarray) -> None: ...


class _Wake(simpy.events.Event):
    """A timeout with a rank: among wake-ups on one day, lower ranks go first."""

    def __init__(self, env: simpy.Environment, delay: float, rank: int) -> None:
        super().__init__(env)
        self._ok = True
        self._value = None
        env.schedule(self, EventPriority(rank), delay)


@dataclass
class Plan:
    """An event ready to fire: its per-replicate effect sizes."""

    event: Event
    sizes: list[np.ndarray]


class Run:
    """All state of one simulation of one chunk of replicates."""

    def __init__(
        self, scenario: Scenario, replicates: np.ndarray, seed: int, recorder: Recorder
    ) -> None:
        self.sc = scenario
        self.names = scenario.indicators
        self.streams = Streams(seed, replicates)
        self.replicates = np.asarray(replicates)
        self.state = State(scenario, self.streams, scenario.run.noise)
        self.n = len(self.replicates)
        self.start = scenario.run.start
        self.end_day = (scenario.run.end - self.start).days
        self.damping = sample(scenario.damping, self.streams, "damping", self.n)
        self.env = simpy.Environment()
        self.recorder = recorder
        #: rows of events applied across the ensemble
        self.shared: list[SharedRow] = []
        #: per-replicate rows of policy actions: (replicates, day, label code, changes)
        self.actions: list[tuple[np.ndarray, int, int, np.ndarray]] = []
        #: labels of per-replicate rows (actions and incidents), by code
        self.labels: dict[Label, int] = {}
        self.followups: dict[str, list[Plan]] = {}
        #: the replicates each event fired in, for the events that others require
        self.fired: dict[str, np.ndarray] = {}
        self.required: set[str] = set()

    # -- set-up -------------------------------------------------------------
    def plan(self, event: Event, prefix: str | None = None) -> Plan:
        """Per-replicate effect sizes, each drawn from its own named stream."""
        prefix = prefix or f"events.{event.id}"
        scales = self.scales(event)
        sizes = [
            sample(e.size, self.streams, f"{prefix}.{i}.{e.kind}", self.n) * scales[e.indicator]
            for i, e in enumerate(event.effects)
        ]
        return Plan(event, sizes)

    def scales(self, event: Event) -> dict[str, np.ndarray]:
        """The factor on ``event``'s effects on each index it moves, per replicate.

        ``events.scale.<id>`` is one factor for all of them, or a table by
        index (an index it does not name keeps 1; a factor applies to every
        effect on its index). Each uncertain factor draws from its own stream.
        """
        name = f"events.scale.{event.id}"
        factor = self.sc.events.scale.get(event.id, 1.0)
        moved = dict.fromkeys(e.indicator for e in event.effects)
        if not isinstance(factor, dict):
            whole = sample(factor, self.streams, name, self.n)
            return dict.fromkeys(moved, whole)
        ones = np.ones(self.n)
        return {
            k: sample(factor[k], self.streams, f"{name}.{k}", self.n) if k in factor else ones
            for k in moved
        }

    def schedule_events(self) -> None:
        """A process per dated event of the timeline; follow-ups wait for their parents."""
        timeline = self.sc.timeline()
        self.required = {cause for ev in timeline for cause in ev.requires}
        for ev in timeline:
            plan = self.plan(ev)
            if ev.after is not None:
                self.followups.setdefault(ev.after.event, []).append(plan)
            elif ev.date < self.start:  # type: ignore[operator]
                self.pre_start(plan)
            elif (ev.date - self.start).days <= self.end_day:  # type: ignore[operator]
                self.env.process(self.at(plan, (ev.date - self.start).days))  # type: ignore[operator]

    def pre_start(self, plan: Plan) -> None:
        """Events before the run: still-active shifts move the baseline at the start.

        Their jumps are taken to be absorbed in the initial levels.
        """
        for eff, size in zip(plan.event.effects, plan.sizes):
            if eff.kind != "shift":
                continue
            everyone = np.ones(self.n, bool)
            if eff.duration is not None:
                until = add_duration(plan.event.date, eff.duration)  # type: ignore[arg-type]
                if until <= self.start:
                    continue
                self.env.process(
                    self.undo(plan.event, eff.indicator, size, everyone, (until - self.start).days)
                )
            self.state.move_baseline(slice(None), self.names.index(eff.indicator), size)
            self.log_all(plan.event, eff.indicator, "shift", size, everyone)
        if plan.event.id in self.required:
            self.fired[plan.event.id] = np.ones(self.n, bool)

    # -- processes ----------------------------------------------------------
    def wake(self, day: int, rank: int) -> simpy.Event:
        return _Wake(self.env, day - self.env.now, rank)

    def at(self, plan: Plan, day: int, mask: np.ndarray | None = None) -> Process:
        yield self.wake(day, RANK_EVENT if mask is None else RANK_FOLLOW_UP)
        self.fire(plan, np.ones(self.n, bool) if mask is None else mask)

    def undo(
        self, event: Event, indicator: str, amount: np.ndarray, mask: np.ndarray, day: int
    ) -> Process:
        if day > self.end_day:
            return
        yield self.wake(day, RANK_SHIFT_END)
        self.state.advance(day, np.flatnonzero(mask))
        k = self.names.index(indicator)
        self.state.move_baseline(np.flatnonzero(mask), k, -amount[mask])
        self.log_all(event, indicator, "shift-end", -amount, mask)

    def record(self, days: list[int]) -> Process:
        for i, day in enumerate(days):
            yield self.wake(day, RANK_RECORD)
            self.state.advance(day)
            self.recorder.record(i, self.state.points())

    # -- effects ------------------------------------------------------------
    def fire(self, plan: Plan, mask: np.ndarray) -> None:
        for cause in plan.event.requires:  # only where every cause fired (none yet: nowhere)
            mask = mask & self.fired.get(cause, False)
        # only the replicates the event can reach are moved to today, so a
        # replicate's path never depends on which others share its chunk
        self.state.advance(int(self.env.now), None if mask.all() else np.flatnonzero(mask))
        if plan.event.condition:
            levels = dict(zip(self.names, self.state.points().T))
            mask = holds(levels, plan.event.condition, mask)
        if plan.event.id in self.required:
            self.fired[plan.event.id] = self.fired.get(plan.event.id, False) | mask
        if not mask.any():
            return
        # every replicate: views instead of gathered copies
        self.apply(plan, slice(None) if mask.all() else np.flatnonzero(mask))
        for child in self.followups.get(plan.event.id, []):
            day = int(self.env.now) + child.event.after.days  # type: ignore[union-attr]
            self.env.process(self.at(child, day, mask.copy()))

    def apply(self, plan: Plan, rows: np.ndarray | slice, per_replicate: bool = False) -> None:
        """Apply every effect of ``plan`` to ``rows`` (which are at the event's day)."""
        for eff, size in zip(plan.event.effects, plan.sizes):
            k = self.names.index(eff.indicator)
            amount = size[rows]
            if eff.damped_by is not None:
                amount = amount * self.damping_factor(eff, amount, rows)
            realised = self.state.change(eff.kind, rows, k, amount)
            if eff.kind == "shift" and eff.duration is not None:
                self.schedule_undo(plan.event, eff, rows, amount)
            if per_replicate:
                code = self.label(plan.event, eff.indicator, eff.kind)
                self.actions.append((self.replicates[rows], int(self.env.now), code, realised))
            else:
                self.log_all(plan.event, eff.indicator, eff.kind, *self.spread(rows, realised))

    def label(self, event: Event, indicator: str, kind: str) -> int:
        """The code of a per-replicate row's label."""
        return self.labels.setdefault((event.id, event.title, indicator, kind), len(self.labels))

    def action_rows(self) -> IncidentRows:
        """The policy actions' per-replicate rows, in the order they were taken."""
        if not self.actions:
            return IncidentRows.empty()
        reps, days, codes, values = zip(*self.actions)
        sizes = [len(r) for r in reps]
        return IncidentRows(
            np.concatenate(reps).astype(np.int64),
            np.repeat(np.array(days, dtype=np.int64), sizes),
            np.repeat(np.array(codes, dtype=np.int64), sizes),
            np.concatenate(values).astype(float),
            list(self.labels),
        )

    def schedule_undo(
        self, event: Event, eff: Effect, rows: np.ndarray | slice, amount: np.ndarray
    ) -> None:
        """Undo a shift of ``rows`` ``eff.duration`` after today."""
        full, mask = self.spread(rows, amount)
        today = self.start + dt.timedelta(days=int(self.env.now))
        end = (add_duration(today, eff.duration) - self.start).days  # type: ignore[arg-type]
        self.env.process(self.undo(event, eff.indicator, full, mask, end))

    def spread(self, rows: np.ndarray | slice, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """``values`` of ``rows`` as a chunk-wide array (zero elsewhere), and ``rows``' mask."""
        full = np.zeros(self.n)
        full[rows] = values
        mask = np.zeros(self.n, bool)
        mask[rows] = True
        return full, mask

    def damping_factor(self, eff: Effect, size: np.ndarray, rows: np.ndarray | slice) -> np.ndarray:
        """The factor on ``size`` of an effect ``damped_by`` an index, for ``rows``."""
        level = self.state.points(rows)[:, self.names.index(eff.damped_by)]  # type: ignore[arg-type]
        return np.where(size < 0, 1.0 - self.damping[rows] * level / 100.0, 1.0)

    def log_all(
        self, event: Event, indicator: str, kind: str, delta: np.ndarray, mask: np.ndarray
    ) -> None:
        """One shared row for an event applied across the ensemble."""
        self.shared.append(
            shared_row(int(self.env.now), (event.id, event.title, indicator, kind), delta, mask)
        )
