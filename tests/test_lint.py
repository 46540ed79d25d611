"""The code passes its checks: the linter and formatter (ruff), the types (mypy) and the
import layers (import-linter), all configured in pyproject.toml."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _run(*command: str) -> subprocess.CompletedProcess:
    return subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)


def test_ruff_finds_nothing():
    pytest.importorskip("ruff", reason="ruff comes with the dev extras")
    done = _run(sys.executable, "-m", "ruff", "check", "--no-cache", "model", "tests", "benchmarks")
    assert done.returncode == 0, done.stdout + done.stderr
    done = _run(sys.executable, "-m", "ruff", "format", "--check", "--no-cache", "model", "tests")
    assert done.returncode == 0, done.stdout + done.stderr


def test_mypy_finds_nothing():
    pytest.importorskip("mypy", reason="mypy comes with the dev extras")
    done = _run(sys.executable, "-m", "mypy", "--no-incremental")
    assert done.returncode == 0, done.stdout + done.stderr


def test_imports_run_one_way():
    pytest.importorskip("importlinter", reason="import-linter comes with the dev extras")
    lint = shutil.which("lint-imports") or str(Path(sys.executable).parent / "lint-imports")
    done = _run(lint, "--no-cache")
    assert done.returncode == 0, done.stdout + done.stderr
