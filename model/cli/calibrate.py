"""``relsim calibrate`` and ``relsim hindcast``: the model held against the observed data."""

from __future__ import annotations

import argparse
import os
import re
from pathlib import Path
from typing import Any

from .common import (
    figures_to,
    out_folder,
    output_options,
    positive,
    scenario_file,
    use_agg,
    year,
)

__all__ = ["add"]

#: The parameters fitted by default (see :data:`model.calibrate.DEFAULT_FIT`).
_DEFAULT_FIT = (
    "indices.trade.half_life,events.scale.russian-sanctions-2015,"
    "events.scale.ukraine-war-trade-2022"
)


def add(sub: Any) -> None:
    cal = sub.add_parser(
        "calibrate", help="fit model and measurement parameters to the observed data"
    )
    cal.add_argument("scenario", type=Path)
    cal.add_argument(
        "--fit",
        help=f"comma-separated parameters to fit (default: {_DEFAULT_FIT}); "
        "'none' fits the measurement model only",
    )
    cal.add_argument("--until", type=year("--until"), help="use only observations up to this year")
    output_options(cal, "results/calibrate-<stem>")
    cal.add_argument(
        "--toml",
        type=_toml_file,
        help="where to write the calibrated scenario (default: OUT/calibrated.toml); an "
        "existing file is replaced only if it calibrates the same scenario, or with --force",
    )
    cal.add_argument(
        "--name", help="name of the calibrated scenario (default: the --toml file's stem)"
    )
    cal.add_argument(
        "--trend", action="store_true", help="add a time trend to the trade and gas equations"
    )
    cal.add_argument(
        "--uncertain",
        action="store_true",
        help="write each estimate in the calibrated scenario as a lognormal with its standard "
        "error, so that ensembles draw one parameter set per replicate",
    )
    cal.add_argument(
        "--priors",
        action="store_true",
        help="fit the posterior mode under priors centred on the scenario's values",
    )
    cal.add_argument(
        "--prices",
        action="store_true",
        help="deflate the dollar-valued series by the US CPI and fit their oil-price elasticity",
    )
    cal.add_argument("--no-plots", action="store_true", help="skip the PNG plot")
    cal.set_defaults(func=_calibrate)

    hc = sub.add_parser(
        "hindcast", help="fit on the years up to --until and score the years after it"
    )
    hc.add_argument("scenario", type=Path)
    hc.add_argument(
        "--until", type=year("--until"), required=True, help="last year used for the fit"
    )
    hc.add_argument("--fit", help="parameters to fit, as for calibrate")
    hc.add_argument(
        "--replicates",
        type=positive("--replicates", 0),
        default=100,
        help="ensemble size for the intervals (default 100)",
    )
    hc.add_argument(
        "--seed", type=positive("--seed", 0), help="seed of the ensemble (default: the scenario's)"
    )
    output_options(hc, "results/hindcast-<stem>-<until>")
    hc.add_argument(
        "--trend", action="store_true", help="add a time trend to the trade and gas equations"
    )
    hc.add_argument("--no-plots", action="store_true", help="skip the PNG plot")
    # the fit's ensembles keep their paths: fewer replicates is what the command can change
    hc.set_defaults(func=_hindcast, flags={"trajectories": "--replicates"})


def _calibrate(args: argparse.Namespace) -> int:
    from ..calibrate import TREND_KEYS, calibrate, report_calibration
    from ..outputs import atomic_file, atomic_output, check_owner
    from ..provenance import run_metadata
    from ..scenario import load_scenario

    scenario = load_scenario(args.scenario)
    out = check_owner(out_folder(args, "calibrate-{stem}"))
    replaceable = args.force or _calibrates(args.toml, scenario_file(args.scenario))
    if args.toml is not None:  # refused before the fit, not after it
        _check_toml(args.toml, replaceable)
    cal = calibrate(
        scenario,
        args.fit,
        until=args.until,
        trend=TREND_KEYS if args.trend else None,
        prices=args.prices,
        priors=args.priors,
    )
    meta = run_metadata(scenario, scenario.run.replicates, scenario.run.seed)
    meta["calibration"] = {
        "fit": args.fit or _DEFAULT_FIT,
        "until": args.until,
        "trend": args.trend,
    }
    toml_path = args.toml or out / "calibrated.toml"
    name = args.name or (toml_path.stem if _valid_name(toml_path.stem) else None)
    extends = os.path.relpath(Path(args.scenario).resolve(), Path(toml_path).resolve().parent)
    command = args.command_line
    text = cal.to_toml(
        extends=Path(extends).as_posix(), name=name, command=command, uncertain=args.uncertain
    )
    figures = {} if args.no_plots else _calibration_figures(cal)
    checks = _data_checks(cal)
    with atomic_output(out) as tmp:
        cal.estimates.to_csv(tmp / "estimates.csv", index=False, float_format="%.6g")
        cal.measurement.to_csv(tmp / "measurement.csv", index=False, float_format="%.6g")
        cal.noise.to_csv(tmp / "noise.csv", index=False, float_format="%.6g")
        cal.residuals.to_csv(tmp / "residuals.csv", index=False, float_format="%.6g")
        cal.obs.excluded.to_csv(tmp / "excluded.csv", index=False)
        cal.correlation.to_csv(tmp / "correlation.csv", float_format="%.4f")
        for file, table in checks.items():
            table.to_csv(tmp / file, index=False, float_format="%.6g")
        (tmp / "report.md").write_text(report_calibration(cal, command))
        _write_json(tmp / "metadata.json", meta)
        if args.toml is None:
            (tmp / "calibrated.toml").write_text(text)
        figures_to(tmp, figures, dpi=110)
    if args.toml is not None:
        atomic_file(args.toml, text, replaceable, "toml")
    print(cal.summary())
    print(
        f"wrote {out}/: estimates.csv measurement.csv noise.csv residuals.csv excluded.csv "
        "correlation.csv "
        + "".join(f"{f} " for f in checks)
        + "report.md metadata.json"
        + ("" if args.toml else " calibrated.toml")
        + "".join(" " + f for f in figures)
        + (f"; and {args.toml}" if args.toml else "")
    )
    return 0


def _data_checks(cal: Any) -> dict[str, Any]:
    """``slopes.csv`` (every index's slopes with 90 % intervals, the UN votes) and
    ``autocorrelation.csv`` (the yearly residuals' lag-1 autocorrelation before and after
    the deviation filter, with its persistence and noise levels)."""
    import pandas as pd

    from ..calibrate.alignment import index_slopes
    from ..calibrate.assimilation import assimilate

    last = int(cal.residuals["year"].max())
    return {
        "slopes.csv": index_slopes(cal),
        "autocorrelation.csv": pd.concat(
            [
                assimilate(cal, last, shared=shared).autocorrelation.assign(
                    deviation="shared by the key" if shared else "one per series"
                )
                for shared in (True, False)
            ],
            ignore_index=True,
        ),
    }


def _calibration_figures(cal: Any) -> dict[str, Any]:
    use_agg()
    from ..plotting.validation import MAIN_SERIES, plot_fit, plot_series

    ens = cal.ensemble(100)
    return {"fit.png": plot_fit(cal, ens), "series.png": plot_series(cal, ens, MAIN_SERIES)}


def _hindcast(args: argparse.Namespace) -> int:
    from ..calibrate import TREND_KEYS, hindcast, report_hindcast
    from ..calibrate.report import score_table
    from ..ensemble import with_run
    from ..outputs import atomic_output, check_owner
    from ..provenance import run_metadata
    from ..scenario import load_scenario

    scenario = load_scenario(args.scenario)
    out = check_owner(out_folder(args, f"hindcast-{{stem}}-{args.until}"))
    hc = hindcast(
        scenario,
        args.until,
        args.fit,
        replicates=args.replicates or 100,
        seed=args.seed,
        trend=TREND_KEYS if args.trend else None,
    )
    seed = scenario.run.seed if args.seed is None else args.seed
    as_run = with_run(scenario, args.replicates or 100, seed)
    meta = run_metadata(as_run, as_run.run.replicates, seed)
    meta["hindcast"] = {"until": args.until, "fit": args.fit or _DEFAULT_FIT, "trend": args.trend}
    figures: dict[str, Any] = {}
    if not args.no_plots:
        use_agg()
        from ..plotting.validation import plot_hindcast

        figures = {"hindcast.png": plot_hindcast(hc)}
    with atomic_output(out) as tmp:
        hc.scores.to_csv(tmp / "scores.csv", index=False, float_format="%.4f")
        hc.predictions.to_csv(tmp / "predictions.csv", index=False, float_format="%.6g")
        hc.calibration.estimates.to_csv(tmp / "estimates.csv", index=False, float_format="%.6g")
        hc.unscored.to_csv(tmp / "unscored.csv", index=False)
        (tmp / "report.md").write_text(report_hindcast(hc, args.command_line))
        _write_json(tmp / "metadata.json", meta)
        figures_to(tmp, figures, dpi=110)
    print(score_table(hc.scores, level="key").to_string(index=False))
    print(
        f"wrote {out}/: scores.csv predictions.csv estimates.csv unscored.csv report.md "
        "metadata.json" + "".join(" " + f for f in figures)
    )
    return 0


def _toml_file(text: str) -> Path:
    if text.strip() == "":
        raise argparse.ArgumentTypeError("--toml is empty: give a file name")
    return Path(text)


def _calibrates(toml: Path | None, scenario: Path) -> bool:
    """Whether the file ``toml`` is a calibration of ``scenario`` (so a rerun may replace it)."""
    import tomllib

    if toml is None or not Path(toml).is_file():
        return True
    try:
        data = tomllib.loads(Path(toml).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError):
        return False
    parent = data.get("extends")
    if not isinstance(parent, str):
        return False
    return (Path(toml).resolve().parent / parent).resolve() == scenario


def _check_toml(toml: Path, replaceable: bool) -> None:
    """The ``--toml`` file may be written (the checks :func:`atomic_file` makes, made early)."""
    from ..errors import ArgumentError

    if str(toml).strip() == "":
        raise ArgumentError("toml", "is empty: give a file name")
    if Path(toml).is_dir():
        raise ArgumentError("toml", f"{toml}: is a folder, not a file")
    if Path(toml).exists() and not replaceable:
        raise ArgumentError(
            "toml", f"{toml}: exists and is not this scenario's calibration; add --force"
        )


def _write_json(path: Path, data: dict[str, Any]) -> None:
    import json

    path.write_text(json.dumps(data, indent=2, default=str) + "\n")


def _valid_name(text: str) -> bool:
    return re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", text) is not None
