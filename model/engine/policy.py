"""Türkiye's policy and the other actors' reactions as a SimPy process.

Every ``policy.every`` from ``policy.start``, the process moves every
replicate to the review day, asks :func:`model.policies.decide` which action
each replicate takes, and applies the actions (each an event with effects and
a cooldown) to the replicates that chose them and are not cooling down; the
reactions' rules fire where their conditions hold. Each action is logged per
replicate.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import numpy as np

from .. import policies
from ..catalog import Event
from ..conditions import holds
from ..distributions import sample
from ..timeaxis import add_duration
from .run import RANK_POLICY, Plan, Process

if TYPE_CHECKING:  # pragma: no cover
    from .run import Run

__all__ = ["policy_process"]


def policy_process(run: Run) -> Process:
    """Türkiye's policy and the actors' reactions, reviewed every ``policy.every``."""
    spec = run.sc.policy
    menu = policies.actions()
    rules = policies.reactions() if spec.reactions else {}
    plans = {name: _plan(run, f"policy-{name}", act) for name, act in menu.items()}
    plans |= {name: _plan(run, f"reaction-{name}", act) for name, act in rules.items()}
    settings = dict(policies.DEFAULT_PARAMS.get(spec.name, {}), **spec.params)
    params = {k: sample(v, run.streams, f"policy.params.{k}", run.n) for k, v in settings.items()}
    ready = {name: np.full(run.n, -1) for name in plans}
    written = [(r.when, r.action) for r in spec.rules]
    when = spec.start
    while (day := (when - run.start).days) <= run.end_day:
        yield run.wake(day, RANK_POLICY)
        run.state.advance(day)
        levels = dict(zip(run.names, run.state.points().T))
        choice = policies.decide(spec.name, levels, params, written)
        for name in menu:
            _act(
                run,
                menu[name],
                plans[name],
                (choice == name) & (ready[name] <= day),
                ready[name],
                day,
            )
        for name, rule in rules.items():
            hit = holds(levels, rule.when)  # type: ignore[arg-type]
            _act(run, rule, plans[name], hit & (ready[name] <= day), ready[name], day)
        when = add_duration(when, spec.every)


def _plan(run: Run, ident: str, act: policies.Action) -> Plan:
    event = Event(id=ident, date=run.start, title=act.title, effects=act.effects, category="policy")
    return run.plan(event, ident)


def _act(
    run: Run, act: policies.Action, plan: Plan, wanted: np.ndarray, ready: np.ndarray, day: int
) -> None:
    """Apply ``plan`` to the replicates that want it now, and start their cooldown."""
    rows = np.flatnonzero(wanted)
    if rows.size:
        run.apply(plan, rows, per_replicate=True)
        today = run.start + dt.timedelta(days=day)
        ready[rows] = (add_duration(today, act.cooldown) - run.start).days
