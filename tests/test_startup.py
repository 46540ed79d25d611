"""How the command starts: what ``relsim --help`` and ``relsim validate`` import, and how a
command line that cannot be read, or a missing extra, is reported.

Each check runs in a new interpreter, so that nothing another test imported counts.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("pandas", "scipy", "matplotlib", "SALib", "statsmodels", "pyarrow", "dask", "panel")
BASELINE = str(ROOT / "scenarios" / "baseline.toml")
STRESS = str(ROOT / "scenarios" / "stress.toml")


def _python(code: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, check=False
    )


def _imported_after(argv: list[str]) -> tuple[int, list[str], str]:
    code = (
        "import contextlib, io, json, sys\n"
        "from model.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        f"    status = main({argv!r})\n"
        f"print(json.dumps([status, [m for m in {HEAVY!r} if m in sys.modules]]))\n"
    )
    done = _python(code)
    assert done.returncode == 0, done.stderr
    status, modules = json.loads(done.stdout)
    return status, modules, done.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["--help"],
        ["run", "--help"],
        ["validate", BASELINE],
        ["validate", STRESS],
        ["show", STRESS],
        ["scenarios"],
    ],
    ids=["help", "run-help", "validate-baseline", "validate-stress", "show-stress", "scenarios"],
)
def test_help_and_validate_import_no_heavy_library(argv):
    status, modules, _ = _imported_after(argv)
    assert status == 0
    assert modules == []


def test_help_does_not_even_import_numpy_or_pydantic():
    code = (
        "import contextlib, io, sys\n"
        "from model.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    main(['--help']); main(['run', '--help'])\n"
        "print(sorted(m for m in ('numpy', 'pydantic', 'model.scenario') if m in sys.modules))\n"
    )
    assert _python(code).stdout.strip() == "[]"


def test_a_bad_scenario_is_reported_without_heavy_libraries():
    bad = str(ROOT / "tests" / "data" / "bad_scenarios" / "unknown_event_drop.toml")
    status, modules, _ = _imported_after(["validate", bad])
    assert status == 2 and modules == []


def test_the_library_is_still_there_on_first_use():
    done = _python(
        "import sys, model\n"
        "assert 'pandas' not in sys.modules\n"
        "sc = model.load_scenario('baseline')\n"
        "cmp = model.compare_policies\n"
        "import model.compare\n"  # the module of that name does not hide the function
        "print(callable(model.compare), model.simulate(sc, replicates=2).quantiles.shape[0] > 0)\n"
        "print(model.scenario.PolicyRule.__name__, hasattr(model, 'nosuch'))"
    )
    assert done.stdout.split() == ["True", "True", "PolicyRule", "False"], done.stderr


@pytest.mark.parametrize(
    ("argv", "prefix"),
    [
        (["--bogus"], "relsim: error: unrecognized arguments: --bogus"),
        (["run", BASELINE, "--bogus"], "relsim run: error: unrecognized arguments: --bogus"),
        (["run"], "relsim run: error: the following arguments are required: scenario"),
        (["frobnicate"], "relsim: error: argument command: invalid choice: 'frobnicate'"),
        # a flag is taken only as written in full, never as the start of another
        (
            ["run", BASELINE, "--replicate", "5"],
            "relsim run: error: unrecognized arguments: --replicate 5",
        ),
    ],
)
def test_a_command_line_that_cannot_be_read_is_one_line(argv, prefix, capsys):
    from model.cli import main

    assert main(argv) == 2
    out, err = capsys.readouterr()
    assert out == ""
    assert err.startswith(prefix)
    assert err.count("\n") == 1 and err.count("relsim") == 1 and err.count("error:") == 1


def test_scheduler_without_the_dask_extra_names_the_extra(tmp_path):
    out = tmp_path / "out"
    done = _python(
        "import sys\n"
        "sys.modules['dask'] = None  # as if the dask extra were not installed\n"
        "from model.cli import main\n"
        f"sys.exit(main(['run', {BASELINE!r}, '--scheduler', 'local', '--out', {str(out)!r}]))"
    )
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1
    assert "--scheduler" in done.stderr and 'pip install -e ".[dask]"' in done.stderr
    assert "ModuleNotFoundError" not in done.stderr and "Traceback" not in done.stderr
    assert not out.exists()


def test_the_library_names_the_extra_too(monkeypatch):
    from model.errors import ArgumentError
    from model.parallel import run_tasks

    monkeypatch.setitem(sys.modules, "dask", None)
    monkeypatch.delitem(sys.modules, "dask.distributed", raising=False)
    with pytest.raises(ArgumentError, match=r"dask extra"):
        list(run_tasks(abs, [(1,), (2,)], [1, 1], scheduler="local"))
