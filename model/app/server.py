"""Serving the page: one :class:`~.page.ClassroomPage` per visitor, errors shown, not fatal.

:func:`serve` checks the shipped baseline before it starts (a broken
``baseline.toml`` is refused with its one-line message, what ``relsim app``
prints before exiting with status 2). A scenario file broken while the page is
served is shown in the page of each new visitor, and the server keeps serving.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from typing import Any

from ..catalog import load_catalog
from ..classroom import Settings, check, compute, compute_path, scenario_dict
from ..errors import ModelError
from ..plotting.classroom import fan_chart, history_chart, path_chart
from ..scenario import scenario_from_dict
from .page import ClassroomPage

__all__ = ["check_baseline", "create_app", "serve"]


def check_baseline() -> None:
    """Raise the :class:`~model.errors.ModelError` of a shipped scenario the page cannot use."""
    scenario_from_dict(scenario_dict(check(Settings(incidents=1.0))), file="page")


def create_app() -> Any:
    """A new page for one browser session (what the server calls per visitor).

    When the page cannot be built (a scenario file broken while serving), the
    visitor gets the error instead, and the server goes on serving.
    """
    try:
        return ClassroomPage().layout()
    except ModelError as exc:
        return error_page(exc)


def error_page(exc: ModelError) -> Any:
    import panel as pn

    return pn.pane.HTML(
        '<div class="page-error" style="color:#C00000; font-size:16px">'
        f"<b>The classroom page cannot start:</b> {html.escape(str(exc))}<br>"
        "Correct the file and reload this page.</div>",
        width=900,
    )


def _warm() -> None:
    """Draw once what every visitor needs, so the first one sees the page at once and the
    first change is answered as quickly as the next."""
    record = Settings()
    change = Settings(off=(next(iter(load_catalog())),))  # any change: the record drawn beside
    history_chart(0)
    path_chart(compute_path(change), compute(record))
    fan_chart(compute(record), compute(record))


def _panel() -> Any:
    try:
        import panel as pn
    except ImportError:
        raise ModelError("the classroom page needs Panel: pip install -e '.[app]'") from None
    return pn


def serve(
    port: int = 8765,
    host: str = "127.0.0.1",
    show: bool = False,
    announce: Callable[[str], object] | None = None,
) -> int:
    """Serve the page at ``http://host:port/`` until interrupted (what ``relsim app`` runs).

    ``announce`` receives the line that says where the page is.
    """
    pn = _panel()
    check_baseline()
    _warm()
    loopback = host in ("127.0.0.1", "localhost", "::1")
    # on another address (a classroom network), browsers reach the page by whatever name
    # the machine has
    origins = [f"{host}:{port}", f"localhost:{port}", f"127.0.0.1:{port}"] if loopback else ["*"]
    if announce is not None:
        announce(f"relsim classroom page at http://{host}:{port}/ (Ctrl-C to stop)")
    pn.serve(
        {"/": create_app},
        port=port,
        address=host,
        websocket_origin=origins,
        show=show,
        title="relsim: Türkiye–Russia relations",
        verbose=False,
        start=True,
    )
    return 0
