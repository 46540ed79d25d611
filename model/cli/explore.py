"""``relsim sensitivity``, ``sweep`` and ``attribute``: which assumptions and events matter."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from ..errors import ArgumentError
from .common import out_folder, output_options, parallel_options, positive, use_agg
from .summaries import sensitivity_lines, sweep_lines

__all__ = ["add"]

_DEFAULT_REPLICATES = 8
_RANGES = {"ranges": "--params"}


def _common(p: argparse.ArgumentParser, replicates: int) -> None:
    p.add_argument("scenario", type=Path)
    output_options(p, "results/<scenario file's stem>-<command>")
    p.add_argument(
        "--replicates",
        type=positive("--replicates"),
        default=replicates,
        help=f"replicates per run, common to all runs (default {replicates})",
    )
    p.add_argument("--seed", type=positive("--seed", 0), help="default: the scenario's seed")
    p.add_argument("--no-plots", action="store_true", help="skip the PNG plot")
    parallel_options(p, workers=1)


def _outcome_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--outcomes", help="comma-separated outcome names, or 'all' (default: the outlook means)"
    )
    p.add_argument("--period", default="2026:2035", help="outlook years A:B of the mean_* outcomes")
    p.add_argument("--at-year", type=int, default=2030, help="year of the <index>_<year> outcomes")
    p.add_argument(
        "--no-noise", action="store_true", help="switch the noise off (one deterministic replicate)"
    )


def add(sub: Any) -> None:
    sens = sub.add_parser("sensitivity", help="Sobol or Morris sensitivity indices with SALib")
    _common(sens, _DEFAULT_REPLICATES)
    sens.add_argument(
        "--params",
        nargs="+",
        metavar="NAME[=LOW:HIGH]",
        help="parameters and ranges (default: a set of key assumptions and 'dummy')",
    )
    sens.add_argument("--method", choices=("sobol", "morris"), default="sobol")
    sens.add_argument(
        "--samples",
        type=positive("--samples"),
        default=256,
        help="Sobol base sample (a power of 2) or Morris trajectories (default 256)",
    )
    sens.add_argument("--sample-seed", type=positive("--sample-seed", 0), default=0)
    sens.add_argument(
        "--group-clusters",
        action="store_true",
        help="one group (SALib groups) per causal cluster: the scales of its events vary as "
        "one factor and get one index",
    )
    _outcome_options(sens)
    sens.set_defaults(func=_sensitivity, flags={**_RANGES, "groups": "--group-clusters"})

    sw = sub.add_parser(
        "sweep", help="outcomes over a grid of one or two parameters, or a Latin hypercube"
    )
    _common(sw, _DEFAULT_REPLICATES)
    sw.add_argument(
        "--grid",
        action="append",
        metavar="NAME=START:STOP:STEPS",
        help="a grid axis (once or twice)",
    )
    sw.add_argument(
        "--lhs",
        type=positive("--lhs", 2),
        metavar="N",
        help="N Latin hypercube points over --params",
    )
    sw.add_argument("--params", nargs="+", metavar="NAME[=LOW:HIGH]", help="ranges for --lhs")
    sw.add_argument("--sample-seed", type=positive("--sample-seed", 0), default=0)
    _outcome_options(sw)
    sw.set_defaults(func=_sweep, flags={**_RANGES, "samples": "--lhs"})
    _add_attribute(sub)


def _add_attribute(sub: Any) -> None:
    """``relsim attribute``: by causal cluster, or per event."""
    at = sub.add_parser(
        "attribute", help="what each causal cluster or event contributed to each index at a date"
    )
    _common(at, 100)
    at.add_argument(
        "--at", required=True, help="a date YYYY-MM-DD (the record on or before it) or a year YYYY"
    )
    at.add_argument(
        "--events",
        default="all",
        help="comma-separated event or cluster ids, or 'all' up to --at (default): every causal "
        "cluster knocked out whole, and every event outside one",
    )
    at.add_argument(
        "--per-event",
        action="store_true",
        help="with --events all: each event alone, not each cluster (relsim events --clusters)",
    )
    at.add_argument("--method", choices=("loo", "shapley"), default="loo")
    at.add_argument(
        "--removal",
        choices=("zero", "drop"),
        default="zero",
        help="zero: scale the events' effects to 0 (default); drop: remove them, and whatever "
        "requires them or follows them",
    )
    at.add_argument(
        "--top", type=positive("--top"), default=8, help="events drawn one by one in the waterfall"
    )
    at.set_defaults(func=_attribute)


def _load(args: argparse.Namespace) -> tuple[Any, Any]:
    from ..explore import Outcomes
    from ..scenario import load_scenario

    sc = load_scenario(args.scenario)
    if args.no_noise:
        sc = sc.model_copy(update={"run": sc.run.model_copy(update={"noise": False})})
    low, sep, high = args.period.partition(":")
    if not (sep and low.strip().isdigit() and high.strip().isdigit()):
        raise ArgumentError("period", f"expected A:B, two years (got {args.period!r})")
    spec = Outcomes((int(low), int(high)), int(args.at_year))
    spec.check(sc)
    return sc, spec


def _ranges(specs: list[str] | None, sc: Any, default: Any) -> dict[str, tuple[float, float]]:
    from ..params import parse_range

    items = [parse_range(s, sc, "ranges") for s in (specs or default or [])]
    names = [n for n, _ in items]
    if len(set(names)) < len(names):
        raise ArgumentError("ranges", f"a parameter is given twice: {names}")
    return dict(items)


def _figures(args: argparse.Namespace, name: str, draw: Any) -> dict[str, Any]:
    if args.no_plots:
        return {}
    use_agg()
    return {name: draw()}


def _sensitivity(args: argparse.Namespace) -> int:
    from ..explore import DEFAULT_PARAMS, sensitivity
    from ..plotting import plot_sensitivity

    sc, spec = _load(args)
    res = sensitivity(
        sc,
        _ranges(args.params, sc, DEFAULT_PARAMS),
        method=args.method,
        samples=args.samples,
        replicates=args.replicates,
        seed=args.seed,
        sample_seed=args.sample_seed,
        outcomes=args.outcomes,
        spec=spec,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=True,
        groups="clusters" if args.group_clusters else None,
    )
    figures = _figures(args, "sensitivity.png", lambda: plot_sensitivity(res))
    out = res.save(out_folder(args, "{stem}-sensitivity"), figures)
    print(
        f"wrote {out}/: indices.csv samples.csv metadata.json" + "".join(" " + f for f in figures)
    )
    print("\n".join(sensitivity_lines(res.indices, res.method)))
    return 0


def _sweep(args: argparse.Namespace) -> int:
    from ..explore import latin_hypercube, sweep
    from ..params import parse_grid
    from ..plotting import plot_sweep

    sc, spec = _load(args)
    if bool(args.grid) == bool(args.lhs):
        raise ArgumentError("grid", "give --grid (one or two) or --lhs N with --params")
    if args.grid:
        grid = {name: values.tolist() for name, values in map(parse_grid, args.grid)}
        res = sweep(
            sc,
            grid,
            args.replicates,
            args.seed,
            args.outcomes,
            spec,
            args.workers,
            args.scheduler,
            True,
        )
    else:
        if not args.params:
            raise ArgumentError("ranges", "--lhs needs --params NAME=LOW:HIGH ...")
        res = latin_hypercube(
            sc,
            _ranges(args.params, sc, None),
            args.lhs,
            args.sample_seed,
            args.replicates,
            args.seed,
            args.outcomes,
            spec,
            args.workers,
            args.scheduler,
            True,
        )
    figures = _figures(args, "sweep.png", lambda: plot_sweep(res))
    out = res.save(out_folder(args, "{stem}-sweep"), figures)
    print(f"wrote {out}/: sweep.csv metadata.json" + "".join(" " + f for f in figures))
    print("\n".join(sweep_lines(res.table, res.parameters, res.outcomes)))
    return 0


def _attribute(args: argparse.Namespace) -> int:
    from ..explore import attribute
    from ..plotting import plot_waterfall
    from ..scenario import load_scenario

    sc = load_scenario(args.scenario)
    res = attribute(
        sc,
        args.at,
        args.events,
        method=args.method,
        removal=args.removal,
        replicates=args.replicates,
        seed=args.seed,
        workers=args.workers,
        scheduler=args.scheduler,
        progress=True,
        per_event=args.per_event,
    )
    figures = _figures(args, "waterfall.png", lambda: plot_waterfall(res, args.top))
    out = res.save(out_folder(args, "{stem}-attribution"), figures)
    c = res.contributions
    best = (
        c[~c["event"].str.startswith("(")]
        .assign(size=lambda d: d["mean"].abs())
        .nlargest(5, "size")
    )
    for line in best["statement"]:
        print(line)
    print(_largest(c, res.at, args.top))
    print(
        f"wrote {out}/: contributions.csv levels.csv metadata.json"
        + "".join(" " + f for f in figures)
    )
    return 0


def _largest(c: Any, at: str, top: int) -> str:
    """The ``top`` largest contributions as a table: cluster or event x index, mean points."""
    import pandas as pd

    wide = c[~c["event"].str.startswith("(")].pivot_table("mean", "event", "indicator", sort=False)[
        list(dict.fromkeys(c["indicator"]))
    ]
    size = wide.abs().max(axis=1).sort_values(ascending=False)
    with pd.option_context("display.width", 120):
        table = wide.loc[size.index[:top]].round(2).to_string()
    return f"largest contributions at {at} (mean, index points):\n{table}"
