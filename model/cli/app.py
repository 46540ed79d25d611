"""``relsim app``: the classroom page."""

from __future__ import annotations

import argparse
from typing import Any

from .common import positive

__all__ = ["add"]


def add(sub: Any) -> None:
    app = sub.add_parser("app", help="start the classroom web page")
    app.add_argument(
        "--port", type=positive("--port", 0), default=8765, help="port (default: 8765)"
    )
    app.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    app.set_defaults(func=_app)


def _app(args: argparse.Namespace) -> int:
    from ..app import serve

    try:
        return serve(port=args.port, host=args.host, announce=print)
    except KeyboardInterrupt:
        return 0
