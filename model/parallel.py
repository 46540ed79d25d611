"""Running independent tasks in this process, in worker processes, or on Dask.

The ensemble's chunks and the exploration's batches of parameter points are
both lists of independent tasks ``fn(*task)``. :func:`run_tasks` runs them and
yields each result as it finishes, with its position, so the caller can merge
results on arrival (the ensemble) or put them back in order (the analyses):

- ``workers <= 1`` (or a single task): here, in order;
- ``workers > 1``: a pool of worker processes, at most two tasks per worker
  in flight, so the parent never holds more than a few finished results;
- ``scheduler``: ``"local"`` (a two-worker Dask cluster on this machine) or
  the address of a Dask scheduler (the ``dask`` extra).

Inside a task, BLAS runs on one thread (:func:`one_blas_thread`): threads
inside a worker only slow small matrices down, and processes give the
parallelism.

Worker processes end with their parent: they ignore SIGINT (Ctrl-C reaches
the whole process group, and the parent decides), the parent terminates them
when it stops for any reason (an error, SIGINT, SIGTERM), and on Linux the
kernel sends them SIGTERM if the parent dies without a word. A Dask scheduler
that does not answer within :data:`SCHEDULER_TIMEOUT` seconds is an
:class:`~model.errors.ArgumentError` naming ``scheduler``.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import sys
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from .errors import ArgumentError
from .outputs import raise_if_stopped

__all__ = [
    "SCHEDULER_TIMEOUT",
    "one_blas_thread",
    "progress_bar",
    "require_dask",
    "run_tasks",
    "worker_count",
]

#: Seconds to wait for a Dask scheduler to answer before giving up.
SCHEDULER_TIMEOUT = 10

#: How to install what ``scheduler=`` needs.
DASK_EXTRA = 'pip install -e ".[dask]"'


def require_dask(argument: str = "scheduler") -> None:
    """Raise :class:`ArgumentError` naming ``argument`` unless Dask's distributed scheduler can
    be imported, saying which extra installs it."""
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        raise ArgumentError(
            argument,
            f"running on Dask needs the dask extra, which is not installed: {DASK_EXTRA}",
        ) from None


def worker_count(workers: int | None) -> int:
    """``workers``, or every core when ``None``; at least 1."""
    return (os.cpu_count() or 1) if workers is None else max(int(workers), 1)


def one_blas_thread() -> contextlib.AbstractContextManager:
    """A context in which BLAS runs on one thread."""
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - threadpoolctl is a dependency
        return contextlib.nullcontext()
    return threadpool_limits(1)


def progress_bar(total: int, wanted: bool, unit: str, desc: str | None = None) -> Any:
    """A progress bar on standard error, shown only when asked for and on a terminal."""
    from tqdm import tqdm  # plain bar: no widget warning in notebooks (it is off there anyway)

    return tqdm(
        total=total,
        unit=unit,
        desc=desc,
        delay=1.0,
        leave=False,
        disable=not (wanted and sys.stderr.isatty()),
    )


def run_tasks(
    fn: Callable[..., Any],
    tasks: Sequence[tuple],
    sizes: Sequence[int],
    *,
    workers: int | None = 1,
    scheduler: str | None = None,
    bar: Any = None,
) -> Iterator[tuple[int, Any]]:
    """Yield ``(i, fn(*tasks[i]))`` for each task as it finishes; ``bar`` moves by ``sizes[i]``."""
    workers = worker_count(workers)
    if scheduler is not None:
        runs = _on_dask(fn, tasks, scheduler)
    elif workers <= 1 or len(tasks) <= 1:
        runs = ((i, fn(*task)) for i, task in enumerate(tasks))
    else:
        runs = _on_processes(fn, tasks, workers)
    for i, result in runs:
        raise_if_stopped()
        if bar is not None:
            bar.update(sizes[i])
        yield i, result


def _on_processes(
    fn: Callable[..., Any], tasks: Sequence[tuple], workers: int
) -> Iterator[tuple[int, Any]]:
    """Tasks in worker processes, submitted in order, at most two per worker in flight."""
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    todo = list(reversed(range(len(tasks))))
    with ProcessPoolExecutor(
        max_workers=min(workers, len(tasks)), initializer=_worker_start
    ) as pool:
        running: dict = {}
        try:
            while todo or running:
                while todo and len(running) < 2 * workers:
                    i = todo.pop()
                    running[pool.submit(fn, *tasks[i])] = i
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    yield running.pop(fut), fut.result()
        except BaseException:
            _stop(pool, running)
            raise


def _worker_start() -> None:
    """In each worker: leave SIGINT to the parent, die on SIGTERM, and die with the parent."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    with contextlib.suppress(Exception):
        import ctypes

        pr_set_pdeathsig = 1
        ctypes.CDLL(None).prctl(pr_set_pdeathsig, int(signal.SIGTERM))


def _stop(pool: Any, running: dict) -> None:
    """Cancel what waits and end the worker processes now (not when their tasks finish)."""
    for fut in running:
        fut.cancel()
    processes = list((getattr(pool, "_processes", None) or {}).values())
    queue = getattr(pool, "_call_queue", None)
    if queue is not None:  # tasks still in the pipe must not hold the exit up
        queue.cancel_join_thread()
    pool.shutdown(wait=False, cancel_futures=True)
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.terminate()
    for proc in processes:
        with contextlib.suppress(Exception):
            proc.join(timeout=2)
            if proc.is_alive():
                proc.kill()


def _on_dask(
    fn: Callable[..., Any], tasks: Sequence[tuple], scheduler: str
) -> Iterator[tuple[int, Any]]:
    require_dask()
    from dask.distributed import Client, LocalCluster, as_completed

    cluster = (
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            dashboard_address=None,
            silence_logs=logging.CRITICAL,  # a stopped run says one line (task errors still
            # reach the parent through the futures)
        )
        if scheduler == "local"
        else None
    )
    try:
        client = Client(
            cluster if cluster is not None else scheduler, timeout=f"{SCHEDULER_TIMEOUT}s"
        )
    except (OSError, TimeoutError, ValueError) as exc:
        if cluster is not None:
            cluster.close()
        problem = (
            f"{scheduler!r} is not a scheduler address (use 'local' or tcp://HOST:PORT)"
            if isinstance(exc, ValueError)
            else f"no Dask scheduler answered at {scheduler!r} within {SCHEDULER_TIMEOUT} s"
        )
        raise ArgumentError("scheduler", problem) from None
    futures: list = []
    try:
        futures = [client.submit(fn, *task, pure=False) for task in tasks]
        index = {fut.key: i for i, fut in enumerate(futures)}
        for fut in as_completed(futures):
            yield index[fut.key], fut.result()
    finally:
        with contextlib.suppress(Exception):
            client.cancel([f for f in futures if not f.done()])
        client.close()
        if cluster is not None:
            cluster.close()
