"""The quick loop (`pytest -m "not slow"`) leaves out the end-to-end tests, and only them."""

from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT


def _collected(marker: str) -> list[str]:
    out = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "--collect-only",
            "-q",
            "-m",
            marker,
            "-p",
            "no:cacheprovider",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if "::" in line]


def test_the_slow_marker_holds_the_browser_notebooks_wheel_and_type_checker():
    slow = _collected("slow")
    for part in (
        "test_notebooks.py::test_notebook_runs",
        "test_app.py::test_page_loads",
        "test_packaging.py::test_the_built_wheel",
        "test_lint.py::test_mypy",
    ):
        assert any(part in nodeid for nodeid in slow), part
    quick = _collected("not slow")
    assert len(quick) > 5 * len(slow)
    assert not set(slow) & set(quick)
