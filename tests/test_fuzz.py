"""A standing fuzz test of scenario files: only the package's own errors may escape, nothing hangs.

Hypothesis writes scenario files of three kinds and loads them with
:func:`model.load_scenario`:

- documents built from the schema's own keys, each value typed at random
  (numbers including NaN, +-inf, huge and negative ones, text, dates,
  durations, tables and arrays);
- the shipped scenarios with one to three values replaced, deleted or added,
  the new values drawn the same way;
- raw bytes and TOML text cut at random;
- nesting, key length, entries and string length around their limits.

Loading may raise only a :class:`~model.errors.ModelError`, as one line. A
scenario that loads is run for two replicates under a time limit (the run
shortened to a few years first): again only the package's errors may
escape, no numerical warning (an overflow, a NaN) may be raised, and the run
must end within the limit. The whole file runs in well
under a minute (``tests/test_hostile_input.py`` keeps the smallest failing
example of each class this test once found).
"""

from __future__ import annotations

import contextlib
import copy
import datetime as dt
import math
import shutil
import signal
import tempfile
import warnings
from pathlib import Path

import pytest
import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import model
from model.errors import ModelError
from model.scenario import read_shipped, shipped_scenarios

from .conftest import SCENARIOS

#: Seconds a loaded scenario's two-replicate run may take (they take well under one).
RUN_LIMIT = 20
#: Seconds a load may take.
LOAD_LIMIT = 10

FUZZ = settings(
    max_examples=200,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)


class Hang(Exception):
    """A load or run that did not end within its limit."""


@contextlib.contextmanager
def time_limit(seconds: float):
    """Raise :class:`Hang` in this thread if the block runs longer than ``seconds``."""

    def alarm(signum, frame):
        raise Hang(f"did not end within {seconds} s")

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


# ------------------------------------------------------------------ typed values

numbers = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([math.nan, math.inf, -math.inf, 1e300, -1e300, 1e-300, 0.0, -0.0, -1.0]),
    st.sampled_from([1e6, -1e6, 1e6 + 1, 1e-6, 1e-3, 2.7e-3, 10.0, 365.0, 366.0, 2**63]),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.integers(min_value=-5, max_value=400),
    st.floats(min_value=-200, max_value=200),
)
durations = st.sampled_from(
    ["0.1d", "0.4m", "1d", "3m", "18m", "2y", "300y", "301y", "100000y", "-1y", "1x", ""]
)
dates = st.dates(min_value=dt.date(1, 1, 1), max_value=dt.date(9999, 12, 31))
run_dates = st.dates(min_value=dt.date(1995, 1, 1), max_value=dt.date(2040, 12, 31))
plain = st.one_of(
    numbers,
    st.text(max_size=12),
    st.booleans(),
    dates,
    durations,
    st.sampled_from(["trade", "energy", "security", "west", "baseline.toml", "balancing"]),
)
dists = st.fixed_dictionaries(
    {"dist": st.sampled_from(["normal", "uniform", "triangular", "lognormal", "beta"])},
    optional={k: numbers for k in ("mean", "sd", "low", "high", "mode", "median", "sigma")},
)
values = st.recursive(
    st.one_of(plain, dists),
    lambda inner: st.one_of(
        st.lists(inner, max_size=3), st.dictionaries(st.text(max_size=6), inner, max_size=3)
    ),
    max_leaves=6,
)


def maybe(strategy):
    """A plausible value seven times in eight, a typed one (any type, any number) otherwise."""
    return st.integers(0, 7).flatmap(lambda k: values if k == 0 else strategy)


#: Plausible sizes of effects and parameters (the typed branch of :func:`maybe` brings the rest).
sizes = st.floats(min_value=-30, max_value=30)
positive = st.floats(min_value=0.05, max_value=20)
small_dists = st.one_of(
    st.builds(lambda m, s: {"dist": "normal", "mean": m, "sd": s}, sizes, positive),
    st.builds(lambda lo, w: {"dist": "uniform", "low": lo, "high": lo + w}, sizes, positive),
    st.builds(lambda m, s: {"dist": "lognormal", "median": m, "sigma": s}, positive, positive),
)


effects = st.fixed_dictionaries(
    {"indicator": maybe(st.sampled_from(["trade", "energy", "security", "west"]))},
    optional={
        "jump": maybe(st.one_of(sizes, small_dists)),
        "shift": maybe(st.one_of(sizes, small_dists)),
        "duration": maybe(durations),
        "damped_by": maybe(st.sampled_from(["trade", "energy"])),
    },
)
events = st.fixed_dictionaries(
    {
        "id": maybe(st.sampled_from(["a", "b", "c", "coup-attempt-2016"])),
        "title": maybe(st.just("t")),
        "effects": maybe(st.lists(effects, min_size=1, max_size=2)),
    },
    optional={
        "date": maybe(run_dates),
        "after": maybe(
            st.fixed_dictionaries(
                {
                    "event": st.sampled_from(["a", "b", "c", "coup-attempt-2016"]),
                    "days": st.integers(0, 4000),
                }
            )
        ),
        "condition": maybe(st.sampled_from(["trade < 50", "security >", "x > 1"])),
        "requires": maybe(st.lists(st.sampled_from(["a", "b", "c", "coup-attempt-2016"]))),
    },
)
hazards = st.fixed_dictionaries(
    {
        "id": maybe(st.sampled_from(["h", "k"])),
        "title": st.just("h"),
        "rate": maybe(st.one_of(positive, small_dists)),
        "effects": maybe(st.lists(effects, min_size=1, max_size=2)),
    },
    optional={
        "indicator": maybe(st.sampled_from(["trade", "security"])),
        "elasticity": maybe(st.floats(-0.05, 0.05)),
        "reference": maybe(st.floats(0, 100)),
        "start": maybe(run_dates),
        "end": maybe(run_dates),
    },
)
index = st.fixed_dictionaries(
    {},
    optional={k: maybe(st.floats(1, 99)) for k in ("initial", "baseline")}
    | {"half_life": maybe(st.one_of(positive, small_dists))}
    | {"sigma": maybe(st.floats(0, 1)), "crisis": maybe(st.floats(1, 99))},
)
documents = st.fixed_dictionaries(
    {"name": maybe(st.just("fuzz"))},
    optional={
        "extends": maybe(st.sampled_from(["baseline.toml", "stress.toml", ".", "", "/dev/zero"])),
        "run": st.fixed_dictionaries(
            {},
            optional={
                "start": maybe(run_dates),
                "end": maybe(run_dates),
                "replicates": maybe(st.integers(1, 5)),
                "seed": maybe(st.integers(0, 2**64)),
                "record": maybe(st.sampled_from(["monthly", "yearly", "daily"])),
            },
        ),
        "events": st.fixed_dictionaries(
            {},
            optional={
                "add": st.lists(events, max_size=3),
                "scopes": maybe(st.lists(st.sampled_from(["brief", "context", "x"]), max_size=2)),
                "drop": maybe(
                    st.lists(
                        st.sampled_from(["coup-attempt-2016", "lira-crisis-2018", "x"]), max_size=2
                    )
                ),
                "scale": maybe(st.dictionaries(st.sampled_from(["coup-attempt-2016"]), sizes)),
                "move": maybe(st.dictionaries(st.sampled_from(["coup-attempt-2016"]), dates)),
            },
        ),
        "indices": st.dictionaries(st.sampled_from(["trade", "energy", "tourism"]), index),
        "hazards": st.lists(hazards, max_size=2),
        "spillover": maybe(
            st.dictionaries(
                st.sampled_from(["trade", "west"]),
                st.dictionaries(
                    st.sampled_from(["security", "energy"]), st.floats(0, 0.2), max_size=2
                ),
                max_size=2,
            )
        ),
        "damping": maybe(st.floats(0, 1)),
        "policy": st.fixed_dictionaries(
            {},
            optional={
                "name": maybe(st.sampled_from(["balancing", "passive", "rules"])),
                "every": maybe(durations),
                "start": maybe(dates),
                "params": maybe(
                    st.dictionaries(st.sampled_from(["west_floor"]), st.floats(0, 100))
                ),
            },
        ),
    },
)


# ------------------------------------------------------------------ the property


@pytest.fixture(scope="module")
def folder():
    """A folder with the shipped scenarios, for files that extend them."""
    with tempfile.TemporaryDirectory() as name:
        for path in SCENARIOS.glob("*.toml"):
            shutil.copy(path, name)
        yield Path(name)


def dump(data: dict) -> str | None:
    """``data`` as TOML, or None when TOML cannot hold it (tomli_w refuses a few values)."""
    try:
        return tomli_w.dumps(data)
    except (TypeError, ValueError):
        return None


def load_and_run(path: Path) -> None:
    """Load ``path``; if it loads, run two replicates of a few years: only the package's own
    errors may escape, as one line, and nothing may take longer than its limit."""
    try:
        with time_limit(LOAD_LIMIT):
            sc = model.load_scenario(path)
    except ModelError as exc:
        assert "\n" not in str(exc), str(exc)
        return
    end = min(sc.run.end, dt.date(sc.run.start.year + 4, 12, 31))
    short = sc.model_copy(update={"run": sc.run.model_copy(update={"end": end})})
    try:
        with time_limit(RUN_LIMIT), warnings.catch_warnings():
            warnings.simplefilter("error", RuntimeWarning)  # an overflow or a NaN is a failure
            model.simulate(short, replicates=2, trajectories=False, workers=1)
    except ModelError as exc:
        assert "\n" not in str(exc), str(exc)


def write_and_run(path: Path, doc: dict) -> None:
    """``doc`` written to ``path`` as TOML (when it can be) and loaded and run."""
    if (text := dump(doc)) is not None:
        path.write_text(text)
        load_and_run(path)


@FUZZ
@given(doc=documents)
def test_random_scenario_documents(folder, doc):
    write_and_run(folder / "fuzz.toml", doc)


SHIPPED = sorted(shipped_scenarios())


def _leaves(node, prefix=()):
    if isinstance(node, dict):
        for key, value in node.items():
            yield prefix + (key,)
            yield from _leaves(value, prefix + (key,))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield prefix + (i,)
            yield from _leaves(value, prefix + (i,))


def like(value):
    """Values of the type of ``value``, mostly (a number for a number, a date for a date)."""
    if isinstance(value, bool):
        return st.booleans()
    if isinstance(value, int | float):
        return numbers
    if isinstance(value, dt.date):
        return dates
    if isinstance(value, str):
        return st.one_of(durations, st.text(max_size=12), st.sampled_from(["trade", "a"]))
    return values


@st.composite
def mutated(draw):
    """A shipped scenario with one to three values replaced, deleted or added."""
    name = draw(st.sampled_from(SHIPPED))
    data = copy.deepcopy(read_shipped(name))
    paths = list(_leaves(data))
    for _ in range(draw(st.integers(1, 3))):
        path = draw(st.sampled_from(paths))
        action = draw(st.sampled_from(["replace", "replace", "replace", "delete", "add"]))
        parent = data
        try:
            for key in path[:-1]:
                parent = parent[key]
            value = draw(st.one_of(like(parent[path[-1]]), values))
            if action == "replace":
                parent[path[-1]] = value
            elif action == "delete":
                del parent[path[-1]]
            elif isinstance(parent, dict):
                parent[f"{path[-1]}_x"] = value
        except (KeyError, IndexError, TypeError):
            continue
    return data


@FUZZ
@given(doc=mutated())
def test_mutations_of_the_shipped_scenarios(folder, doc):
    write_and_run(folder / "mutant.toml", doc)


@FUZZ
@given(
    cut=st.integers(0, 3000),
    junk=st.binary(max_size=40),
    name=st.sampled_from(SHIPPED),
)
def test_cut_and_corrupted_files(folder, cut, junk, name):
    raw = (SCENARIOS / f"{name}.toml").read_bytes()
    path = folder / "cut.toml"
    path.write_bytes(raw[:cut] + junk)
    try:
        with time_limit(LOAD_LIMIT):
            model.load_scenario(path)
    except ModelError as exc:
        assert "\n" not in str(exc), str(exc)


@settings(FUZZ, max_examples=40)
@given(
    depth=st.integers(0, 40),
    arrays=st.booleans(),
    key=st.integers(1, 300),
    items=st.integers(0, 2500),
    text=st.integers(0, 200_000),
)
def test_sizes_near_the_limits(folder, depth, arrays, key, items, text):
    """Nesting, key length, entries and string length around their limits: a load ends within
    its limit with a scenario or one line."""
    deep = "[" * depth + "1" + "]" * depth if arrays else "1"
    table = ".".join(["t"] * depth) if not arrays and depth else "t"
    body = (
        'name = "x"\nextends = "baseline.toml"\n'
        f'description = "{"d" * text}"\n'
        f"{'k' * key} = {deep}\n"
        f"[events]\ndrop = [{', '.join(f'{chr(34)}e{i}{chr(34)}' for i in range(items))}]\n"
        f"[{table}]\nv = 1\n"
    )
    path = folder / "sizes.toml"
    path.write_text(body)
    try:
        with time_limit(LOAD_LIMIT):
            model.load_scenario(path)
    except ModelError as exc:
        assert "\n" not in str(exc) and len(str(exc)) < 1500, str(exc)[:200]
    else:
        raise AssertionError("a scenario with unknown keys loaded")
