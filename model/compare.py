"""Paired comparison of scenarios with common random numbers.

Every scenario is run with the same seed and the same replicate numbers, so a
replicate draws the same random numbers in each wherever their events agree.
Differences are taken replicate by replicate (B − A), and their mean and band
show what the scenario changes, not what the noise does: before the first
event on which two scenarios differ, the difference is exactly zero.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from .ensemble import run_need, simulate
from .errors import ArgumentError, did_you_mean
from .memory import check_fits
from .metrics import outcome_metrics, period_metrics
from .parallel import worker_count
from .results import QUANTILES, Result, quantile_frame
from .scenario import Scenario

__all__ = [
    "Comparison",
    "PolicyComparison",
    "compare",
    "compare_policies",
]


@dataclass
class Comparison:
    """Results of several scenarios and their paired differences from the first."""

    results: dict[str, Result]
    differences: pd.DataFrame  # scenario, date, indicator, mean, q05..q95 of (scenario - reference)
    metrics: pd.DataFrame  # scenario, indicator, metric, mean, q05, q50, q95

    @property
    def reference(self) -> str:
        return next(iter(self.results))

    def quantiles(self) -> pd.DataFrame:
        """All scenarios' quantile tables, stacked with a ``scenario`` column."""
        return pd.concat(
            [r.quantiles.assign(scenario=name) for name, r in self.results.items()],
            ignore_index=True,
        )


def compare(
    scenarios: list[Scenario], replicates: int | None = None, seed: int | None = None
) -> Comparison:
    """Run ``scenarios`` with common random numbers; differences are from the first."""
    if len(scenarios) < 2:
        raise ArgumentError("scenarios", "give at least two scenarios")
    names = [sc.name for sc in scenarios]
    if len(set(names)) != len(names):
        raise ArgumentError("scenarios", f"scenario names must differ to be compared (got {names})")
    n = replicates or scenarios[0].run.replicates
    seed = scenarios[0].run.seed if seed is None else seed
    for sc in scenarios[1:]:
        run, first = sc.run, scenarios[0].run
        if (run.start, run.end, run.record) != (first.start, first.end, first.record):
            raise ArgumentError(
                "scenarios",
                f"{sc.name!r} has another run period or record frequency than {names[0]!r}",
            )
        if sc.indicators != scenarios[0].indicators:
            raise ArgumentError(
                "scenarios",
                f"{sc.name!r} has other indices than {names[0]!r}: {list(sc.indicators)}",
            )
    # every scenario's paths are held, and their differences taken (and sorted for quantiles)
    need = run_need(
        scenarios[0],
        n,
        1,
        min(n, 10_000),
        keep_paths=True,
        paths_needed=True,
        runs=len(scenarios),
        path_copies=3,
    )
    check_fits(need)
    results = {sc.name: simulate(sc, replicates=n, seed=seed) for sc in scenarios}
    ref = results[names[0]]
    diffs, metrics = [], []
    for sc, (name, res) in zip(scenarios, results.items()):
        metrics.append(
            period_metrics(res, {k: v.crisis for k, v in sc.indices.items()}).assign(scenario=name)
        )
        if name == names[0]:
            continue
        d = res.all_paths() - ref.all_paths()
        frame = quantile_frame(
            res.dates, res.indicators, d.mean(axis=0), np.quantile(d, QUANTILES, axis=0)
        )
        diffs.append(frame.assign(scenario=name))
    cols = ["scenario", "indicator", "metric", "mean", "q05", "q50", "q95"]
    differences = pd.concat(diffs, ignore_index=True)
    differences.attrs["reference"] = names[0]  # what the differences are from (for the plot)
    return Comparison(results, differences, pd.concat(metrics, ignore_index=True)[cols])


@dataclass
class PolicyComparison:
    """The same scenario under each policy, with common random numbers."""

    results: dict[str, Result]
    metrics: pd.DataFrame  # policy, indicator, metric, mean, q05, q50, q95
    period: tuple[int, int]


def compare_policies(
    scenario: Scenario,
    names: list[str] | None = None,
    replicates: int | None = None,
    seed: int | None = None,
    period: tuple[int, int] | None = None,
    reactions: bool = True,
    **run,
) -> PolicyComparison:
    """Run ``scenario`` under each policy (built-ins by default) with common random numbers.

    ``period`` (first and last year, default: the policy's start year to the
    run's end) is where the outcome metrics are measured.
    """
    from .policies import BUILTIN, is_python_policy, policy_names

    known = [p for p in policy_names() if p != "rules" or scenario.policy.rules]
    names = list(names or [p for p in BUILTIN if p != "rules"])
    for name in names:
        if name not in known and not is_python_policy(name):
            raise ArgumentError(
                "names",
                f"unknown policy {name!r}{did_you_mean(name, known)}; known: " + ", ".join(known),
            )
    start = scenario.policy.start
    period = period or (start.year, scenario.run.end.year)
    first, last = period
    if not scenario.run.start.year <= first <= last <= scenario.run.end.year:
        raise ArgumentError(
            "period",
            f"{first}..{last} is not a period inside the run "
            f"{scenario.run.start.year}..{scenario.run.end.year}",
        )
    _check_policies_fit(scenario, len(names), replicates, run)
    results, metrics = {}, []
    crisis = {k: v.crisis for k, v in scenario.indices.items()}
    for name in names:
        policy = scenario.policy.model_copy(
            update={
                "name": name,
                "reactions": reactions,
                "params": scenario.policy.params if name == scenario.policy.name else {},
            }
        )
        sc = scenario.model_copy(update={"policy": policy})
        res = simulate(sc, replicates=replicates, seed=seed, **run)
        results[name] = res
        metrics.append(outcome_metrics(res, crisis, *period).assign(policy=name))
    cols = ["policy", "indicator", "metric", "mean", "q05", "q50", "q95"]
    return PolicyComparison(results, pd.concat(metrics, ignore_index=True)[cols], period)


def _check_policies_fit(
    scenario: Scenario, policies: int, replicates: int | None, run: dict
) -> None:
    """Refuse, before running, a comparison whose results cannot be held at once: one per
    policy, with every path when they are kept, and the copies the outcome metrics take."""
    n = replicates or scenario.run.replicates
    workers = worker_count(run.get("workers", 1))
    chunk = run.get("chunk_size") or max(min(10_000, -(-n // workers)), 1)
    keep = bool(run.get("trajectories", True))
    need = run_need(
        scenario,
        n,
        workers,
        chunk,
        keep_paths=keep,
        paths_needed=keep,
        runs=policies,
        path_copies=2 if keep else 0,
    )
    check_fits(need)
