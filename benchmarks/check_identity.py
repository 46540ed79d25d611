"""Bit-for-bit identity check of ensemble outputs across code changes (run by hand).

``save`` runs a fixed set of cases and pickles their outputs; ``compare``
runs them again and checks every array and table exactly (``np.array_equal``
on paths and samples, ``DataFrame.equals`` on the quantile, event and summary
tables, and every metadata field except the creation time, the commit and
the library versions)::

    python benchmarks/check_identity.py save /tmp/identity.pkl
    python benchmarks/check_identity.py compare /tmp/identity.pkl

Cases: stress (2,000 replicates, every path kept, two chunkings), the
baseline (200), the baseline with the balancing policy and reactions (200),
the stress scenario with the balancing policy and reactions (300), a
deterministic replay of the baseline, and 12,000 stress replicates (above the
limit where incidents are aggregated by month) on two workers; stress with
its hazards from 2004 (so that incidents interleave with dated events,
follow-ups and the policy), and stress with hazard shifts undone after two
months.
"""

from __future__ import annotations

import argparse
import datetime as dt
import pickle
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import model

SKIP_META = {"created", "git_commit", "libraries", "package_version"}


def _with_policy(sc, name="balancing", reactions=True):
    policy = sc.policy.model_copy(update={"name": name, "reactions": reactions})
    return sc.model_copy(update={"policy": policy})


def cases(quick: bool = False):
    stress = model.load_scenario(ROOT / "scenarios" / "stress.toml")
    base = model.load_scenario(ROOT / "scenarios" / "baseline.toml")
    det = base.model_copy(update={"run": base.run.model_copy(update={"noise": False})})
    out = {
        "stress2000": lambda: model.simulate(stress, replicates=2000, trajectories=True),
        "stress2000_chunks": lambda: model.simulate(
            stress, replicates=2000, trajectories=True, chunk_size=333, workers=2
        ),
        "baseline200": lambda: model.simulate(base, replicates=200, trajectories=True),
        "baseline_balancing200": lambda: model.simulate(
            _with_policy(base), replicates=200, trajectories=True
        ),
        "stress_balancing300": lambda: model.simulate(
            _with_policy(stress), replicates=300, trajectories=True, seed=11
        ),
        "replay": lambda: model.simulate(det, replicates=1, trajectories=True),
    }
    early = stress.model_copy(
        update={
            "hazards": tuple(
                [hz.model_copy(update={"start": dt.date(2004, 1, 1)}) for hz in stress.hazards]
            )
        }
    )
    out["stress_early_hazards500"] = lambda: model.simulate(
        _with_policy(early), replicates=500, trajectories=True, seed=5
    )
    lasting = stress.model_copy(
        update={
            "hazards": tuple(
                [
                    hz.model_copy(
                        update={
                            "effects": tuple(
                                [
                                    e.model_copy(update={"duration": "2m"})
                                    if e.shift is not None
                                    else e
                                    for e in hz.effects
                                ]
                            )
                        }
                    )
                    for hz in stress.hazards
                ]
            )
        }
    )
    out["stress_undone_shifts300"] = lambda: model.simulate(
        lasting, replicates=300, trajectories=True
    )
    if not quick:
        out["stress12000"] = lambda: model.simulate(
            stress, replicates=12_000, trajectories=False, workers=2
        )
    return out


def snapshot(res: model.Result) -> dict:
    return {
        "quantiles": res.quantiles,
        "events": res.events,
        "summary": res.summary,
        "paths": res.paths,
        "sample": res.sample,
        "metadata": {k: v for k, v in res.metadata.items() if k not in SKIP_META},
    }


def same(a: dict, b: dict) -> list[str]:
    bad = []
    for key in ("quantiles", "events", "summary"):
        if not (a[key].equals(b[key]) and list(a[key].dtypes) == list(b[key].dtypes)):
            bad.append(key)
    for key in ("paths", "sample"):
        if (a[key] is None) != (b[key] is None) or (
            a[key] is not None and not np.array_equal(a[key], b[key])
        ):
            bad.append(key)
    if a["metadata"] != b["metadata"]:
        bad.append("metadata")
    return bad


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("action", choices=["save", "compare"])
    p.add_argument("file")
    p.add_argument("--quick", action="store_true", help="skip the 12,000-replicate case")
    p.add_argument("--only", nargs="*", help="run only these cases")
    args = p.parse_args()
    todo = cases(args.quick)
    if args.only:
        todo = {k: v for k, v in todo.items() if k in args.only}
    if args.action == "save":
        data = {}
        for name, fn in todo.items():
            t = time.perf_counter()
            data[name] = snapshot(fn())
            print(f"{name}: {time.perf_counter() - t:.1f} s", flush=True)
        Path(args.file).write_bytes(pickle.dumps(data))
        return
    saved = pickle.loads(Path(args.file).read_bytes())
    failed = False
    for name, fn in todo.items():
        t = time.perf_counter()
        bad = same(saved[name], snapshot(fn()))
        failed |= bool(bad)
        print(
            f"{name}: {'IDENTICAL' if not bad else 'DIFFERENT: ' + ', '.join(bad)} "
            f"({time.perf_counter() - t:.1f} s)",
            flush=True,
        )
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
