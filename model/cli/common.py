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
    "parallel_options",
    "positive",
    "use_agg",
    "year",
]


class UsageError(Exception):
    """A command line that cannot be read: printed as one line, ``relsim: error: ...``."""


class Parser(argparse.ArgumentParser):
    """argparse that reports bad arguments as one line and exit status 2."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: error: {message}")


def positive(name: str, minimum: int = 1) -> Any:
    """A flag's value: an integer of at least ``minimum``."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{name} must be an integer (got {text!r})") from None
        if value < minimum:
            raise argparse.ArgumentTypeError(f"{name} must be >= {minimum} (got {value})")
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
