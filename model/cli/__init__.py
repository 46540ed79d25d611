"""The ``relsim`` command: a thin shell over the library, and the only place that prints or exits.

Each sub-command parses its flags, calls library functions and writes files
(:mod:`.run`, :mod:`.scenarios`, :mod:`.calibrate`, :mod:`.evaluate`,
:mod:`.explore`, :mod:`.app`). :func:`main` turns errors into exit statuses: 0 on success, 2
on bad input (one line ``FILE: field: problem`` on standard error, nothing
written; a bad argument is named by the flag that set it; a command line that cannot be
read is one line ``relsim: error: ...``), 1 on an internal error, 130 or 143 when stopped
by SIGINT or SIGTERM (one line; the output folders are left as they were,
:mod:`model.outputs`).
"""

from __future__ import annotations

import argparse
import os
import signal
import sys

from ..errors import ArgumentError, ModelError
from ..outputs import check_owner, claiming, raise_on_signals
from . import app, calibrate, evaluate, explore, run, scenarios
from .common import Parser, UsageError, owner, provenance

__all__ = ["main", "program"]


def build_parser() -> argparse.ArgumentParser:
    """The ``relsim`` parser with every sub-command."""
    p = Parser(
        prog="relsim", description="Scenario and ensemble model of Türkiye–Russia relations."
    )
    p.add_argument("--version", action="store_true", help="print the version and exit")
    sub = p.add_subparsers(dest="command", parser_class=Parser)
    for room in (run, scenarios, app, calibrate, evaluate, explore):
        room.add(sub)
    return p


def main(argv: list[str] | None = None) -> int:
    """Entry point of ``relsim``; returns the exit status."""
    argv = sys.argv[1:] if argv is None else list(argv)
    parser = build_parser()
    args = None
    try:
        args = _parse(parser, argv)
        if args.version:
            from .._version import __version__

            print(f"relsim {__version__}")
            return 0
        if args.command is None:
            parser.print_help()
            return 2
        args.command_line = " ".join(["relsim", *argv])
        if getattr(args, "scheduler", None) is not None:
            from ..parallel import require_dask

            require_dask("scheduler")
        force = bool(getattr(args, "force", False))
        with raise_on_signals(), claiming(owner(args), force, provenance(args)):
            if getattr(args, "out", None) is not None:  # refused before the work, not after
                check_owner(args.out)
            return int(args.func(args))
    except UsageError as exc:
        print(exc, file=sys.stderr)
        return 2
    except SystemExit as exc:  # --help
        return int(exc.code or 0) if isinstance(exc.code, int | None) else 2
    except ArgumentError as exc:
        flags = getattr(args, "flags", {}) or {}
        flag = flags.get(exc.argument, "--" + exc.argument.replace("_", "-"))
        print(
            f"error: relsim {getattr(args, 'command', '')}: {flag}: {exc.problem}", file=sys.stderr
        )
        return 2
    except ModelError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt as exc:
        signum = getattr(exc, "signum", signal.SIGINT)
        wrote = getattr(exc, "wrote", None)
        print(
            f"interrupted: wrote {wrote} before stopping"
            if wrote
            else "interrupted: nothing was written; previous results kept",
            file=sys.stderr,
        )
        return 128 + int(signum)
    except BrokenPipeError:
        return 0
    except Exception as exc:  # noqa: BLE001 - the last line of defence
        print(f"internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        return 1


def _parse(parser: argparse.ArgumentParser, argv: list[str]) -> argparse.Namespace:
    """The parsed command line; flags no command knows are reported against that command."""
    args, extra = parser.parse_known_args(argv)
    if extra:
        command = getattr(args, "command", None)
        prog = f"relsim {command}" if command else "relsim"
        raise UsageError(f"{prog}: error: unrecognized arguments: {' '.join(extra)}")
    return args


def program() -> None:
    """``relsim`` as a program: :func:`main`, then exit with its status.

    After a stop signal everything is already cleaned up (temporary folders
    removed, workers ended), so the process exits at once rather than wait
    for threads that fed the workers.
    """
    status = main()
    if status in (128 + signal.SIGINT, 128 + signal.SIGTERM):
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(status)
    sys.exit(status)
