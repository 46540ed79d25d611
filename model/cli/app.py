"""``relsim app``: the classroom page."""

from __future__ import annotations

import argparse
import errno
import signal
import socket
from typing import Any

from ..errors import ArgumentError
from .common import positive

__all__ = ["add", "check_address"]


def add(sub: Any) -> None:
    app = sub.add_parser("app", help="start the classroom web page")
    app.add_argument("--port", type=_port, default=8765, help="port, 1 to 65535 (default: 8765)")
    app.add_argument(
        "--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1)"
    )
    app.set_defaults(func=_app)


def _port(text: str) -> int:
    value: int = positive("--port", 1)(text)
    if value > 65535:
        raise argparse.ArgumentTypeError(f"--port must be <= 65535 (got {value})")
    return value


def check_address(host: str, port: int) -> None:
    """That this machine can listen on ``host:port`` now; an :class:`ArgumentError` if not."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    except (socket.gaierror, UnicodeError, ValueError):
        raise ArgumentError("host", f"{host!r} is not a known host name or address") from None
    family, kind, proto, _, address = infos[0]
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the server does
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ArgumentError("port", f"{port} is already in use on {host}") from None
            if exc.errno == errno.EACCES:
                raise ArgumentError("port", f"{port} needs privileges to listen on") from None
            raise ArgumentError(
                "host", f"cannot listen on {host}:{port} ({exc.strerror or exc})"
            ) from None


def _app(args: argparse.Namespace) -> int:
    from ..app import serve

    check_address(args.host, args.port)
    # the page writes nothing: SIGTERM ends it at once, as it ends any server
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    try:
        return serve(port=args.port, host=args.host, announce=print)
    except KeyboardInterrupt:
        return 0
