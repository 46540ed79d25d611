"""The package as users install it: what ``import model`` pulls in, and the built wheel.

The wheel test builds the wheel, installs it (without its dependencies, which
the test environment has) into a new virtual environment, and runs the
installed command from an empty folder: a shipped scenario by name, and the
classroom page's scenarios, read from the installed package, not from a
checkout.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("matplotlib", "panel", "scipy.optimize", "SALib", "dask", "statsmodels")


def _python(code: str, cwd: Path | None = None, python: str = sys.executable) -> str:
    done = subprocess.run([python, "-c", code], capture_output=True, text=True, cwd=cwd, check=True)
    return done.stdout.strip()


def test_importing_model_does_not_import_the_heavy_libraries():
    code = f"import sys, model; print([m for m in {HEAVY!r} if m in sys.modules])"
    assert _python(code) == "[]"


@pytest.mark.slow
def test_the_built_wheel_runs_a_shipped_scenario_by_name(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(dist),
            str(ROOT),
        ],
        check=True,
        capture_output=True,
    )
    wheel = next(dist.glob("relsim-*.whl"))
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", str(venv)], check=True)
    python = str(venv / "bin" / "python")
    subprocess.run(
        [python, "-m", "pip", "install", "-q", "--no-deps", str(wheel)],
        check=True,
        capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    where = _python("import model; print(model.__file__)", cwd=work, python=python)
    assert where.startswith(str(venv)), where  # the installed copy, not the checkout
    out = work / "out"
    done = subprocess.run(
        [
            str(venv / "bin" / "relsim"),
            "run",
            "baseline",
            "--replicates",
            "5",
            "--no-plots",
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        cwd=work,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads((out / "metadata.json").read_text())["scenario"] == "baseline"
    page = (
        "from model.classroom import Settings, scenario_dict; import model; "
        "print(sorted(model.shipped_scenarios())[:2], len(scenario_dict(Settings(incidents=1.0))"
        "['hazards']))"
    )
    assert _python(page, cwd=work, python=python) == "['akkuyu-online', 'baseline'] 4"
