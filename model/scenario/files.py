"""Reading one scenario file defensively: what may be read, how much, and what a parse error says.

A scenario may come from anywhere, so :func:`read_toml` looks at the file
before it reads it: a regular file (not a folder, a device such as
``/dev/zero``, a FIFO or a socket, not a symlink loop), at most
:data:`~.limits.MAX_BYTES` long. The text is UTF-8, with or without a
byte-order mark. A TOML error names the field where the parser stopped
(``run.end: '2016-02-30' is not a valid date``) rather than the parser's own
text, and tables nested deeper than :data:`~.limits.MAX_DEPTH` are refused
before anything walks them. :func:`file_problem` says what is wrong with a
path as a scenario file, for the file itself or for an ``extends`` naming it.
"""

from __future__ import annotations

import datetime as dt
import errno
import os
import re
import stat
import tomllib
from pathlib import Path
from typing import Any

from ..errors import ScenarioError
from .limits import MAX_BYTES, walk_problem

__all__ = ["file_problem", "read_toml"]

_AT = re.compile(r"\(at line (\d+), column (\d+)\)")
_HEADER = re.compile(r"^\s*\[\[?\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_DATE = re.compile(r"(?<![\w.\-])\d{4}-\d{2}-\d{2}(?![\w\-])")
_KEY = re.compile(r"""([A-Za-z0-9_.\-"' ]+?)\s*=\s*$""")


def file_problem(path: Path) -> str | None:
    """What makes ``path`` unusable as a scenario file (``"is a folder, not a scenario
    file"``), or None for a regular file of at most :data:`MAX_BYTES`."""
    try:
        info = os.stat(path)
    except FileNotFoundError:
        return "no such file"
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return "is a symlink loop, not a scenario file"
        return f"cannot be read ({exc.strerror or exc})"
    except ValueError as exc:  # a NUL byte in the name
        return f"cannot be read ({exc})"
    if stat.S_ISDIR(info.st_mode):
        return "is a folder, not a scenario file"
    if not stat.S_ISREG(info.st_mode):
        return "is not a regular file (a device, a FIFO or a socket), not a scenario file"
    if info.st_size > MAX_BYTES:
        return f"is {_size(info.st_size)}, more than a scenario may be ({_size(MAX_BYTES)})"
    return None


def read_toml(path: Path) -> dict[str, Any]:
    """The data of a scenario file, checked as :func:`file_problem` and
    :func:`~.limits.walk_problem` (depth only) say; every problem a
    :class:`~model.errors.ScenarioError` naming ``path``."""
    if problem := file_problem(path):
        raise ScenarioError(path, "(file)", problem)
    try:
        with open(path, "rb") as handle:
            raw = handle.read(MAX_BYTES + 1)
    except OSError as exc:
        raise ScenarioError(path, "(file)", f"cannot be read ({exc.strerror or exc})") from None
    if len(raw) > MAX_BYTES:  # grew since it was looked at
        raise ScenarioError(path, "(file)", f"is more than a scenario may be ({_size(MAX_BYTES)})")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        problem = f"is not UTF-8 text (byte 0x{raw[exc.start]:02x} at offset {exc.start})"
        raise ScenarioError(path, "(file)", problem) from None
    data = parse_toml(text, path)
    if found := walk_problem(data, numbers=False):
        loc, problem = found
        raise ScenarioError(path, _dotted(loc), problem)
    return data


def parse_toml(text: str, path: Path | str) -> dict[str, Any]:
    """``text`` parsed as TOML; a syntax error names the field where the parser stopped."""
    try:
        return tomllib.loads(text)
    except RecursionError:
        raise ScenarioError(
            path, "(syntax)", "arrays or tables nest too deep for a scenario"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise _syntax_error(text, str(exc), path) from None


def _syntax_error(text: str, message: str, path: Path | str) -> ScenarioError:
    at = _AT.search(message)
    what = _AT.sub("", message).strip()
    if at is None:
        return ScenarioError(path, "(syntax)", f"not valid TOML: {message}")
    line_no, column = int(at.group(1)), int(at.group(2))
    lines = text.splitlines() or [""]
    line = lines[min(line_no, len(lines)) - 1]
    if what.startswith("Invalid date"):
        value = re.split(r"[\s,}\]#]", line[column - 1 :], maxsplit=1)[0]
    else:  # a month or day the parser does not take for a date at all (2027-13-01)
        value, column = next(
            ((m.group(), m.start() + 1) for m in _DATE.finditer(line) if not _is_date(m.group())),
            ("", column),
        )
    if value:
        problem = f"{value!r} is not a valid date or time (line {line_no})"
        return ScenarioError(path, _field_at(lines, line_no, column) or "(syntax)", problem)
    return ScenarioError(path, "(syntax)", f"not valid TOML: {message}")


def _is_date(text: str) -> bool:
    try:
        dt.date.fromisoformat(text)
    except ValueError:
        return False
    return True


def _field_at(lines: list[str], line_no: int, column: int) -> str:
    """The dotted field being set where the parser stopped: the table header above it and the
    key (or inline table keys) before ``column`` on its line."""
    table = ""
    for earlier in reversed(lines[: line_no - 1]):
        if m := _HEADER.match(earlier):
            table = m.group(1).replace(" ", "")
            break
    line = lines[line_no - 1] if line_no - 1 < len(lines) else ""
    before = line[: column - 1]
    keys = [k.strip().strip("\"'") for k in re.findall(r"([A-Za-z0-9_.\-\"']+)\s*=", before)]
    if not keys:
        return table
    inner = _KEY.search(before)
    outer = keys[0]
    last = inner.group(1).strip().strip("\"'") if inner else keys[-1]
    parts = [table, outer] + ([last] if last != outer else [])
    return ".".join(p for p in parts if p)


def _dotted(loc: tuple) -> str:
    """A location as a dotted field, shortened when it is very long."""
    text = ".".join(str(k) if not isinstance(k, int) else f"[{k}]" for k in loc)
    text = text.replace(".[", "[")
    return text if len(text) <= 80 else text[:77] + "..."


def _size(n: int) -> str:
    return f"{n / 1024 / 1024:.1f} MB" if n >= 1024 * 1024 else f"{n} bytes"
