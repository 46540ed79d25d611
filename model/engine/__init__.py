"""The discrete-event engine: one SimPy environment drives a chunk of replicates.

SimPy decides *when* (:mod:`.run`: dated events, follow-ups, the ends of
shifts, :mod:`.hazards`, :mod:`.policy`, the recorder); the pure functions of
:mod:`model.dynamics` decide *what*. The state (:mod:`.state`) is an array
(replicates x indices) and every per-replicate difference (sampled
parameters, conditions, hazard firings) is a mask over rows, never a Python
loop over replicates. Between two moments the state jumps exactly (no time
step), so results do not depend on how often anything is recorded.

:func:`simulate_chunk` is the one entry point: a scenario, the global numbers
of the replicates to run, a seed, and a recorder that receives the levels at
each record date.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..eventlog import IncidentRows, SharedRow
from ..scenario import Scenario
from .hazards import Hazards
from .policy import policy_process
from .run import Recorder, Run

__all__ = ["KeepAll", "Recorder", "RunOutput", "simulate_chunk"]


class KeepAll:
    """A recorder that keeps every recorded state: ``values[t, r, k]`` in index points."""

    def __init__(self, n_times: int, n_rows: int, n_indices: int) -> None:
        self.values = np.empty((n_times, n_rows, n_indices))

    def record(self, i: int, y: np.ndarray) -> None:
        self.values[i] = y


@dataclass
class RunOutput:
    """What one chunk produced: its recorder, the rows of events applied across the
    chunk, and the per-replicate rows (policy actions, then incidents)."""

    recorder: Recorder
    shared: list[SharedRow]
    incidents: IncidentRows


def simulate_chunk(
    scenario: Scenario, replicates: np.ndarray, seed: int, recorder: Recorder | None = None
) -> RunOutput:
    """Run ``scenario`` for the given global replicate numbers.

    ``recorder`` receives ``record(i, y)`` for each record date ``i`` with
    ``y`` the (replicates x indices) levels; by default every state is kept
    (:class:`KeepAll`).
    """
    days = [(d - scenario.run.start).days for d in scenario.record_dates()]
    if recorder is None:
        recorder = KeepAll(len(days), len(replicates), len(scenario.indicators))
    run = Run(scenario, np.asarray(replicates, dtype=np.int64), seed, recorder)
    run.schedule_events()
    hazards = Hazards(run)
    if scenario.hazards:
        run.env.process(hazards.process())
    if scenario.policy.name != "passive" or scenario.policy.reactions:
        run.env.process(policy_process(run))
    run.env.process(run.record(days))
    run.env.run(until=run.end_day + 1)
    return RunOutput(recorder, run.shared, IncidentRows.concat([run.action_rows(), hazards.rows()]))
