"""Output folders: one run per folder, replaced whole, never lost by surprise.

:class:`atomic_output` is how every result reaches the disk:

- the target is checked first (not empty, not a file, not under a file, not
  the current folder or one above it, writable);
- a lock next to the folder (``.<name>.lock``) refuses a second run into the
  same folder while one is writing;
- a folder that holds something else is not replaced: files that are not a
  result (no ``metadata.json``) never, the result of another command or
  scenario (its ``metadata.json`` records which, under ``output``) only if
  ``force`` is given; re-running the same command on the same scenarios
  replaces its own results;
- everything is written into a temporary folder beside the target
  (``.<name>.tmp-*``) that replaces the whole target in one step on success,
  so no file of an earlier run survives beside the new ones, and a failed or
  interrupted run leaves the previous results whole.

The owner of the folders a command writes and whether ``--force`` was given
are set once per command with :func:`claiming`; library calls outside it
replace any earlier result but still refuse a folder that is not one.
:func:`raise_on_signals` turns SIGTERM and SIGINT into :class:`Interrupted`,
held back while a folder is being swapped into place.
"""

from __future__ import annotations

import contextlib
import ctypes
import errno
import json
import os
import shutil
import signal
import tempfile
import threading
from collections.abc import Iterator
from contextvars import ContextVar
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ArgumentError

__all__ = [
    "Claim",
    "Interrupted",
    "atomic_file",
    "atomic_output",
    "check_target",
    "claiming",
    "raise_if_stopped",
    "raise_on_signals",
]


@dataclass(frozen=True)
class Claim:
    """Who writes (``owner``: the command and its scenario files) and whether to force.

    ``record`` is added to each ``metadata.json`` written (where it has no such key).
    """

    owner: dict[str, Any] = field(default_factory=dict)
    force: bool = False
    record: dict[str, Any] = field(default_factory=dict)


_CLAIM: ContextVar[Claim | None] = ContextVar("relsim_output_claim", default=None)


@contextlib.contextmanager
def claiming(
    owner: dict[str, Any], force: bool = False, record: dict[str, Any] | None = None
) -> Iterator[Claim]:
    """Within the block, output folders are written for ``owner`` (replaced only if theirs)."""
    claim = Claim(dict(owner), force, dict(record or {}))
    token = _CLAIM.set(claim)
    try:
        yield claim
    finally:
        _CLAIM.reset(token)


class Interrupted(KeyboardInterrupt):
    """The process was asked to stop by a signal (``signum``)."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum
        self.wrote: Path | None = None  # a folder put in place before the signal was acted on


_held: list[int] = []  # signals held back during a swap
_holding = threading.local()
_received: list[int] = []  # every stop signal received under raise_on_signals


def raise_if_stopped() -> None:
    """Raise :class:`Interrupted` if a stop signal came (even if its exception was swallowed).

    Some libraries catch everything around an import or a call; a signal
    that arrived there would be lost. Long loops and every folder about to be
    put in place call this, so a stopped run never writes.
    """
    if _received:
        raise Interrupted(_received[-1])


@contextlib.contextmanager
def raise_on_signals() -> Iterator[None]:
    """Within the block, SIGTERM and SIGINT raise :class:`Interrupted` (main thread only).

    A signal the process was started ignoring stays ignored.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum: int, frame: Any) -> None:
        _received.append(signum)
        if getattr(_holding, "on", False):
            _held.append(signum)
            return
        raise Interrupted(signum)

    # a SIGINT ignored by whoever started us (a background job, nohup) stays ignored
    wanted = [s for s in (signal.SIGTERM, signal.SIGINT) if signal.getsignal(s) != signal.SIG_IGN]
    old = {s: signal.signal(s, handler) for s in wanted}
    _received.clear()
    try:
        yield
    finally:
        for s, h in old.items():
            signal.signal(s, h)
        _received.clear()


@contextlib.contextmanager
def _signals_held() -> Iterator[None]:
    """Signals that arrive in the block are raised when it ends."""
    _holding.on = True
    try:
        yield
    finally:
        _holding.on = False
    if _held:
        signum = _held.pop()
        _held.clear()
        raise Interrupted(signum)


def _signals_held_file() -> contextlib.AbstractContextManager[None]:
    raise_if_stopped()
    return _signals_held()


def check_target(out: str | Path, argument: str = "out") -> Path:
    """``out`` as a path that a result folder may be written to, or an :class:`ArgumentError`."""
    if str(out).strip() == "":
        raise ArgumentError(argument, "is empty: give a folder name")
    path = Path(out)
    full = path.resolve()
    if full == Path.cwd().resolve() or full in Path.cwd().resolve().parents:
        raise ArgumentError(argument, f"{path}: is the current folder or above it; give a new one")
    if path.exists() and not path.is_dir():
        raise ArgumentError(argument, f"{path}: is a file, not a folder")
    parent = _first_existing(full.parent)
    if not parent.is_dir():
        raise ArgumentError(argument, f"{path}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ArgumentError(argument, f"{path}: cannot write in {parent} (permission denied)")
    return path


def _first_existing(path: Path) -> Path:
    while not path.exists() and path != path.parent:
        path = path.parent
    return path


def _owner_problem(out: Path, claim: Claim | None) -> tuple[str, bool] | None:
    """Why ``out`` may not be replaced and whether ``--force`` may override it, or ``None``.

    A folder that is not a relsim result is never replaced: ``--force`` only
    lets one command's results replace another's.
    """
    if not out.is_dir() or not any(out.iterdir()):
        return None
    meta_file = out / "metadata.json"
    if not meta_file.is_file():
        problem = f"{out}: holds files that are not a relsim result (no metadata.json)"
        return problem + "; give a new or empty folder", False
    if claim is None or claim.force:
        return None
    try:
        meta = json.loads(meta_file.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{out}: its metadata.json cannot be read", True
    theirs = meta.get("output") if isinstance(meta, dict) else None
    if not isinstance(theirs, dict):
        return f"{out}: holds a result that does not record who wrote it", True
    if theirs != claim.owner:
        return f"{out}: holds the results of {_describe(theirs)}", True
    return None


def _describe(owner: dict[str, Any]) -> str:
    files = " ".join(_short(f) for f in owner.get("scenarios", []))
    return f"'relsim {owner.get('command', '?')}{' ' + files if files else ''}'"


def _short(path: str) -> str:
    rel = os.path.relpath(path)
    return path if rel.startswith("..") else rel


def check_owner(out: str | Path, argument: str = "out") -> Path:
    """:func:`check_target`, and that ``out`` may be replaced by the current claim."""
    path = check_target(out, argument)
    claim = _CLAIM.get()
    if found := _owner_problem(path, claim):
        problem, forceable = found
        raise ArgumentError(argument, problem + ("; add --force to replace them" * forceable))
    return path


class atomic_output:
    """Context manager: a temporary folder that replaces the whole of ``out`` on success.

    Nothing appears in ``out`` unless the block finishes; an exception (or a
    signal) removes the temporary folder and leaves ``out`` as it was. Under
    :func:`claiming`, the claim's owner is recorded in ``metadata.json``
    (written with the owner alone when the block wrote none).
    """

    def __init__(self, out: str | Path, argument: str = "out") -> None:
        self.out = Path(out)
        self.argument = argument

    def __enter__(self) -> Path:
        self.out = check_target(self.out, self.argument)
        parent = self.out.resolve().parent
        try:
            parent.mkdir(parents=True, exist_ok=True)
            self.lock = _Lock(parent / f".{self.out.name}.lock", self.out, self.argument)
        except OSError as exc:
            problem = f"{self.out}: cannot write there ({exc.strerror or exc})"
            raise ArgumentError(self.argument, problem) from None
        try:
            check_owner(self.out, self.argument)
            for stale in parent.glob(f".{self.out.name}.tmp-*"):
                shutil.rmtree(stale, ignore_errors=True)
            self.tmp = Path(tempfile.mkdtemp(prefix=f".{self.out.name}.tmp-", dir=parent))
            os.chmod(self.tmp, 0o777 & ~_umask())  # as a folder made with mkdir would be
        except OSError as exc:
            self.lock.release()
            problem = f"{self.out}: cannot write there ({exc.strerror or exc})"
            raise ArgumentError(self.argument, problem) from None
        except BaseException:
            self.lock.release()
            raise
        return self.tmp

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        try:
            if exc_type is None:
                _stamp(self.tmp)
                raise_if_stopped()
                try:
                    with _signals_held():
                        _swap(self.tmp, self.out.resolve())
                except Interrupted as stop:
                    stop.wrote = self.out
                    raise
        finally:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.lock.release()


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _stamp(folder: Path) -> None:
    """Record the claim's owner (and its record) in ``folder/metadata.json``."""
    claim = _CLAIM.get()
    if claim is None:
        return
    meta_file = folder / "metadata.json"
    meta = json.loads(meta_file.read_text()) if meta_file.exists() else {}
    meta = {**claim.record, **meta, "output": claim.owner}
    meta_file.write_text(json.dumps(meta, indent=2, default=str) + "\n")


def _swap(new: Path, out: Path) -> None:
    """Put folder ``new`` at ``out``; an earlier ``out`` ends up at ``new`` (to be removed)."""
    if not out.exists():
        os.rename(new, out)
        return
    if _exchange(new, out):
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}.tmp-", dir=out.parent))
    os.rename(out, old / "old")
    os.rename(new, out)
    os.rename(old, new)


def _exchange(a: Path, b: Path) -> bool:
    """Swap two paths in one step (Linux ``renameat2``); ``False`` where not supported."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = libc.renameat2
    except (OSError, AttributeError):
        return False
    at_fdcwd, rename_exchange = -100, 2
    done = renameat2(at_fdcwd, os.fsencode(a), at_fdcwd, os.fsencode(b), rename_exchange)
    if done != 0:
        if ctypes.get_errno() in (errno.ENOSYS, errno.EINVAL, errno.ENOTSUP):
            return False
        raise OSError(ctypes.get_errno(), os.strerror(ctypes.get_errno()), str(b))
    return True


class _Lock:
    """An exclusive lock on ``path`` (``flock``), or an error naming the folder in use."""

    def __init__(self, path: Path, out: Path, argument: str) -> None:
        self.path = path
        self.fd: int | None = None
        try:
            import fcntl
        except ImportError:  # pragma: no cover - no flock on this system: no lock
            return
        while True:
            fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(fd)
                raise ArgumentError(
                    argument, f"{out}: another run is writing into this folder"
                ) from None
            try:
                same = os.stat(path).st_ino == os.fstat(fd).st_ino
            except FileNotFoundError:
                same = False
            if same:  # not a lock file removed by its holder meanwhile
                self.fd = fd
                return
            os.close(fd)

    def release(self) -> None:
        if self.fd is None:
            return
        with contextlib.suppress(OSError):
            os.unlink(self.path)
        os.close(self.fd)
        self.fd = None


def atomic_file(path: str | Path, text: str, replaceable: bool, argument: str) -> Path:
    """Write ``text`` to the file ``path`` in one step; an existing file only if ``replaceable``."""
    path = Path(path)
    if str(path).strip() == "":
        raise ArgumentError(argument, "is empty: give a file name")
    if path.is_dir():
        raise ArgumentError(argument, f"{path}: is a folder, not a file")
    parent = _first_existing(path.resolve().parent)
    if not parent.is_dir():
        raise ArgumentError(argument, f"{path}: {parent} is a file, not a folder")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise ArgumentError(argument, f"{path}: cannot write in {parent} (permission denied)")
    if path.exists() and not replaceable:
        raise ArgumentError(
            argument, f"{path}: exists and is not this scenario's calibration; add --force"
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        with _signals_held_file():
            os.replace(tmp, path)
    finally:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
    return path
