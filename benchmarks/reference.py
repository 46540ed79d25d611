"""A straightforward reference implementation of the relsim dynamics, for comparison.

One ``simpy.Environment`` per replicate and a daily Euler–Maruyama step of the
latent SDE of ``model/dynamics.py``::

    dz = [ -K (z - m) + C (z - m0) ] dt + S dW        (= A (z - z*) dt + S dW)

with ``K = diag(ln 2 / half_life)``, ``C`` the spill-overs, ``m`` the target
from the baseline plus active shifts (``logit(squeeze(b) / 100)``), ``m0`` the
structural target and ``S = diag(sigma)``; ``dt`` is one day (1 / 365.25 year).
The drift is written in its unrearranged form, so the joint equilibrium
``z* = A^-1 (C m0 - K m)`` of the engine is reached without ever being computed.

Everything else follows docs/MODEL.md:

- the events of the resolved scenario's ``timeline()``: jumps added on the
  stretched scale (``squeeze(unsqueeze(y) + delta)``), shifts added to the
  baseline and undone after their ``duration``, ``damped_by``, ``condition``,
  follow-ups (``after``), event scales; events before the start contribute
  only their still-active shifts; events after the end are ignored;
- hazards: on every day of their window the rate
  ``lambda(y) = rate * exp(-elasticity * (y - reference))`` per year gives a
  Bernoulli firing with probability ``lambda * dt``; as in the engine, an
  incident effect whose size is a distribution draws a fresh size at each
  firing;
- other uncertain numbers (distributions) are drawn once per replicate;
- monthly (or the scenario's) records.

Policies (a non-passive ``[policy]`` or reactions) are not implemented.

Random numbers come from ``numpy.random.default_rng([seed, replicate])``, so the
paths do not match the engine's bit for bit (different integrator and random
numbers); only their distribution should agree.

Order within a day (as in the engine): events of the day in timeline order,
then follow-ups, then shift ends, then hazards (in the scenario's order), then
the record. Events run on the whole day (time ``d``), follow-ups at ``d + 0.1``
and shift ends at ``d + 0.2``, each a SimPy process; the daily process runs at
``d + 0.5``: it applies that day's hazards, takes the record if it is a record
day, and makes the Euler step to the next day, so everything on day ``d`` sees
the state of day ``d``.
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass

import numpy as np
import simpy

from model.conditions import parse_condition
from model.distributions import Dist
from model.scenario import Scenario
from model.timeaxis import add_duration

__all__ = ["ReferenceRun", "run_reference"]

DAYS_PER_YEAR = 365.25
DT = 1.0 / DAYS_PER_YEAR
LN2 = math.log(2.0)
MARGIN = 5.0
_EPS = 1e-9
_OPS = {"<": float.__lt__, "<=": float.__le__, ">": float.__gt__, ">=": float.__ge__}
#: offsets within a day: dated events, follow-ups, shift ends; the daily process runs at 0.5
AT_EVENT, AT_FOLLOW_UP, AT_SHIFT_END, AT_DAILY = 0.0, 0.1, 0.2, 0.5


# --------------------------------------------------------------------------- scale (scalar)


def squeeze(y: float) -> float:
    """Identity on [5, 95]; exponential soft zones below and above (docs/MODEL.md, section 2)."""
    if y < MARGIN:
        return MARGIN * math.exp((y - MARGIN) / MARGIN)
    if y > 100.0 - MARGIN:
        return 100.0 - MARGIN * math.exp((100.0 - MARGIN - y) / MARGIN)
    return y


def unsqueeze(y: float) -> float:
    """Inverse of :func:`squeeze` on (0, 100)."""
    y = min(max(y, _EPS), 100.0 - _EPS)
    if y < MARGIN:
        return MARGIN + MARGIN * math.log(y / MARGIN)
    if y > 100.0 - MARGIN:
        return 100.0 - MARGIN - MARGIN * math.log((100.0 - y) / MARGIN)
    return y


def logit(y: float) -> float:
    y = min(max(y, _EPS), 100.0 - _EPS)
    return math.log(y) - math.log(100.0 - y)


def points(z: float) -> float:
    return 100.0 / (1.0 + math.exp(-z))


def draw(value, rng: np.random.Generator) -> float:
    """A number as it is, or one draw of a distribution."""
    if not isinstance(value, Dist):
        return float(value)
    if value.dist == "normal":
        return float(rng.normal(value.mean, value.sd))
    if value.dist == "lognormal":
        return float(value.median * math.exp(value.sigma * rng.standard_normal()))
    if value.dist == "uniform":
        return float(rng.uniform(value.low, value.high))
    return float(rng.triangular(value.low, value.mode, value.high))


# --------------------------------------------------------------------------- one replicate


class Replicate:
    """One replicate in its own SimPy environment."""

    def __init__(self, sc: Scenario, seed: int, replicate: int, record_days: list[int]) -> None:
        if sc.policy.name != "passive" or sc.policy.reactions:
            raise NotImplementedError(
                "the reference implements passive policy without reactions only"
            )
        rng = np.random.default_rng([seed, replicate])
        self.rng = rng
        self.sc = sc
        self.names = list(sc.indicators)
        k = len(self.names)
        specs = [sc.indices[name] for name in self.names]
        initial = [draw(s.initial, rng) for s in specs]
        self.base = np.array([draw(s.baseline, rng) for s in specs])
        half_life = np.array([draw(s.half_life, rng) for s in specs])
        sigma = np.array([draw(s.sigma, rng) for s in specs])
        if not sc.run.noise:
            sigma[:] = 0.0
        self.rates = LN2 / half_life
        self.spill = np.zeros((k, k))
        for target, row in sc.spillover.items():
            for source, value in row.items():
                self.spill[self.names.index(target), self.names.index(source)] = draw(value, rng)
        self.damping = draw(sc.damping, rng)
        self.noise_sd = sigma * math.sqrt(DT)
        self.noise = bool(sc.run.noise)
        self.shift = np.zeros(k)
        self.m0 = np.array([logit(squeeze(b)) for b in self.base])
        self.m = self.m0.copy()
        self.z = np.array([logit(y) for y in initial])

        self.start = sc.run.start
        self.end_day = (sc.run.end - sc.run.start).days
        self.record_days = record_days
        self.records = np.empty((len(record_days), k))
        self.firings: dict[str, int] = {hz.id: 0 for hz in sc.hazards}
        self.env = simpy.Environment()

        # per-replicate sizes of every event and hazard effect (scale included)
        self.children: dict[str, list] = {}
        for ev in sc.timeline():
            scale = draw(sc.events.scale.get(ev.id, 1.0), rng)
            sizes = [draw(e.size, rng) * scale for e in ev.effects]
            if ev.after is not None:
                self.children.setdefault(ev.after.event, []).append((ev, sizes))
            elif ev.date < self.start:
                self.pre_start(ev, sizes)
            elif (ev.date - self.start).days <= self.end_day:
                self.env.process(self.dated(ev, sizes, (ev.date - self.start).days + AT_EVENT))
        self.hazards = []
        for hz in sc.hazards:
            rate = draw(hz.rate, rng)
            sizes = [draw(e.size, rng) for e in hz.effects]  # redrawn per firing if a distribution
            first = 0 if hz.start is None else (hz.start - self.start).days
            last = self.end_day if hz.end is None else (hz.end - self.start).days
            k_rate = self.names.index(hz.indicator) if hz.indicator else None
            self.hazards.append((hz, rate, sizes, first, last, k_rate))
        self.env.process(self.daily())

    # -- the state ---------------------------------------------------------------
    def level(self, k: int) -> float:
        return points(self.z[k])

    def retarget(self) -> None:
        self.m = np.array([logit(squeeze(b)) for b in self.base + self.shift])

    def effect(self, event, eff, size: float) -> None:
        """Apply one effect now (jump or shift, damped if asked)."""
        k = self.names.index(eff.indicator)
        amount = size
        if eff.damped_by is not None and size < 0:
            amount = size * (
                1.0 - self.damping * self.level(self.names.index(eff.damped_by)) / 100.0
            )
        if eff.kind == "jump":
            self.z[k] = logit(squeeze(unsqueeze(self.level(k)) + amount))
        else:
            self.shift[k] += amount
            self.retarget()
            if eff.duration is not None:
                today = self.start + dt.timedelta(days=int(self.env.now))
                end = (add_duration(today, eff.duration) - self.start).days
                self.env.process(self.undo(k, amount, end + AT_SHIFT_END))

    def apply(self, event, sizes) -> None:
        for eff, size in zip(event.effects, sizes):
            self.effect(event, eff, size)

    # -- processes ---------------------------------------------------------------
    def pre_start(self, event, sizes) -> None:
        """Events before the start: only shifts still active at the start count."""
        for eff, size in zip(event.effects, sizes):
            if eff.kind != "shift":
                continue
            k = self.names.index(eff.indicator)
            if eff.duration is not None:
                until = add_duration(event.date, eff.duration)
                if until <= self.start:
                    continue
                self.env.process(self.undo(k, size, (until - self.start).days + AT_SHIFT_END))
            self.shift[k] += size
        self.retarget()

    def dated(self, event, sizes, when: float):
        yield self.env.timeout(when - self.env.now)
        self.fire(event, sizes)

    def fire(self, event, sizes) -> None:
        if event.condition:
            for name, op, value in parse_condition(event.condition):
                if not _OPS[op](self.level(self.names.index(name)), value):
                    return
        self.apply(event, sizes)
        for child, child_sizes in self.children.get(event.id, []):
            when = int(self.env.now) + child.after.days
            if when <= self.end_day:
                self.env.process(self.dated(child, child_sizes, when + AT_FOLLOW_UP))

    def undo(self, k: int, amount: float, when: float):
        if when > self.end_day + 1:
            return
        yield self.env.timeout(when - self.env.now)
        self.shift[k] -= amount
        self.retarget()

    def daily(self):
        """At half past each day: hazards, the record, then one Euler step to the next day."""
        i_rec = 0
        n_rec = len(self.record_days)
        k = len(self.names)
        yield self.env.timeout(AT_DAILY)
        for day in range(self.end_day + 1):
            for hz, rate, sizes, first, last, k_rate in self.hazards:
                if first < day <= last:
                    lam = rate
                    if k_rate is not None:
                        lam = rate * math.exp(-hz.elasticity * (self.level(k_rate) - hz.reference))
                    if self.rng.random() < lam * DT:
                        self.firings[hz.id] += 1
                        fresh = [
                            draw(e.size, self.rng) if isinstance(e.size, Dist) else size
                            for e, size in zip(hz.effects, sizes)
                        ]
                        self.apply(hz, fresh)
            if i_rec < n_rec and self.record_days[i_rec] == day:
                self.records[i_rec] = 100.0 / (1.0 + np.exp(-self.z))
                i_rec += 1
            if day == self.end_day:
                return
            z = self.z
            drift = -self.rates * (z - self.m) + self.spill @ (z - self.m0)
            z = z + drift * DT
            if self.noise:
                z = z + self.noise_sd * self.rng.standard_normal(k)
            self.z = z
            yield self.env.timeout(1.0)

    def run(self) -> np.ndarray:
        self.env.run()
        return self.records


@dataclass
class ReferenceRun:
    """Records ``paths[replicate, time, index]`` in points, hazard firings and timing."""

    paths: np.ndarray
    firings: dict[str, np.ndarray]
    seconds: float
    years: float

    @property
    def replicate_years_per_second(self) -> float:
        return self.paths.shape[0] * self.years / self.seconds


def run_reference(sc: Scenario, replicates: int, seed: int = 0, first: int = 0) -> ReferenceRun:
    """Run replicates ``first .. first + replicates - 1`` one after another."""
    record_days = [(d - sc.run.start).days for d in sc.record_dates()]
    years = ((sc.run.end - sc.run.start).days + 1) / DAYS_PER_YEAR
    paths = np.empty((replicates, len(record_days), len(sc.indicators)))
    firings = {hz.id: np.zeros(replicates, dtype=np.int64) for hz in sc.hazards}
    t0 = time.perf_counter()
    for i in range(replicates):
        rep = Replicate(sc, seed, first + i, record_days)
        paths[i] = rep.run()
        for key, count in rep.firings.items():
            firings[key][i] = count
    seconds = time.perf_counter() - t0
    return ReferenceRun(paths, firings, seconds, years)


if __name__ == "__main__":  # pragma: no cover - by hand
    import argparse

    import model

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("scenario", nargs="?", default="scenarios/stress.toml")
    p.add_argument("--replicates", type=int, default=20)
    p.add_argument("--seed", type=int, default=0)
    a = p.parse_args()
    scenario = model.load_scenario(a.scenario)
    out = run_reference(scenario, a.replicates, a.seed)
    print(
        f"{a.replicates} replicates in {out.seconds:.2f} s: "
        f"{out.replicate_years_per_second:.1f} replicate-years/s"
    )
