"""``relsim evaluate``: rolling-origin forecasts of the observed series against baselines."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from .common import (
    figures_to,
    out_folder,
    output_options,
    parallel_options,
    positive,
    use_agg,
)

__all__ = ["add", "year_span"]

#: The files ``relsim evaluate`` writes, in the order it names them.
FILES = (
    "scores.csv",
    "skill.csv",
    "skill_by_key.csv",
    "predictions.csv",
    "fans.csv",
    "fits.csv",
    "left_out.csv",
    "report.md",
    "metadata.json",
)


def year_span(name: str, low: int, high: int) -> Any:
    """A flag's value: ``A:B`` (every integer from A to B), ``A,B,...`` or ``A``."""

    def parse(text: str) -> list[int]:
        try:
            if ":" in text:
                a, b = (int(v) for v in text.split(":", 1))
                values = list(range(a, b + 1))
            else:
                values = [int(v) for v in text.split(",") if v.strip()]
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"{name} must be A:B or A,B,... of integers (got {text!r})"
            ) from None
        if not values:
            raise argparse.ArgumentTypeError(f"{name} is empty (got {text!r})")
        bad = [v for v in values if not low <= v <= high]
        if bad:
            raise argparse.ArgumentTypeError(
                f"{name} must lie between {low} and {high} (got {bad[0]})"
            )
        return values

    return parse


def add(sub: Any) -> None:
    ev = sub.add_parser(
        "evaluate",
        help="forecast the observed series from rolling origins and score them against baselines",
    )
    ev.add_argument("scenario", type=Path)
    ev.add_argument(
        "--origins",
        type=year_span("--origins", 1990, 2100),
        default=list(range(2005, 2020)),
        help="origin years: A:B, A,B,... or one year (default 2005:2019)",
    )
    ev.add_argument(
        "--horizons",
        type=year_span("--horizons", 1, 30),
        default=[1, 2, 3, 4, 5],
        help="horizons in years (default 1:5)",
    )
    ev.add_argument(
        "--mode",
        choices=("known-events", "frozen", "both"),
        default="both",
        help="events after the origin as recorded, none, or both (default)",
    )
    output_options(ev, "results/evaluate-<stem>")
    ev.add_argument(
        "--replicates",
        type=positive("--replicates"),
        default=100,
        help="runs of the fitted scenario per origin and mode (default 100)",
    )
    ev.add_argument(
        "--draws",
        type=positive("--draws"),
        default=10,
        help="draws of the measurement noise per run (default 10)",
    )
    ev.add_argument("--seed", type=positive("--seed", 0), help="seed (default: the scenario's)")
    ev.add_argument("--fit", help="parameters fitted at each origin, as for calibrate")
    ev.add_argument(
        "--data",
        choices=("packaged", "extended"),
        default="packaged",
        help="the packaged observations, or those and the trade and gas figures of "
        "observed_additions.csv (default packaged)",
    )
    ev.add_argument(
        "--no-prices",
        action="store_true",
        help="leave the oil price and the deflator out of the dollar-valued series' equations",
    )
    ev.add_argument(
        "--no-assimilation",
        action="store_true",
        help="start the forecasts from the model's level, not from each series' filtered "
        "deviation at the origin",
    )
    ev.add_argument(
        "--no-priors",
        action="store_true",
        help="fit each origin by least squares, without the priors on the parameters",
    )
    ev.add_argument(
        "--parameters",
        choices=("calibrated", "fixed"),
        default="calibrated",
        help="draw the fitted parameters from their uncertainty (default) or keep the estimates",
    )
    parallel_options(ev)
    ev.add_argument("--no-plots", action="store_true", help="skip the PNG figures")
    ev.set_defaults(
        func=_evaluate,
        # the forecasts keep their paths: fewer replicates is what the command can change
        flags={"origins": "--origins", "horizons": "--horizons", "trajectories": "--replicates"},
    )


def _evaluate(args: argparse.Namespace) -> int:
    from ..calibrate.evaluate import evaluate
    from ..calibrate.evaluation_summary import report_evaluation
    from ..outputs import atomic_output, check_owner
    from ..provenance import run_metadata
    from ..scenario import load_scenario

    scenario = load_scenario(args.scenario)
    out = check_owner(out_folder(args, "evaluate-{stem}"))
    started = time.perf_counter()
    ev = evaluate(
        scenario,
        args.origins,
        args.horizons,
        args.mode,
        fit=args.fit,
        observed="extended" if args.data == "extended" else None,
        prices=not args.no_prices,
        assimilate=not args.no_assimilation,
        priors=not args.no_priors,
        parameters=args.parameters,
        replicates=args.replicates,
        draws=args.draws,
        seed=args.seed,
        workers=args.workers,
        progress=True,
    )
    seconds = time.perf_counter() - started
    figures = {} if args.no_plots else _figures(ev)
    meta = run_metadata(scenario, args.replicates, ev.settings["seed"])
    meta["evaluation"] = {**ev.settings, "seconds": round(seconds, 1)}
    with atomic_output(out) as tmp:
        ev.scores.to_csv(tmp / "scores.csv", index=False, float_format="%.6g")
        ev.skill.to_csv(tmp / "skill.csv", index=False, float_format="%.6g")
        ev.pooled.to_csv(tmp / "skill_by_key.csv", index=False, float_format="%.6g")
        ev.predictions.to_csv(tmp / "predictions.csv", index=False, float_format="%.6g")
        ev.fans.to_csv(tmp / "fans.csv", index=False, float_format="%.6g")
        ev.fits.to_csv(tmp / "fits.csv", index=False, float_format="%.6g")
        ev.left_out.to_csv(tmp / "left_out.csv", index=False)
        (tmp / "report.md").write_text(report_evaluation(ev, args.command_line))
        (tmp / "metadata.json").write_text(json.dumps(meta, indent=2, default=str) + "\n")
        figures_to(tmp, figures, dpi=150)
    print(ev.summary())
    print(f"\nwrote {out}/: {' '.join(FILES + tuple(figures))} ({seconds:.0f} s)")
    return 0


def _figures(ev: Any) -> dict[str, Any]:
    use_agg()
    from ..plotting.evaluation import plot_evaluation_fans, plot_skill

    return {"skill.png": plot_skill(ev), "fans.png": plot_evaluation_fans(ev)}
