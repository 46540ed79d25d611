"""The ``relsim`` command: a thin shell over the library.

Exit status: 0 on success, 2 on bad input (one line ``FILE: field: problem``
on standard error, nothing written), 1 on an internal error.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .errors import ModelError, ScenarioError

__all__ = ["main"]


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments as one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise ScenarioError("relsim", self.prog.split()[-1], message)


def _positive(name: str, minimum: int = 1):
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer (got {text!r})") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{name} must be >= {minimum} (got {value})")
        return value

    return parse


def _parallel_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--workers", type=_positive("--workers"),
                   help="worker processes (default: all cores)")
    p.add_argument("--chunk-size", type=_positive("--chunk-size"), help="replicates per chunk")
    p.add_argument("--scheduler", help="run chunks on Dask: 'local' or a scheduler address")


def _build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="relsim", description="Scenario and ensemble model of Türkiye–Russia relations.")
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", parser_class=_Parser)

    run = sub.add_parser("run", help="run a scenario and write tables and plots")
    run.add_argument("scenario", type=Path)
    run.add_argument("--out", type=Path, help="output folder (default: results/<scenario name>)")
    run.add_argument("--replicates", type=_positive("--replicates"))
    run.add_argument("--seed", type=_positive("--seed", 0))
    run.add_argument("--trajectories", action="store_true", help="also write trajectories.parquet")
    run.add_argument("--no-plots", action="store_true", help="skip the PNG plots")
    _parallel_options(run)

    val = sub.add_parser("validate", help="check scenario files without running them")
    val.add_argument("scenarios", type=Path, nargs="+")

    show = sub.add_parser("show", help="print the fully resolved scenario as TOML")
    show.add_argument("scenario", type=Path)

    cmp = sub.add_parser("compare", help="run scenarios with common random numbers and compare them")
    cmp.add_argument("scenarios", type=Path, nargs="+")
    cmp.add_argument("--out", type=Path, help="output folder (default: results/compare-<names>)")
    cmp.add_argument("--replicates", type=_positive("--replicates"))
    cmp.add_argument("--seed", type=_positive("--seed", 0))
    cmp.add_argument("--no-plots", action="store_true", help="skip the PNG plots")

    pol = sub.add_parser("policies", help="compare Türkiye's strategies on one scenario")
    pol.add_argument("scenario", type=Path)
    pol.add_argument("--out", type=Path, help="output folder (default: results/policies-<name>)")
    pol.add_argument("--replicates", type=_positive("--replicates"))
    pol.add_argument("--seed", type=_positive("--seed", 0))
    pol.add_argument("--policies", help="comma-separated names (default: every built-in)")
    pol.add_argument("--from", dest="first", type=_positive("--from", 1900), help="first year measured")
    pol.add_argument("--to", dest="last", type=_positive("--to", 1900), help="last year measured")
    pol.add_argument("--no-reactions", action="store_true", help="switch the actors' reactions off")
    pol.add_argument("--no-plots", action="store_true")
    _parallel_options(pol)

    ev = sub.add_parser("events", help="list the historical catalog")
    ev.add_argument("--format", choices=("table", "csv"), default="table")

    app = sub.add_parser("app", help="start the classroom web page")
    app.add_argument("--port", type=_positive("--port", 0), default=8765, help="port (default: 8765)")
    app.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)")
    from .explore import add_commands as _explore
    _COMMANDS.update(_explore(sub))
    from .calibrate import add_commands

    add_commands(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``relsim``; returns the exit status."""
    parser = _build_parser()
    try:
        args = parser.parse_args(argv)
        if args.version:
            from . import __version__

            print(f"relsim {__version__}")
            return 0
        if args.command is None:
            parser.print_help()
            return 2
        return _COMMANDS[args.command](args) if args.command in _COMMANDS else args.func(args)
    except ScenarioError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: nothing was written", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        print(f"internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _cmd_run(args) -> int:
    from .ensemble import simulate
    from .results import atomic_output
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    out = args.out or Path("results") / scenario.name
    diff = _parent_diff(args.scenario) if scenario.extends else ""
    with atomic_output(out) as tmp:
        result = simulate(scenario, replicates=args.replicates, seed=args.seed, trajectories=False,
                          workers=args.workers, chunk_size=args.chunk_size, scheduler=args.scheduler,
                          progress=True,
                          trajectory_file=tmp / "trajectories.parquet" if args.trajectories else None)
        result.write(tmp, extra={"scenario.diff": diff} if diff else None)
        figures = [] if args.no_plots else _write_figures(result, tmp)
    print(f"wrote {out}/: quantiles.csv events.csv summary.csv metadata.json scenario.resolved.toml"
          + (" scenario.diff" if diff else "") + "".join(" " + f for f in figures)
          + (" trajectories.parquet" if args.trajectories else ""))
    for line in _conditional_reach(scenario, result):
        print(line)
    return 0


def _conditional_reach(scenario, result) -> list[str]:
    """A line for each conditional event of the run: in how many replicates it fired.

    A conditional event that fires nowhere leaves no row in ``events.csv``;
    this says so. The count is read from the event's ensemble-wide rows.
    """
    run = scenario.run
    n = result.metadata["replicates"]
    reached = result.events.groupby("event")["replicates"].max()
    lines = []
    for ev in scenario.timeline():
        if ev.condition is None or (ev.date is not None and not run.start <= ev.date <= run.end):
            continue
        k = int(reached.get(ev.id, 0))
        lines.append(f"conditional event {ev.id} ({ev.condition}): fired in {k} of {n} replicates")
    return lines


def _write_figures(result, folder: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    from .plotting import plot_fans, plot_trajectories, save_figure

    figures = {"trajectories.png": plot_trajectories(result), "fans.png": plot_fans(result)}
    for name, fig in figures.items():
        save_figure(fig, folder / name)
    return list(figures)


def _parent_diff(path: Path) -> str:
    """A unified diff between the resolved parent and the resolved child."""
    import difflib
    import tomllib

    from .scenario import load_scenario

    raw = tomllib.loads(path.read_text(encoding="utf-8"))
    parent = load_scenario(path.parent / raw["extends"]).to_toml().splitlines(keepends=True)
    child = load_scenario(path).to_toml().splitlines(keepends=True)
    return "".join(difflib.unified_diff(parent, child, fromfile=str(raw["extends"]), tofile=path.name))


def _cmd_compare(args) -> int:
    from .compare import compare
    from .results import atomic_output
    from .scenario import load_scenario

    if len(args.scenarios) < 2:
        raise ScenarioError("relsim", "compare", "give at least two scenarios")
    scenarios = [load_scenario(p) for p in args.scenarios]
    names = [sc.name for sc in scenarios]
    if len(set(names)) < len(names):
        raise ScenarioError("relsim", "compare", f"scenario names must differ (got {names})")
    try:
        result = compare(scenarios, replicates=args.replicates, seed=args.seed)
    except ValueError as exc:
        raise ScenarioError(args.scenarios[1], "compare", str(exc)) from None
    out = args.out or Path("results") / ("compare-" + "-vs-".join(names))
    figures = {}
    if not args.no_plots:
        import matplotlib

        matplotlib.use("Agg")
        from .plotting import plot_differences, plot_overlay

        figures = {"overlay.png": plot_overlay(result.results),
                   "differences.png": plot_differences(result.differences)}
    with atomic_output(out) as tmp:
        result.differences.to_csv(tmp / "differences.csv", index=False, float_format="%.4f")
        result.metrics.to_csv(tmp / "metrics.csv", index=False, float_format="%.4f")
        result.quantiles().to_csv(tmp / "quantiles.csv", index=False, float_format="%.4f")
        for sc in scenarios:
            (tmp / f"{sc.name}.resolved.toml").write_text(sc.to_toml())
        for name, fig in figures.items():
            from .plotting import save_figure

            save_figure(fig, tmp / name)
    print(f"wrote {out}/: differences.csv metrics.csv quantiles.csv " + " ".join(figures))
    return 0


def _cmd_policies(args) -> int:
    from .compare import compare_policies
    from .policies import policy_names
    from .results import atomic_output
    from .scenario import load_scenario

    scenario = load_scenario(args.scenario)
    names = [p.strip() for p in args.policies.split(",")] if args.policies else None
    for name in names or []:
        if name not in policy_names() or name == "rules":
            raise ScenarioError("relsim", "--policies", f"unknown policy {name!r}; known: "
                                + ", ".join(p for p in policy_names() if p != "rules"))
    first = args.first or scenario.policy.start.year
    last = args.last or scenario.run.end.year
    if not scenario.run.start.year <= first <= last <= scenario.run.end.year:
        raise ScenarioError("relsim", "--from/--to", f"{first}..{last} is not a period inside the run")
    cmp = compare_policies(scenario, names, replicates=args.replicates, seed=args.seed, period=(first, last),
                           reactions=not args.no_reactions, trajectories=True, workers=args.workers,
                           chunk_size=args.chunk_size, scheduler=args.scheduler)
    out = args.out or Path("results") / f"policies-{scenario.name}"
    table = cmp.metrics.pivot_table(index=["indicator", "metric"], columns="policy", values="mean", sort=False)
    with atomic_output(out) as tmp:
        cmp.metrics.to_csv(tmp / "policies.csv", index=False, float_format="%.3f")
        table.to_csv(tmp / "policies_wide.csv", float_format="%.2f")
        (tmp / "scenario.resolved.toml").write_text(scenario.to_toml())
        figures = [] if args.no_plots else _policy_figures(cmp, tmp, f"{first}-01-01")
    print(f"wrote {out}/: policies.csv policies_wide.csv scenario.resolved.toml " + " ".join(figures))
    return 0


def _policy_figures(cmp, folder: Path, since: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    from .plotting import plot_policy_grid, plot_tradeoff, save_figure

    save_figure(plot_policy_grid(cmp.results, since=since), folder / "policies_grid.png")
    save_figure(plot_tradeoff(cmp.metrics).figure, folder / "tradeoff.png")
    return ["policies_grid.png", "tradeoff.png"]


def _cmd_validate(args) -> int:
    from .scenario import load_scenario

    status = 0
    for path in args.scenarios:
        try:
            sc = load_scenario(path)
        except ScenarioError as exc:
            print(f"error: {exc}", file=sys.stderr)
            status = 2
            continue
        print(f"ok: {path}: {sc.name}, {len(sc.timeline())} events, {len(sc.hazards)} hazards, "
              f"{sc.run.replicates} replicates, {sc.run.start}..{sc.run.end}")
    return status


def _cmd_show(args) -> int:
    from .scenario import load_scenario

    sys.stdout.write(load_scenario(args.scenario).to_toml())
    return 0


def _cmd_events(args) -> int:
    import pandas as pd

    from .catalog import load_catalog

    rows = []
    for e in load_catalog().values():
        effects = "; ".join(
            f"{x.indicator} {x.kind} {x.size if not hasattr(x.size, 'center') else x.size.center():+g}"
            + (f" for {x.duration}" if x.duration else "") for x in e.effects)
        rows.append({"id": e.id, "date": e.date.isoformat(), "precision": e.precision, "title": e.title,
                     "category": e.category, "confidence": e.confidence,
                     "brief_date": e.brief_date.isoformat() if e.brief_date else "",
                     "effects": effects, "source": f"brief: {e.brief}; {e.reference}"})
    table = pd.DataFrame(rows)
    if args.format == "csv":
        table.to_csv(sys.stdout, index=False)
    else:
        with pd.option_context("display.max_rows", None, "display.width", 200, "display.max_colwidth", 60):
            print(table[["id", "date", "category", "title"]].to_string(index=False))
    return 0


def _cmd_app(args) -> int:
    from .app import serve

    try:
        return serve(port=args.port, host=args.host)
    except KeyboardInterrupt:
        return 0


_COMMANDS = {"run": _cmd_run, "validate": _cmd_validate, "show": _cmd_show, "events": _cmd_events,
             "compare": _cmd_compare, "policies": _cmd_policies, "app": _cmd_app}
