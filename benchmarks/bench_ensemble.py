"""Ensemble benchmark (run by hand, not by the tests).

Times ``model.simulate`` on the stress scenario (``scenarios/stress.toml``:
the baseline 2000-2035 with monthly records, noise, uncertain half-lives and
damping, and four state-dependent hazards from 2026) at several ensemble
sizes, each in a fresh subprocess so that its peak memory is its own; times a
single deterministic replay of the baseline; times the per-replicate
daily-step reference (``benchmarks/reference.py``) on the same scenario; and
checks that the reference and the engine agree in distribution::

    python benchmarks/bench_ensemble.py --sizes 1000 10000 100000 1000000 --workers 2

Reported per size: seconds of the ``simulate`` call alone (not the import, not
loading the scenario), replicate-years per second (replicates x 36 years /
seconds), and peak memory three ways:

- ``peak_ru_mb``: ``ru_maxrss`` of the subprocess plus ``ru_maxrss`` of its
  children (the largest worker), as the kernel reports them. Forked workers
  count the pages they share with the parent, so this double-counts the
  imported libraries;
- ``peak_pss_mb``: the largest sum over the subprocess and its workers of the
  proportional set size (``/proc/<pid>/smaps_rollup``), sampled every 0.2 s
  from outside; shared pages are counted once. This is the best estimate of
  the memory the run really needs;
- ``peak_rss_mb``: the same sampling with the resident set size.

A size that has not finished after ``--timeout`` seconds is stopped; the
table then gives the time it had run, the memory it had reached, an estimate
of its total time from the rate of the largest finished size, and of its peak
memory from a line through the two largest finished sizes.

For context, the engine and the reference are also timed at
``--context-size`` replicates on the baseline (noise only) and on the
scenario without its hazards. The agreement check (yearly means and spreads
of each index, and hazard firings) runs on the baseline and on the timed
scenario; its rows go to ``<out>_agreement.csv``. With ``--sizes`` given no
values and ``--reference-replicates 0 --context-size 0``, only the replay and
the check run.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import platform
import resource
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
DEFAULT_SCENARIO = ROOT / "scenarios" / "stress.toml"
BASELINE = ROOT / "scenarios" / "baseline.toml"
DAYS_PER_YEAR = 365.25


# --------------------------------------------------------------------------- helpers


def _emit(payload: dict) -> None:
    print("RESULT " + json.dumps(payload), flush=True)


def _maxrss_mb(who: int) -> float:
    return resource.getrusage(who).ru_maxrss / 1024.0  # Linux: kilobytes


def _cpu_seconds() -> float:
    """User + system CPU time of this process and its finished children."""
    total = 0.0
    for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN):
        ru = resource.getrusage(who)
        total += ru.ru_utime + ru.ru_stime
    return total


def _run_years(sc) -> float:
    return ((sc.run.end - sc.run.start).days + 1) / DAYS_PER_YEAR


def _scenario(args):
    """The scenario of a child, without its hazards if asked."""
    import model

    sc = model.load_scenario(args.scenario)
    if getattr(args, "no_hazards", False):
        sc = sc.model_copy(update={"hazards": ()})
    return sc


def _no_noise(sc):
    return sc.model_copy(update={"run": sc.run.model_copy(update={"noise": False})})


# --------------------------------------------------------------------------- child modes


def child_engine(args) -> None:
    import model

    sc = _scenario(args)
    rss_ready = _maxrss_mb(resource.RUSAGE_SELF)
    cpu0 = _cpu_seconds()
    t0 = time.perf_counter()
    model.simulate(
        sc, replicates=args.n, trajectories=False, workers=args.workers, chunk_size=args.chunk_size
    )
    seconds = time.perf_counter() - t0
    _emit(
        {
            "seconds": seconds,
            "cpu_s": _cpu_seconds() - cpu0,
            "years": _run_years(sc),
            "rss_ready_mb": rss_ready,
            "ru_self_mb": _maxrss_mb(resource.RUSAGE_SELF),
            "ru_children_mb": _maxrss_mb(resource.RUSAGE_CHILDREN),
        }
    )


def child_replay(args) -> None:
    t0 = time.perf_counter()
    import model

    t_import = time.perf_counter() - t0
    sc = _no_noise(model.load_scenario(args.scenario))
    t1 = time.perf_counter()
    model.simulate(sc, replicates=1, trajectories=False, workers=1)
    first = time.perf_counter() - t1
    times = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        model.simulate(sc, replicates=1, trajectories=False, workers=1)
        times.append(time.perf_counter() - t)
    _emit(
        {
            "import_s": t_import,
            "first_s": first,
            "best_s": min(times),
            "median_s": sorted(times)[len(times) // 2],
            "times_s": times,
        }
    )


def child_reference(args) -> None:
    from reference import run_reference

    sc = _scenario(args)
    out = run_reference(sc, args.n, seed=sc.run.seed)
    _emit(
        {"seconds": out.seconds, "years": out.years, "ru_self_mb": _maxrss_mb(resource.RUSAGE_SELF)}
    )


def _var_sd(x) -> float:
    """Large-sample variance of the sample standard deviation of ``x``."""

    d = x - x.mean()
    m2 = float((d**2).mean())
    if m2 == 0.0:
        return 0.0
    kurt = float((d**4).mean()) / m2**2
    return m2 * max(kurt - 1.0, 0.0) / (4 * len(x))


def child_check(args) -> None:
    """Yearly means and spreads of each index: engine vs reference."""
    import numpy as np
    import pandas as pd
    from reference import run_reference

    import model

    sc = model.load_scenario(args.scenario)
    seed = sc.run.seed + args.check_seed
    eng = model.simulate(
        sc, replicates=args.engine_n, seed=seed, trajectories=True, workers=args.workers
    )
    ref = run_reference(sc, args.n, seed=seed)
    years = pd.DatetimeIndex(eng.dates).year.to_numpy()
    names = list(sc.indicators)

    def yearly(paths: np.ndarray) -> tuple[np.ndarray, list[int]]:
        keep = sorted(set(years))
        return np.stack([paths[:, years == y, :].mean(axis=1) for y in keep], axis=1), keep

    e, keep = yearly(eng.paths)  # (replicates, years, indices)
    r, _ = yearly(ref.paths)
    rows = []
    for j, name in enumerate(names):
        for i, year in enumerate(keep):
            me, mr = e[:, i, j].mean(), r[:, i, j].mean()
            se_, sr = e[:, i, j].std(ddof=1), r[:, i, j].std(ddof=1)
            se_mean = float(np.sqrt(se_**2 / len(e) + sr**2 / len(r)))
            # s.e. of a sample s.d., var(s) ~ sd^2 (kurtosis - 1) / (4 n): with jumps the
            # levels are far from normal, and the normal-theory 1 / (2 n) understates it
            se_sd = float(np.sqrt(_var_sd(e[:, i, j]) + _var_sd(r[:, i, j])))
            rows.append(
                {
                    "scenario": sc.name,
                    "indicator": name,
                    "year": int(year),
                    "engine_mean": me,
                    "reference_mean": mr,
                    "diff_mean": mr - me,
                    "se_diff_mean": se_mean,
                    "engine_sd": se_,
                    "reference_sd": sr,
                    "diff_sd": sr - se_,
                    "se_diff_sd": se_sd,
                }
            )
    firings = {}
    ev = eng.events
    for hz in sc.hazards:
        # one log row per effect and incident (or per effect and month, summed in
        # "replicates", in large ensembles)
        n_rows = int(ev.loc[ev["event"] == hz.id, "replicates"].sum())
        firings[hz.id] = {
            "engine": n_rows / len(hz.effects) / args.engine_n,
            "reference": float(ref.firings[hz.id].mean()),
            "reference_se": float(ref.firings[hz.id].std(ddof=1) / np.sqrt(args.n)),
        }
    _emit(
        {
            "rows": rows,
            "firings": firings,
            "engine_n": args.engine_n,
            "reference_n": args.n,
            "reference_seconds": ref.seconds,
        }
    )


# --------------------------------------------------------------------------- driver


def _children(pid: int) -> list[int]:
    out = []
    try:
        for task in os.listdir(f"/proc/{pid}/task"):
            with open(f"/proc/{pid}/task/{task}/children") as fh:
                out += [int(x) for x in fh.read().split()]
    except OSError:
        pass
    return out


def _tree(pid: int) -> list[int]:
    todo, seen = [pid], []
    while todo:
        p = todo.pop()
        seen.append(p)
        todo += _children(p)
    return seen


def _rollup(pid: int) -> tuple[int, int]:
    """(Rss, Pss) in kB of one process, 0 if it has gone."""
    rss = pss = 0
    try:
        with open(f"/proc/{pid}/smaps_rollup") as fh:
            for line in fh:
                if line.startswith("Rss:"):
                    rss = int(line.split()[1])
                elif line.startswith("Pss:"):
                    pss = int(line.split()[1])
    except OSError:
        pass
    return rss, pss


class _Sampler(threading.Thread):
    """Largest sum of Rss and of Pss over a process tree, sampled periodically."""

    def __init__(self, pid: int, every: float = 0.2) -> None:
        super().__init__(daemon=True)
        self.pid, self.every = pid, every
        self.peak_rss = self.peak_pss = 0
        self.stop = threading.Event()

    def run(self) -> None:
        while not self.stop.is_set():
            rss = pss = 0
            for p in _tree(self.pid):
                r, s = _rollup(p)
                rss, pss = rss + r, pss + s
            self.peak_rss, self.peak_pss = max(self.peak_rss, rss), max(self.peak_pss, pss)
            self.stop.wait(self.every)


def _child(
    mode: str, extra: list[str], timeout: float | None
) -> tuple[dict | None, float, _Sampler]:
    """Run this file in ``mode`` in a fresh interpreter; returns (result, wall seconds, sampler)."""
    cmd = [sys.executable, str(Path(__file__).resolve()), "--child", mode, *extra]
    env = dict(
        os.environ, PYTHONPATH=os.pathsep.join([str(HERE), os.environ.get("PYTHONPATH", "")])
    )
    t0 = time.perf_counter()
    proc = subprocess.Popen(
        cmd, stdout=subprocess.PIPE, text=True, start_new_session=True, env=env, cwd=ROOT
    )
    sampler = _Sampler(proc.pid)
    sampler.start()
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)  # the subprocess and its workers
        proc.communicate()
        out = None
    wall = time.perf_counter() - t0
    sampler.stop.set()
    sampler.join()
    if out is None:
        return None, wall, sampler
    if proc.returncode != 0:
        raise SystemExit(f"child {mode} {extra} failed with code {proc.returncode}")
    line = [ln for ln in out.splitlines() if ln.startswith("RESULT ")][-1]
    return json.loads(line[len("RESULT ") :]), wall, sampler


def machine() -> dict:
    import numpy
    import scipy
    import simpy

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = "unknown"
    try:
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal"):
                mem = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
    except OSError:
        pass
    return {
        "nproc": os.cpu_count(),
        "cpu": cpu,
        "memory": mem,
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "scipy": scipy.__version__,
        "simpy": simpy.__version__,
        "platform": platform.platform(),
    }


def _git() -> str:
    """The commit measured, and whether the model or scenarios differ from it."""
    try:
        head = subprocess.run(
            ["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "-C", str(ROOT), "status", "--porcelain", "model", "scenarios"],
            capture_output=True,
            text=True,
            check=False,
        ).stdout.strip()
    except OSError:
        return "unknown"
    return head + (" (model/ or scenarios/ modified)" if dirty else "")


def _load() -> str:
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def main(argv: list[str] | None = None) -> None:
    p = argparse.ArgumentParser(
        description="Time the relsim ensemble against a per-replicate reference."
    )
    p.add_argument("--sizes", type=int, nargs="*", default=[1000, 10_000, 100_000, 1_000_000])
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    p.add_argument(
        "--chunk-size", type=int, default=None, help="passed to simulate (default: its own)"
    )
    p.add_argument(
        "--scenario", default=str(DEFAULT_SCENARIO), help="timed scenario (default: stress)"
    )
    p.add_argument("--reference-replicates", type=int, default=20)
    p.add_argument(
        "--check-replicates",
        type=int,
        default=200,
        help="reference replicates for the agreement check (0 to skip it)",
    )
    p.add_argument("--check-engine-replicates", type=int, default=4000)
    p.add_argument(
        "--check-seed", type=int, default=0, help="added to the scenarios' seeds in the check"
    )
    p.add_argument("--timeout", type=float, default=300.0, help="seconds before a size is stopped")
    p.add_argument("--replay-repeat", type=int, default=5)
    p.add_argument(
        "--context-size",
        type=int,
        default=10_000,
        help="replicates for the context runs: baseline, the scenario without hazards (0: skip)",
    )
    p.add_argument("--out", default=str(HERE / "results.csv"))
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--n", type=int, help=argparse.SUPPRESS)
    p.add_argument("--engine-n", type=int, help=argparse.SUPPRESS)
    p.add_argument("--repeat", type=int, default=5, help=argparse.SUPPRESS)
    p.add_argument("--no-hazards", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args(argv)

    if args.child:
        {
            "engine": child_engine,
            "replay": child_replay,
            "reference": child_reference,
            "check": child_check,
        }[args.child](args)
        return

    import model

    sc = model.load_scenario(args.scenario)
    years = _run_years(sc)
    info = machine()
    print(f"# machine: {info}")
    print(f"# commit: {_git()}")
    print(f"# command: python {' '.join([os.path.relpath(__file__, ROOT)] + sys.argv[1:])}")
    print(
        f"# scenario: {os.path.relpath(args.scenario, ROOT)} ({sc.run.start}..{sc.run.end}, "
        f"{sc.run.record}, {years:.2f} years, {len(sc.hazards)} hazards, noise={sc.run.noise})"
    )
    print(f"# load average at start: {_load()}")
    rows: list[dict] = []

    def add(**row) -> dict:
        row.setdefault("load_avg", _load())
        rows.append(row)
        return row

    # 1. single deterministic replay of the baseline
    res, _, smp = _child(
        "replay", ["--scenario", str(BASELINE), "--repeat", str(args.replay_repeat)], None
    )
    print(
        f"replay (baseline, noise off, 1 replicate): import {res['import_s']:.3f} s, first call "
        f"{res['first_s'] * 1e3:.1f} ms, best of {args.replay_repeat} {res['best_s'] * 1e3:.1f} "
        "ms, "
        f"median {res['median_s'] * 1e3:.1f} ms"
    )
    add(
        kind="replay",
        scenario="baseline (noise off)",
        replicates=1,
        workers=1,
        seconds=res["best_s"],
        replicate_years_per_s=years / res["best_s"],
        peak_pss_mb=smp.peak_pss / 1024,
        peak_rss_mb=smp.peak_rss / 1024,
        status=f"best of {args.replay_repeat}; first call "
        f"{res['first_s'] * 1e3:.1f} ms; import {res['import_s']:.2f} s",
    )

    def reference(path: str, no_hazards: bool, label: str) -> float | None:
        """Time the reference on ``path``; returns its replicate-years per second."""
        if args.reference_replicates <= 0:
            return None
        extra = ["--scenario", path, "--n", str(args.reference_replicates)] + (
            ["--no-hazards"] if no_hazards else []
        )
        load = _load()
        res, _, smp = _child("reference", extra, None)
        rate = args.reference_replicates * res["years"] / res["seconds"]
        print(
            f"reference ({label}): {args.reference_replicates} replicates in "
            f"{res['seconds']:.2f} s = "
            f"{rate:.1f} replicate-years/s ({res['seconds'] / args.reference_replicates:.3f} s "
            "per replicate)"
        )
        add(
            kind="reference",
            scenario=label,
            replicates=args.reference_replicates,
            workers=1,
            seconds=res["seconds"],
            replicate_years_per_s=rate,
            peak_ru_mb=res["ru_self_mb"],
            peak_pss_mb=smp.peak_pss / 1024,
            peak_rss_mb=smp.peak_rss / 1024,
            load_avg=load,
            status="ok",
        )
        return rate

    finished: list[
        tuple[int, float, float]
    ] = []  # (replicates, seconds, peak PSS MB) of finished sizes

    def engine(
        path: str, n: int, no_hazards: bool, label: str, ref_rate: float | None, main: bool
    ) -> None:
        extra = ["--scenario", path, "--n", str(n), "--workers", str(args.workers)]
        extra += ["--chunk-size", str(args.chunk_size)] if args.chunk_size else []
        extra += ["--no-hazards"] if no_hazards else []
        load = _load()
        res, wall, smp = _child("engine", extra, args.timeout)
        row = {
            "kind": "engine",
            "scenario": label,
            "replicates": n,
            "workers": args.workers,
            "chunk_size": args.chunk_size or "",
            "load_avg": load,
            "peak_pss_mb": smp.peak_pss / 1024,
            "peak_rss_mb": smp.peak_rss / 1024,
        }
        if res is None:
            estimate = ""
            if main and finished:
                n2, t2, m2 = finished[-1]
                estimate = f"; estimated {t2 * n / n2:.0f} s at the rate of {n2:,}"
                if len(finished) >= 2:
                    n1, _, m1 = finished[-2]
                    estimate += (
                        f", and {m2 + (m2 - m1) / (n2 - n1) * (n - n2):.0f} MB peak PSS "
                        f"extrapolated linearly from {n1:,} and {n2:,}"
                    )
            row.update(seconds=wall, status=f"stopped after {wall:.0f} s{estimate}")
            print(
                f"engine ({label}) {n:>9}: STOPPED after {wall:.0f} s{estimate}; peak PSS so far "
                f"{smp.peak_pss / 1024:.0f} MB"
            )
        else:
            rate = n * years / res["seconds"]
            if main:
                finished.append((n, res["seconds"], smp.peak_pss / 1024))
            row.update(
                seconds=res["seconds"],
                replicate_years_per_s=rate,
                cpu_s=res["cpu_s"],
                peak_ru_mb=res["ru_self_mb"] + res["ru_children_mb"],
                status="ok",
                speedup=rate / ref_rate if ref_rate else "",
            )
            print(
                f"engine ({label}) {n:>9}: {res['seconds']:8.2f} s  {rate:10.0f} "
                "replicate-years/s  "
                f"peak ru {row['peak_ru_mb']:.0f} MB, PSS {row['peak_pss_mb']:.0f} MB, "
                f"RSS {row['peak_rss_mb']:.0f} MB (ready {res['rss_ready_mb']:.0f} MB), "
                f"CPU {res['cpu_s']:.1f} s"
                + (f"  speed-up x{rate / ref_rate:.0f}" if ref_rate else "")
            )
        add(**row)

    # 2. the per-replicate daily-step reference, same scenario; 3. the engine at each size
    ref_rate = reference(args.scenario, False, sc.name)
    for n in args.sizes:
        engine(args.scenario, n, False, sc.name, ref_rate, main=True)

    # context: where the time goes, by scenario (same sizes for engine and reference)
    if args.context_size > 0:
        for path, no_hz, label in (
            (str(BASELINE), False, "baseline"),
            (args.scenario, True, f"{sc.name} without hazards"),
        ):
            rate = reference(path, no_hz, label)
            engine(path, args.context_size, no_hz, label, rate, main=False)

    # 4. agreement of the reference with the engine
    check = []
    if args.check_replicates > 0:
        for path in dict.fromkeys([BASELINE.resolve(), Path(args.scenario).resolve()]):
            res, _, _ = _child(
                "check",
                [
                    "--scenario",
                    str(path),
                    "--n",
                    str(args.check_replicates),
                    "--engine-n",
                    str(args.check_engine_replicates),
                    "--check-seed",
                    str(args.check_seed),
                    "--workers",
                    str(args.workers),
                ],
                None,
            )
            check += res["rows"]
            _report_check(res)

    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    cols = [
        "kind",
        "scenario",
        "replicates",
        "workers",
        "chunk_size",
        "seconds",
        "replicate_years_per_s",
        "speedup",
        "cpu_s",
        "peak_ru_mb",
        "peak_pss_mb",
        "peak_rss_mb",
        "load_avg",
        "status",
    ]
    with out.open("w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=cols, extrasaction="ignore")
        w.writeheader()
        for row in rows:
            w.writerow({k: (f"{v:.4g}" if isinstance(v, float) else v) for k, v in row.items()})
    if check:
        agree = out.with_name(out.stem + "_agreement.csv")
        with agree.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=list(check[0]))
            w.writeheader()
            for row in check:
                w.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()})
        print(f"# wrote {os.path.relpath(out, ROOT)} and {os.path.relpath(agree, ROOT)}")
    else:
        print(f"# wrote {os.path.relpath(out, ROOT)}")
    print(f"# load average at end: {_load()}")
    print()
    _markdown(rows)


def _report_check(res: dict) -> None:
    import numpy as np

    rows = res["rows"]
    name = rows[0]["scenario"]
    print(
        f"agreement on {name}: engine {res['engine_n']} replicates, reference {res['reference_n']} "
        f"(reference took {res['reference_seconds']:.0f} s); yearly means of each index"
    )
    for ind in dict.fromkeys(r["indicator"] for r in rows):
        sub = [r for r in rows if r["indicator"] == ind]
        dm = np.array([r["diff_mean"] for r in sub])
        zm = dm / np.array([r["se_diff_mean"] for r in sub])
        ds = np.array([r["diff_sd"] for r in sub])
        zs = ds / np.array([r["se_diff_sd"] for r in sub])
        worst = sub[int(np.argmax(np.abs(dm)))]
        print(
            f"  {ind:9s} mean: max |diff| {np.abs(dm).max():.2f} pts ({worst['year']}), "
            f"RMS z {np.sqrt((zm**2).mean()):.2f}, |z|>3 in "
            f"{int((np.abs(zm) > 3).sum())}/{len(sub)} years; "
            f"s.d.: max |diff| {np.abs(ds).max():.2f} pts, RMS z {np.sqrt((zs**2).mean()):.2f}"
        )
    for hz, f in res["firings"].items():
        print(
            f"  firings per replicate, {hz}: engine {f['engine']:.2f}, reference "
            f"{f['reference']:.2f} "
            f"(s.e. {f['reference_se']:.2f})"
        )


def _markdown(rows: list[dict]) -> None:
    print(
        "| what | replicates | workers | seconds | CPU seconds | replicate-years/s | speed-up "
        "vs reference | "
        "peak memory MB (PSS / ru_maxrss) | status |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---|")
    for r in rows:
        rate = r.get("replicate_years_per_s")
        sp = r.get("speedup")
        ru = r.get("peak_ru_mb")
        cpu = r.get("cpu_s")
        print(
            f"| {r['kind']} ({r['scenario']}) | {r['replicates']:,} | {r['workers']} | "
            f"{r['seconds']:.3f} | "
            f"{f'{cpu:.1f}' if cpu else '—'} | "
            f"{f'{rate:,.0f}' if rate else '—'} | {f'{sp:,.0f}×' if sp else '—'} | "
            f"{r.get('peak_pss_mb', 0):,.0f} / {f'{ru:,.0f}' if ru else '—'} | {r['status']} |"
        )


if __name__ == "__main__":
    main()
