"""Every notebook in notebooks/ runs top to bottom, shows what it draws and says what it computed.

Each notebook is executed once in a fresh ``python3`` kernel with the notebooks
folder as working directory (as when a user opens it there). Then, in the
executed notebook and in the saved file alike, every code cell that calls a
plotting function has an image output; and every number in the cells tagged
``conclusion`` is one the notebook printed (rounded as the text rounds it),
while its ``checks`` cell, which tests each statement of the conclusions on
the run's numbers, passed. The saved file is not modified, unless
``RELSIM_SAVE_NOTEBOOKS=1`` asks to save the executed notebook with its
outputs (how the shipped notebooks are re-made).
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

nbformat = pytest.importorskip("nbformat")
nbclient = pytest.importorskip("nbclient")
pytest.importorskip("ipykernel")

NOTEBOOK_DIR = Path(__file__).resolve().parent.parent / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("*.ipynb"))
KERNEL = "python3"
CELL_TIMEOUT = 600  # seconds


def _kernel_manager_class():
    """The kernel manager class for nbclient: finds ``python3`` even without a kernelspec.

    Where ``jupyter kernelspec list`` shows ``python3`` nbclient's default
    manager is used. Otherwise kernels start from ipykernel's own spec, which
    runs the interpreter running the tests.
    """
    from jupyter_client.kernelspec import KernelSpec, KernelSpecManager, NoSuchKernel
    from jupyter_client.manager import AsyncKernelManager
    from traitlets import default

    try:
        KernelSpecManager().get_kernel_spec(KERNEL)
        return AsyncKernelManager
    except NoSuchKernel:
        pass

    from ipykernel.kernelspec import get_kernel_dict

    class _IpykernelSpecs(KernelSpecManager):
        def get_kernel_spec(self, kernel_name):
            if kernel_name == KERNEL:
                return KernelSpec(resource_dir="", **get_kernel_dict())
            return super().get_kernel_spec(kernel_name)

    class _Manager(AsyncKernelManager):
        @default("kernel_spec_manager")
        def _kernel_spec_manager_default(self):
            return _IpykernelSpecs(data_dir=self.data_dir)

    return _Manager


def test_notebooks_found():
    assert NOTEBOOKS, f"no notebooks in {NOTEBOOK_DIR}"


#: A code cell that draws: a plotting function of the package, or pyplot's figures.
DRAWS = re.compile(r"\bplot_\w+\(|\bplt\.(subplots|figure)\(")
#: A number as the conclusions quote one ("4 points", "2.0 times", "1.135"), years aside.
NUMBER = re.compile(r"(?<![\w.\-/])(\d+(?:\.\d+)?)(?![\w.]*\d)")
_executed: dict[Path, object] = {}


def _execute(path: Path):
    """The notebook executed (once per test session)."""
    if path not in _executed:
        nb = nbformat.read(path, as_version=4)
        client = nbclient.NotebookClient(
            nb,
            timeout=CELL_TIMEOUT,
            kernel_name=KERNEL,
            kernel_manager_class=_kernel_manager_class(),
            allow_errors=False,
            resources={"metadata": {"path": str(path.parent)}},
        )
        try:
            client.execute()
        except nbclient.exceptions.CellExecutionError as err:
            pytest.fail(f"{path.name} failed:\n{err}", pytrace=False)
        if os.environ.get("RELSIM_SAVE_NOTEBOOKS") == "1":
            nbformat.write(nb, path)
        _executed[path] = nb
    return _executed[path]


def _missing_images(nb) -> list[str]:
    """The code cells that draw but show no image."""
    return [
        cell.source.splitlines()[0]
        for cell in nb.cells
        if cell.cell_type == "code"
        and DRAWS.search(cell.source)
        and not any("image/png" in out.get("data", {}) for out in cell.get("outputs", []))
    ]


def _printed(nb) -> str:
    """Everything the code cells printed or displayed as text."""
    parts = []
    for cell in nb.cells:
        for out in cell.get("outputs", []) if cell.cell_type == "code" else []:
            parts.append(out.get("text", ""))
            parts += [out.get("data", {}).get(k, "") for k in ("text/plain", "text/html")]
    return "\n".join(parts)


def _tagged(nb, tag: str) -> list:
    return [c for c in nb.cells if tag in c.get("metadata", {}).get("tags", [])]


def _quoted(text: str) -> list[str]:
    """The numbers a conclusion quotes: not years, headings, list markers or names."""
    text = re.sub(
        r"`[^`]*`|^#+.*$|^\s*\d+\.\s|sections? [\d, and]+|\d{4}[–-]\d{2,4}",
        " ",
        text,
        flags=re.MULTILINE,
    )
    return [n for n in NUMBER.findall(text) if not (1990 <= float(n) <= 2040 and "." not in n)]


def _found(number: str, printed: str) -> bool:
    """Whether ``printed`` holds a value that rounds to ``number`` (sign aside)."""
    places = len(number.split(".")[1]) if "." in number else 0
    for value in re.findall(r"\d+(?:\.\d+)?", printed):
        if round(abs(float(value)), places) == float(number):
            return True
    return False


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path):
    _execute(path)


@pytest.mark.slow  # each notebook is run (once for all three tests)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_every_figure_a_notebook_draws_is_shown(path: Path):
    assert _missing_images(_execute(path)) == [], "drawn, not shown (when run)"
    assert _missing_images(nbformat.read(path, as_version=4)) == [], "drawn, not shown (saved)"


@pytest.mark.slow  # each notebook is run (once for all three tests)
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_the_conclusions_are_the_numbers_the_notebook_computed(path: Path):
    nb = _execute(path)
    conclusions, checks = _tagged(nb, "conclusion"), _tagged(nb, "checks")
    assert conclusions and checks, "tag the conclusions and add a checks cell"
    report = "".join(out.get("text", "") for c in checks for out in c.get("outputs", []))
    assert "holds:" in report and "FAILS:" not in report, report
    printed = _printed(nb)
    for cell in conclusions:
        for number in _quoted(cell.source):
            assert _found(number, printed), f"{number} in the conclusions is not in the outputs"


def test_the_number_rules_read_numbers_as_a_reader_does():
    text = (
        "## 10. Conclusion\n1. about 4 points in 2035, scale 1.135, `west_floor = 55`, ±20 %,"
        " in 2019–20 (sections 2, 5 and 8)"
    )
    assert _quoted(text) == ["4", "1.135", "20"]
    assert _found("4", "x -3.79 y") and _found("2.0", "2.044") and not _found("4", "4.6")
    assert _missing_images(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("plot_x(1)")]))


def test_a_notebooks_extra_installs_jupyterlab_and_the_readme_names_it():
    import tomllib

    root = NOTEBOOK_DIR.parent
    extras = tomllib.loads((root / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert any(dep.startswith("jupyterlab") for dep in extras["notebooks"])
    assert 'pip install -e ".[notebooks]"' in (root / "README.md").read_text()
