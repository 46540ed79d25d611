"""Every notebook in notebooks/ runs top to bottom without an error.

Each notebook is executed in a fresh ``python3`` kernel with the notebooks
folder as working directory (as when a user opens it there). The saved file
is not modified.
"""

from __future__ import annotations

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


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_runs(path: Path):
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
