"""``relsim run``, ``compare`` and ``policies``: run scenarios and write their tables and plots."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import ArgumentError
from .common import (
    figures_to,
    out_folder,
    output_options,
    parallel_options,
    positive,
    scenario_file,
    use_agg,
)
from .summaries import compare_lines, policy_lines, run_lines

__all__ = ["add"]


def add(sub: Any) -> None:
    run = sub.add_parser("run", help="run a scenario and write tables and plots")
    run.add_argument("scenario", type=Path)
    output_options(run, "results/<scenario file's stem>")
    run.add_argument("--replicates", type=positive("--replicates"))
    run.add_argument("--seed", type=positive("--seed", 0))
    run.add_argument("--trajectories", action="store_true", help="also write trajectories.parquet")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    run.add_argument(
        "--parameters",
        choices=("fixed", "calibrated"),
        default="fixed",
        help="the scenario's parameter values (default), or the fitted ones of "
        "calibrated-uncertain.toml with their uncertainty, one draw per replicate",
    )
    parallel_options(run)
    run.add_argument("--chunk-size", type=positive("--chunk-size"), help="replicates per chunk")
    run.set_defaults(func=_run, flags={"trajectory_file": "--trajectories"})

    cmp = sub.add_parser(
        "compare", help="run scenarios with common random numbers and compare them"
    )
    cmp.add_argument("scenarios", type=Path, nargs="+")
    output_options(cmp, "results/compare-<stems>")
    cmp.add_argument("--replicates", type=positive("--replicates"))
    cmp.add_argument("--seed", type=positive("--seed", 0))
    cmp.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    cmp.set_defaults(func=_compare, flags={"scenarios": "SCENARIO"})

    pol = sub.add_parser("policies", help="compare Türkiye's strategies on one scenario")
    pol.add_argument("scenario", type=Path)
    output_options(pol, "results/policies-<stem>")
    pol.add_argument("--replicates", type=positive("--replicates"))
    pol.add_argument("--seed", type=positive("--seed", 0))
    pol.add_argument("--policies", help="comma-separated names (default: every built-in)")
    pol.add_argument(
        "--from", dest="first", type=positive("--from", 1900), help="first year measured"
    )
    pol.add_argument("--to", dest="last", type=positive("--to", 1900), help="last year measured")
    pol.add_argument("--no-reactions", action="store_true", help="switch the actors' reactions off")
    pol.add_argument("--no-plots", action="store_true")
    parallel_options(pol)
    pol.add_argument("--chunk-size", type=positive("--chunk-size"), help="replicates per chunk")
    pol.set_defaults(func=_policies, flags={"names": "--policies", "period": "--from/--to"})


def _run(args: argparse.Namespace) -> int:
    from ..ensemble import simulate
    from ..outputs import atomic_output
    from ..scenario import load_scenario

    scenario = load_scenario(args.scenario)
    out = out_folder(args, "{stem}")
    diff = _parent_diff(args.scenario) if scenario.extends else ""
    if args.parameters == "calibrated":
        from ..calibrate.calibrated_file import with_calibrated_parameters

        scenario = with_calibrated_parameters(scenario)
    with atomic_output(out) as tmp:
        result = simulate(
            scenario,
            replicates=args.replicates,
            seed=args.seed,
            trajectories=False,
            workers=args.workers,
            chunk_size=args.chunk_size,
            scheduler=args.scheduler,
            progress=True,
            trajectory_file=tmp / "trajectories.parquet" if args.trajectories else None,
        )
        paths = _write_drivers(scenario, result, tmp) if scenario.drivers else None
        result.write(tmp, extra={"scenario.diff": diff} if diff else None)
        figures = [] if args.no_plots else _run_figures(result, tmp, paths)
    print(
        f"wrote {out}/: quantiles.csv events.csv summary.csv metadata.json scenario.resolved.toml"
        + (" drivers.csv" if scenario.drivers else "")
        + (" scenario.diff" if diff else "")
        + "".join(" " + f for f in figures)
        + (" trajectories.parquet" if args.trajectories else "")
    )
    for line in scenario.resolution().lines() + _conditional_reach(scenario, result):
        print(line)
    print("\n".join(run_lines(result, scenario)))
    return 0


def _write_drivers(scenario: Any, result: Any, tmp: Path) -> Any:
    """``drivers.csv``: the scenario's oil price and price index, history and chosen future;
    and, in the metadata, which future path each driver took."""
    from ..calibrate.driver_paths import driver_paths, future_paths

    meta = result.metadata
    paths = driver_paths(scenario, meta["replicates"], meta["seed"])
    paths.to_csv(tmp / "drivers.csv", index=False, float_format="%.6g")
    meta["drivers"] = future_paths(scenario)
    return paths


def _conditional_reach(scenario: Any, result: Any) -> list[str]:
    """A line for each conditional event of the run, and each event that requires one and so
    fired in some replicates only: in how many replicates it fired.

    A conditional event that fires nowhere leaves no row in ``events.csv``;
    this says so. The count is read from the event's ensemble-wide rows.
    """
    run = scenario.run
    n = result.metadata["replicates"]
    reached = result.events.groupby("event")["replicates"].max()
    lines = []
    for ev in scenario.timeline():
        if ev.date is not None and not run.start <= ev.date <= run.end:
            continue
        k = int(reached.get(ev.id, 0))
        if ev.condition is not None:
            lines.append(
                f"conditional event {ev.id} ({ev.condition}): fired in {k} of {n} replicates"
            )
        elif ev.requires and k < n:  # it requires an event that fired in some replicates only
            causes = ", ".join(ev.requires)
            lines.append(f"event {ev.id} (requires {causes}): fired in {k} of {n} replicates")
    return lines


def _run_figures(result: Any, folder: Path, drivers: Any = None) -> list[str]:
    use_agg()
    from ..plotting import plot_fans, plot_trajectories

    figures = {"trajectories.png": plot_trajectories(result), "fans.png": plot_fans(result)}
    if drivers is not None:
        from ..plotting.drivers import plot_drivers

        figures["drivers.png"] = plot_drivers(drivers)
    return figures_to(folder, figures)


def _parent_diff(path: Path) -> str:
    """A unified diff between the resolved parent and the resolved child."""
    import difflib
    import tomllib

    from ..scenario import find_scenario, load_scenario

    path = find_scenario(path)  # a shipped scenario's name, too
    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    parent = load_scenario(path.parent / raw["extends"]).to_toml().splitlines(keepends=True)
    child = load_scenario(path).to_toml().splitlines(keepends=True)
    return "".join(
        difflib.unified_diff(parent, child, fromfile=str(raw["extends"]), tofile=path.name)
    )


def _compare(args: argparse.Namespace) -> int:
    from ..compare import compare
    from ..outputs import atomic_output, check_owner

    if len(args.scenarios) < 2:
        raise ArgumentError("scenarios", "give at least two scenarios")
    from ..scenario import load_scenario

    scenarios = [load_scenario(p) for p in args.scenarios]
    stems = [scenario_file(p).stem for p in args.scenarios]
    out = check_owner(args.out or Path("results") / ("compare-" + "-vs-".join(stems)))
    result = compare(scenarios, replicates=args.replicates, seed=args.seed)
    figures: dict[str, Any] = {}
    if not args.no_plots:
        use_agg()
        from ..plotting import plot_differences, plot_overlay

        figures = {
            "overlay.png": plot_overlay(result.results),
            "differences.png": plot_differences(result.differences),
        }
    with atomic_output(out) as tmp:
        result.differences.to_csv(tmp / "differences.csv", index=False, float_format="%.4f")
        result.metrics.to_csv(tmp / "metrics.csv", index=False, float_format="%.4f")
        result.quantiles().to_csv(tmp / "quantiles.csv", index=False, float_format="%.4f")
        for name, res in result.results.items():
            (tmp / f"{name}.resolved.toml").write_text(res.scenario_toml)
        _write_json(tmp / "metadata.json", _compare_metadata(result.results))
        figures_to(tmp, figures)
    print(
        f"wrote {out}/: differences.csv metrics.csv quantiles.csv metadata.json "
        + " ".join(figures)
    )
    print("\n".join(compare_lines(result.differences, result.reference)))
    return 0


def _policies(args: argparse.Namespace) -> int:
    from ..compare import compare_policies
    from ..ensemble import with_run
    from ..outputs import atomic_output, check_owner
    from ..provenance import run_metadata
    from ..scenario import load_scenario

    scenario = load_scenario(args.scenario)
    out = check_owner(out_folder(args, "policies-{stem}"))
    names = [p.strip() for p in args.policies.split(",")] if args.policies else None
    first = args.first or scenario.policy.start.year
    last = args.last or scenario.run.end.year
    cmp = compare_policies(
        scenario,
        names,
        replicates=args.replicates,
        seed=args.seed,
        period=(first, last),
        reactions=not args.no_reactions,
        trajectories=True,
        workers=args.workers,
        chunk_size=args.chunk_size,
        scheduler=args.scheduler,
    )
    scenario = with_run(
        scenario,
        scenario.run.replicates if args.replicates is None else args.replicates,
        scenario.run.seed if args.seed is None else args.seed,
    )
    meta = run_metadata(scenario, scenario.run.replicates, scenario.run.seed)
    meta["policies"] = {
        "names": list(cmp.results),
        "period": [first, last],
        "reactions": not args.no_reactions,
    }
    table = cmp.metrics.pivot_table(
        index=["indicator", "metric"], columns="policy", values="mean", sort=False
    )
    with atomic_output(out) as tmp:
        cmp.metrics.to_csv(tmp / "policies.csv", index=False, float_format="%.3f")
        table.to_csv(tmp / "policies_wide.csv", float_format="%.2f")
        (tmp / "scenario.resolved.toml").write_text(scenario.to_toml())
        _write_json(tmp / "metadata.json", meta)
        figures = [] if args.no_plots else _policy_figures(cmp, tmp, f"{first}-01-01")
    print(
        f"wrote {out}/: policies.csv policies_wide.csv scenario.resolved.toml metadata.json "
        + " ".join(figures)
    )
    print("\n".join(policy_lines(cmp.metrics, cmp.period, scenario.name)))
    return 0


def _compare_metadata(results: dict[str, Any]) -> dict[str, Any]:
    """The compared scenarios (name, hash of each as run), the seed and replicates, versions."""
    from ..provenance import FORMAT_VERSION, environment

    first = next(iter(results.values())).metadata
    runs = [
        {"scenario": name, "scenario_sha256": res.metadata["scenario_sha256"]}
        for name, res in results.items()
    ]
    meta = {
        "format_version": FORMAT_VERSION,
        "scenarios": runs,
        "seed": first["seed"],
        "replicates": first["replicates"],
    }
    return meta | environment()


def _write_json(path: Path, data: dict[str, Any]) -> None:
    import json

    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def _policy_figures(cmp: Any, folder: Path, since: str) -> list[str]:
    use_agg()
    from ..plotting import plot_policy_grid, plot_tradeoff

    return figures_to(
        folder,
        {
            "policies_grid.png": plot_policy_grid(cmp.results, since=since),
            "tradeoff.png": plot_tradeoff(cmp.metrics).figure,
        },
    )
