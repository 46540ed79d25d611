"""--port, --host and --scheduler: every problem is one line and exit status 2."""

from __future__ import annotations

import socket
import time

import pytest

import model.parallel
from model.cli import main

from .conftest import SCENARIOS

BASELINE = str(SCENARIOS / "baseline.toml")


def one_error_line(capsys) -> str:
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err, err
    return err


@pytest.mark.parametrize(
    "args, message",
    [
        (["--port", "99999"], "--port must be <= 65535"),
        (["--port", "0"], "--port must be >= 1"),
        (["--port", "http"], "--port must be an integer"),
        (["--host", "no such host.invalid"], "--host: 'no such host.invalid' is not a known host"),
        (["--host", "192.0.2.1"], "--host: cannot listen on 192.0.2.1"),  # not this machine's
    ],
)
def test_app_refuses_bad_ports_and_hosts(args, message, capsys):
    assert main(["app", *args]) == 2
    assert message in one_error_line(capsys)


def test_app_refuses_a_port_in_use(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        port = busy.getsockname()[1]
        assert main(["app", "--port", str(port)]) == 2
    assert f"--port: {port} is already in use" in one_error_line(capsys)


def test_a_scheduler_that_does_not_answer_is_one_line(tmp_path, capsys, monkeypatch):
    pytest.importorskip("dask.distributed")
    monkeypatch.setattr(model.parallel, "SCHEDULER_TIMEOUT", 1)
    with socket.socket() as s:  # a port where nothing listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "out"
    started = time.monotonic()
    args = ["run", BASELINE, "--out", str(out), "--replicates", "2", "--no-plots"]
    assert main([*args, "--scheduler", f"tcp://127.0.0.1:{port}"]) == 2
    assert time.monotonic() - started < 15
    assert "--scheduler: no Dask scheduler answered" in one_error_line(capsys)
    assert not out.exists() and list(tmp_path.iterdir()) == []
    assert main([*args, "--scheduler", "not an address"]) == 2
    assert "is not a scheduler address" in one_error_line(capsys)


def test_the_scheduler_timeout_is_short_and_documented():
    assert model.parallel.SCHEDULER_TIMEOUT <= 10
    text = " ".join((SCENARIOS.parent / "docs" / "PERFORMANCE.md").read_text().split())
    assert f"gives up after {model.parallel.SCHEDULER_TIMEOUT} s" in text
