"""The Docker path: mode choice everywhere, the real compose engines where Docker answers."""

from __future__ import annotations

from pathlib import Path

import pytest

from deskwatch.settings import StackSettings
from deskwatch.stack.docker import compose_command, compose_env, docker_answers
from deskwatch.stack.errors import StackError
from deskwatch.stack.up import choose_mode

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("mode", "docker_ok", "expected"),
    [
        ("auto", True, "docker"),
        ("auto", False, "local"),
        ("local", True, "local"),
        ("docker", True, "docker"),
    ],
    ids=["auto-docker", "auto-local", "forced-local", "forced-docker"],
)
def test_choose_mode(mode: str, docker_ok: bool, expected: str) -> None:
    assert choose_mode(StackSettings(mode=mode), docker_ok) == expected  # type: ignore[arg-type]


def test_docker_mode_without_docker_fails_clearly() -> None:
    with pytest.raises(StackError, match="no Docker engine answers"):
        choose_mode(StackSettings(mode="docker"), docker_ok=False)


def test_compose_gets_the_settings_ports() -> None:
    settings = StackSettings(kafka_port=29092, es_http_port=29200, compose_file=Path("/x/c.yml"))
    assert compose_env(settings) == {"DESKWATCH_KAFKA_PORT": "29092", "DESKWATCH_ES_PORT": "29200"}
    assert compose_command(settings, "up", "-d") == [
        "docker",
        "compose",
        "-f",
        "/x/c.yml",
        "up",
        "-d",
    ]


@pytest.mark.docker
@pytest.mark.skipif(not docker_answers(), reason="no Docker engine answers")
def test_compose_engines_serve(tmp_path: Path) -> None:
    from deskwatch.stack import ensure_up, stack_down, stack_status

    settings = StackSettings(mode="docker", home=tmp_path, compose_file=ROOT / "docker-compose.yml")
    found = ensure_up(settings)
    try:
        assert found.kafka_bootstrap == f"127.0.0.1:{settings.kafka_port}"
        assert all(engine.running for engine in stack_status(settings))
    finally:
        stack_down(settings)
