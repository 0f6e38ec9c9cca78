"""``deskwatch stack``: failures exit non-zero with the reason; down on an unused home is a no-op."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from deskwatch.cli import main


@pytest.fixture
def taken_port() -> Iterator[int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen()
        yield sock.getsockname()[1]


def run(home: Path, *args: str, **ports: int) -> tuple[int, str]:
    env = {"DESKWATCH_STACK__HOME": str(home), "DESKWATCH_STACK__MODE": "local"}
    env |= {f"DESKWATCH_STACK__{name.upper()}": str(value) for name, value in ports.items()}
    result = CliRunner().invoke(main, ["stack", *args], env=env)
    return result.exit_code, result.output


def test_up_refuses_a_port_another_process_holds(tmp_path: Path, taken_port: int) -> None:
    code, output = run(tmp_path, "up", kafka_port=taken_port)
    assert code == 1
    assert f"kafka: port {taken_port} is taken by a process this stack did not start" in output


@pytest.mark.parametrize("command", ["down", "status"], ids=["down", "status"])
def test_unused_home_is_reported_stopped(tmp_path: Path, command: str) -> None:
    code, output = run(tmp_path / "never-used", command)
    assert code == 0
    assert not (tmp_path / "never-used").exists()
    if command == "status":
        assert [line.split()[:2] for line in output.splitlines()] == [
            ["kafka", "stopped"],
            ["elasticsearch", "stopped"],
        ]
