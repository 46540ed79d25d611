"""What a run needs in memory and on disk, estimated before anything is allocated.

An ensemble keeps a few things per replicate however it is chunked: its metrics (five
numbers per index, 8 bytes each) and its replicate number; every path when the
trajectories are kept in memory; and, when they are streamed to Parquet, a file that
grows by the same number of values. Everything else is per process (the libraries, a
chunk's histograms and state) and does not grow with the replicate count. The costs
below were measured (``benchmarks/memory_per_replicate.py``, docs/PERFORMANCE.md,
"Memory per replicate"); the estimates are within 5% of the measured peaks without
paths, and up to 19% above them with paths.

:func:`ensemble_need` estimates, :func:`check_fits` refuses with an
:class:`~model.errors.ArgumentError` naming the argument to change (``replicates``,
``trajectories``, ``workers``, ``chunk_size``, ``trajectory_file``) and what would fit.
"""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

from .errors import ArgumentError

__all__ = [
    "Need",
    "available_memory",
    "check_disk",
    "check_fits",
    "ensemble_need",
    "size",
]

#: Resident memory of a process that has imported the package and run a first chunk
#: (measured: 148-153 MB), rounded up.
PROCESS = 170 * 2**20
#: Bytes per replicate the parent holds whatever the chunking: the metrics (5 per index,
#: float64) and the replicate number, plus this much (measured: 173 bytes in all for four
#: indices between 100,000 and 400,000 replicates).
REPLICATE_EXTRA = 16
#: Bytes of a chunk's working memory per replicate in it: with hazards (measured 10.4 KB
#: on the stress scenario, chunks of 2,000 and 20,000), without (not measurable: < 1 KB).
CHUNK_ROW_HAZARDS = 10_500
CHUNK_ROW = 1_000
#: A level in memory (float64).
VALUE = 8
#: Bytes per level of a chunk, besides the chunk's own paths, while its trajectories are
#: written (a copy in replicate order and the tables of 256 replicates; measured: 11).
PARQUET_TABLE_VALUE = 16
#: Bytes per level in trajectories.parquet on disk (measured: 8.5).
PARQUET_FILE_VALUE = 8.5


@dataclass(frozen=True)
class Part:
    """One part of a run's memory: what it is, the argument that changes it, its bytes, its
    bytes per replicate when it grows with them, and what to do about it."""

    what: str
    argument: str
    bytes: int
    per_replicate: int = 0
    advice: str = ""


@dataclass(frozen=True)
class Need:
    """The memory a run needs, by part."""

    parts: tuple[Part, ...]

    @property
    def total(self) -> int:
        return sum(p.bytes for p in self.parts)

    def largest(self) -> Part:
        return max(self.parts, key=lambda p: p.bytes)


def size(n: float) -> str:
    """Bytes for a reader: ``"1.4 GB"``."""
    for unit in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(n) < 1024:
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n:,.1f} PB"


def ensemble_need(
    replicates: int,
    records: int,
    indices: int,
    *,
    workers: int,
    chunk_size: int,
    bins: int,
    keep_paths: bool = False,
    paths_needed: bool = False,
    stream_paths: bool = False,
    hazards: bool = False,
    runs: int = 1,
    path_copies: int = 0,
    chunk_copies: bool = True,
) -> Need:
    """The memory of ``runs`` ensembles of ``replicates`` held at once (a comparison holds
    one per scenario or policy), each recording ``records`` dates of ``indices`` indices.

    ``keep_paths``: every path in memory (and ``path_copies`` more arrays of that size, the
    differences of a comparison), which fewer replicates reduce when ``paths_needed``, and
    leaving the trajectories out otherwise; ``stream_paths``: written chunk by chunk, so
    only the chunks in flight hold them. ``workers`` > 1 run chunks in their own processes.
    ``chunk_copies``: a chunk holds its paths besides those kept (not when the run is one
    chunk that records straight into the kept paths).
    """
    n, values = int(replicates), records * indices
    chunk = max(min(int(chunk_size), n), 1)
    processes = min(workers, -(-n // chunk)) if workers > 1 else 0
    metrics = runs * (indices * 5 * VALUE + REPLICATE_EXTRA)
    per_path = (runs + path_copies) * values * VALUE if keep_paths else 0
    if paths_needed:
        metrics, per_path = metrics + per_path, 0
    row = CHUNK_ROW_HAZARDS if hazards else CHUNK_ROW
    paths = values * VALUE * 2 if (keep_paths or stream_paths) and chunk_copies else 0
    histograms = bins * values * VALUE * 2
    one_chunk = histograms + chunk * (row + paths)
    parts = [
        *_kept_parts(n, metrics, per_path),
        *_chunk_parts(n, chunk, processes, histograms, row + paths, one_chunk),
    ]
    if stream_paths:
        parts.append(_stream_part(chunk, values, 2 * processes))
    return Need(tuple(parts))


def _kept_parts(n: int, metrics: int, per_path: int) -> list[Part]:
    """The program, and what the parent keeps of every replicate (metrics, paths)."""
    parts = [
        Part("the program", "workers", PROCESS),
        Part("the replicates", "replicates", n * metrics, metrics, "run fewer replicates"),
    ]
    if per_path:
        advice = "leave the trajectories out, stream them to a file or run fewer replicates"
        parts.append(Part("the paths in memory", "trajectories", n * per_path, per_path, advice))
    return parts


def _chunk_parts(
    n: int, chunk: int, processes: int, histograms: int, per_replicate: int, one_chunk: int
) -> list[Part]:
    """What the chunks at work take, and the worker processes that run them."""
    if chunk >= n:  # one chunk holds every replicate: it grows with them
        parts = [
            Part("a chunk's histograms", "chunk_size", histograms),
            Part(
                "the replicates at work",
                "replicates",
                n * per_replicate,
                per_replicate,
                "run fewer",
            ),
        ]
    else:
        parts = [
            Part(
                f"chunks of {chunk:,} replicates",
                "chunk_size",
                max(processes, 1) * one_chunk,
                advice=f"a chunk takes {size(one_chunk)}: use smaller chunks",
            )
        ]
    if processes:
        parts.append(
            Part(
                f"{processes} worker processes",
                "workers",
                processes * PROCESS,
                advice=f"each worker takes {size(PROCESS + one_chunk)}: use fewer workers",
            )
        )
    return parts


def _stream_part(chunk: int, values: int, flight: int) -> Part:
    """The table of a chunk's paths being written to Parquet (``flight`` chunks waiting)."""
    table = chunk * values * (PARQUET_TABLE_VALUE + flight * VALUE)
    return Part(
        "trajectories written chunk by chunk",
        "chunk_size",
        table,
        advice=f"writing a chunk's paths takes {size(table)}: use smaller chunks or "
        "fewer workers, or leave the trajectories out",
    )


def available_memory() -> int | None:
    """Bytes this process can still use: the system's available memory, or the control
    group's limit less its use when lower; None when neither can be read."""
    found = []
    try:
        with open("/proc/meminfo", encoding="ascii") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    found.append(int(line.split()[1]) * 1024)
    except (OSError, ValueError):
        pass
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        used = Path("/sys/fs/cgroup/memory.current").read_text().strip()
        if limit != "max":
            found.append(int(limit) - int(used))
    except (OSError, ValueError):
        pass
    if not found:
        try:
            found.append(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
        except (OSError, ValueError, AttributeError):
            return None
    return max(min(found), 0)


def check_fits(need: Need, available: int | None = None) -> None:
    """Raise :class:`ArgumentError`, naming the argument of the largest part and what would
    fit, unless ``need`` fits in ``available`` bytes (default: :func:`available_memory`;
    unknown: no check)."""
    room = available_memory() if available is None else available
    if room is None or need.total <= room:
        return
    part = need.largest()
    advice = part.advice
    if part.per_replicate:
        growing = [p for p in need.parts if p.per_replicate]
        each = sum(p.per_replicate for p in growing)
        most = (room - need.total + sum(p.bytes for p in growing)) // each
        advice = f"{advice} (at most about {most:,} replicates fit)" if most > 0 else advice
        each_part = f"{part.per_replicate:,} bytes a replicate"
        advice = f"{part.what} take {size(part.bytes)}, {each_part}; {advice}"
    raise ArgumentError(
        part.argument,
        f"the run needs about {size(need.total)} of memory, more than the {size(room)} "
        f"available on this machine: {advice}",
    )


def check_disk(path: str | Path, values: int, argument: str = "trajectory_file") -> None:
    """Raise :class:`ArgumentError` unless a Parquet file of ``values`` levels fits on the
    disk that holds ``path`` (its folder must exist)."""
    need = values * PARQUET_FILE_VALUE
    try:
        free = shutil.disk_usage(Path(path).parent).free
    except OSError:
        return
    if need > free:
        raise ArgumentError(
            argument,
            f"the trajectories would take about {size(need)} on disk ({PARQUET_FILE_VALUE} bytes "
            f"a level), more than the {size(free)} free there: leave them out or run fewer "
            "replicates",
        )
