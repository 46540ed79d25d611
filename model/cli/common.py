"""What every command shares: the parser, value checks for flags, and writing figures."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = [
    "Parser",
    "UsageError",
    "command_line",
    "figures_to",
    "out_folder",
    "output_options",
    "owner",
    "parallel_options",
    "positive",
    "provenance",
    "scenario_file",
    "use_agg",
    "year",
]


class UsageError(Exception):
    """A command line that cannot be read: printed as one line, ``relsim: error: ...``."""


class Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments as one line and exit status 2, and takes flags only
    as written in full (``--replicate 50`` is an error, not ``--replicates 50``)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: error: {message}")


def maxima() -> dict[str, int]:
    """The largest value of a counting flag: the bounds a scenario file has (docs/SCENARIOS.md).

    Read when a value is parsed, not when the parser is built, so that ``relsim --help``
    does not import the scenario package."""
    from ..scenario.limits import MAX_POINTS, MAX_REPLICATES, MAX_SEED

    return {
        "--replicates": MAX_REPLICATES,
        "--chunk-size": MAX_REPLICATES,
        "--seed": MAX_SEED,
        "--sample-seed": MAX_SEED,
        "--samples": MAX_POINTS,
        "--lhs": MAX_POINTS,
    }


def positive(name: str, minimum: int = 1) -> Any:
    """A flag's value: an integer of at least ``minimum`` (and at most :func:`maxima`'s)."""

    def parse(text: str) -> int:
        maximum = maxima().get(name)
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer (got {text!r})") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{name} must be >= {minimum} (got {value})")
        if maximum is not None and value > maximum:
            raise argparse.ArgumentTypeError(f"{name} must be <= {maximum:,} (got {value:,})")
        return value

    return parse


def year(name: str) -> Any:
    """A flag's value: a year between 1990 and 2100."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be a year (got {text!r})") from None
        if not 1990 <= value <= 2100:
            raise argparse.ArgumentTypeError(
                f"{name} must be a year between 1990 and 2100 (got {value})"
            )
        return value

    return parse


def output_options(p: argparse.ArgumentParser, default: str) -> None:
    """``--out`` (never empty) and ``--force`` (replace another command's or scenario's results)."""

    def folder(text: str) -> Path:
        if text.strip() == "":
            raise argparse.ArgumentTypeError("--out is empty: give a folder name")
        return Path(text)

    p.add_argument("--out", type=folder, help=f"output folder (default: {default})")
    p.add_argument(
        "--force",
        action="store_true",
        help="replace the output even if it holds another command's or scenario's results",
    )


def scenario_file(name: str | Path) -> Path:
    """The file a scenario argument names (a path, or a shipped scenario's name)."""
    from ..scenario import find_scenario

    return Path(find_scenario(name)).resolve()


def out_folder(args: argparse.Namespace, pattern: str) -> Path:
    """``--out``, or ``results/<pattern>`` with ``{stem}`` the scenario file's stem."""
    if args.out is not None:
        return Path(args.out)
    return Path("results") / pattern.format(stem=scenario_file(args.scenario).stem)


def owner(args: argparse.Namespace) -> dict[str, Any]:
    """Who writes this command's output folder: the command and its scenario files."""
    names = getattr(args, "scenarios", None) or [getattr(args, "scenario", None)]
    files = []
    for name in names:
        if name is None:
            continue
        try:
            files.append(str(scenario_file(name)))
        except Exception:  # noqa: BLE001 - a bad name is reported when the command loads it
            files.append(str(name))
    return {"command": args.command, "scenarios": files}


def provenance(args: argparse.Namespace) -> dict[str, Any]:
    """The command line and the lineage of each scenario file: what every ``metadata.json``
    the command writes records (added by :mod:`model.outputs` to each folder it writes)."""
    from ..provenance import lineage
    from ..scenario.limits import MAX_BYTES

    files = owner(args)["scenarios"]
    return {
        "command": args.command_line,
        "lineage": [lineage(Path(f), MAX_BYTES) for f in files if Path(f).is_file()],
    }


def parallel_options(p: argparse.ArgumentParser, workers: int | None = None) -> None:
    """``--workers`` and ``--scheduler`` (and ``--chunk-size`` for ensembles)."""
    default = "all cores" if workers is None else str(workers)
    p.add_argument(
        "--workers",
        type=positive("--workers"),
        default=workers,
        help=f"worker processes (default: {default})",
    )
    p.add_argument("--scheduler", help="run on Dask: 'local' or a scheduler address")


def command_line(argv: list[str] | None = None) -> str:
    """The command as typed (for reports and metadata)."""
    return " ".join(["relsim", *(sys.argv[1:] if argv is None else argv)])


def use_agg() -> None:
    """Figures without a display."""
    from ..plotting import use_agg as agg

    agg()


def figures_to(folder: Path, figures: dict[str, Any], dpi: int = 130) -> list[str]:
    """Save each figure as ``folder/<name>`` and free it; the names written."""
    from ..plotting import save_figure

    for name, fig in figures.items():
        save_figure(fig, folder / name, dpi=dpi)
    return list(figures)
