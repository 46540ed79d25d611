"""Provenance: what a saved result needs to be reproduced and cited.

Every output folder's ``metadata.json`` comes from :func:`run_metadata`: the
format version of the files, the scenario's name and the SHA-256 of the
resolved scenario, the seed and replicate count, the package version, the
git commit of the checkout the package runs from (if any), the Python and
library versions, and when it was made. The command line adds the command
as typed and the scenario's :func:`lineage` (the file and each file it
extends, with their hashes).
"""

from __future__ import annotations

import datetime as dt
import platform
import stat
import subprocess
from functools import cache
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ._version import __version__

if TYPE_CHECKING:  # pragma: no cover
    from .scenario import Scenario

__all__ = ["FORMAT_VERSION", "environment", "git_commit", "lineage", "run_metadata"]

#: Version of the layout of the files a run writes.
FORMAT_VERSION = 1
_LIBRARIES = ("numpy", "pandas", "scipy", "simpy", "pydantic", "matplotlib")


def environment() -> dict[str, Any]:
    """The package and library versions, the commit, and the time."""
    return {
        "package_version": __version__,
        "git_commit": git_commit(),
        "python": platform.python_version(),
        "libraries": {lib: _version(lib) for lib in _LIBRARIES},
        "created": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
    }


def run_metadata(scenario: Scenario, replicates: int, seed: int) -> dict[str, Any]:
    """Everything needed to reproduce a run: scenario hash, seed, versions."""
    meta: dict[str, Any] = {
        "format_version": FORMAT_VERSION,
        "scenario": scenario.name,
        "description": scenario.description,
        "scenario_sha256": scenario.digest(),
        "seed": seed,
        "replicates": replicates,
        "indicators": list(scenario.indicators),
        "start": str(scenario.run.start),
        "end": str(scenario.run.end),
        "record": scenario.run.record,
        "noise": scenario.run.noise,
        # what the drops took with them (events that require a dropped one): {id: reason}
        "events_dropped": scenario.resolution().dropped(),
    }
    return meta | environment()


def lineage(path: Path, max_bytes: int) -> list[dict[str, str]]:
    """The scenario file and each file it ``extends``, in turn: path and SHA-256 of its bytes.

    The chain stops at what a scenario cannot be (a folder, a device, a symlink loop, a
    file over ``max_bytes``): loading the scenario reports it."""
    import hashlib
    import tomllib

    chain: list[dict[str, str]] = []
    seen: set[Path] = set()
    here = _regular(Path(path), max_bytes)
    while here is not None and here not in seen:
        seen.add(here)
        data = here.read_bytes()
        chain.append({"file": str(here), "sha256": hashlib.sha256(data).hexdigest()})
        try:
            parent = tomllib.loads(data.decode("utf-8-sig")).get("extends")
        except (UnicodeDecodeError, tomllib.TOMLDecodeError, RecursionError):
            parent = None
        here = (
            _regular(here.parent / parent, max_bytes)
            if isinstance(parent, str) and parent
            else None
        )
    return chain


def _regular(path: Path, max_bytes: int) -> Path | None:
    """``path`` resolved if it is a regular file of at most ``max_bytes``, else None."""
    try:
        here = path.resolve()
        info = here.stat()
    except (OSError, RuntimeError, ValueError):
        return None
    if not stat.S_ISREG(info.st_mode) or info.st_size > max_bytes:
        return None
    return here


@cache
def _version(lib: str) -> str:
    """Installed version of ``lib`` (looked up once per process)."""
    try:
        return importlib_metadata.version(lib)
    except importlib_metadata.PackageNotFoundError:
        return "not installed"


def git_commit() -> str | None:
    """The commit of the checkout the package runs from, if it is one.

    Read from the repository's files (``HEAD``, the branch's ref or
    ``packed-refs``), which is cheap and always current; ``git rev-parse``
    only when they cannot be read.
    """
    root = Path(__file__).resolve().parent.parent
    if not (root / ".git").exists():
        return None
    try:
        return _read_head(root / ".git")
    except (OSError, ValueError):
        pass
    try:
        done = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout.strip() or None


def _read_head(dot_git: Path) -> str:
    """The commit ``HEAD`` points to, read from the files (no ``git`` process)."""
    git_dir = dot_git
    if dot_git.is_file():  # a worktree or submodule: "gitdir: <path>"
        text = dot_git.read_text().strip()
        if not text.startswith("gitdir:"):
            raise ValueError(text)
        git_dir = (dot_git.parent / text[len("gitdir:") :].strip()).resolve()
    common = git_dir
    if (git_dir / "commondir").is_file():
        common = (git_dir / (git_dir / "commondir").read_text().strip()).resolve()
    head = (git_dir / "HEAD").read_text().strip()
    if not head.startswith("ref:"):
        return _commit_id(head)
    ref = head[len("ref:") :].strip()
    for base in (git_dir, common):
        if (base / ref).is_file():
            return _commit_id((base / ref).read_text().strip())
    packed = common / "packed-refs"
    for line in packed.read_text().splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1] == ref and not line.startswith(("#", "^")):
            return _commit_id(parts[0])
    raise ValueError(f"{ref} not found")


def _commit_id(text: str) -> str:
    if len(text) not in (40, 64) or any(c not in "0123456789abcdef" for c in text):
        raise ValueError(text)
    return text
