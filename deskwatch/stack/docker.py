"""The Docker path: when a Docker engine answers, the engines run from docker-compose.yml."""

from __future__ import annotations

import os
import subprocess

from deskwatch.settings import StackSettings
from deskwatch.stack.errors import EngineStartError
from deskwatch.stack.progress import Report

ENGINE_SERVICES = ("kafka", "elasticsearch")


def docker_answers() -> bool:
    """True when ``docker info`` reaches a Docker engine (a client alone is not enough)."""
    try:
        done = subprocess.run(["docker", "info"], capture_output=True, timeout=20, check=False)
    except (FileNotFoundError, subprocess.TimeoutExpired):
        return False
    return done.returncode == 0


def compose_env(settings: StackSettings) -> dict[str, str]:
    """Variables docker-compose.yml interpolates, so published ports follow the settings."""
    return {
        "DESKWATCH_KAFKA_PORT": str(settings.kafka_port),
        "DESKWATCH_ES_PORT": str(settings.es_http_port),
    }


# The compose file secures Elasticsearch by default; `deskwatch stack up` runs it the way
# stack.security says, and the Docker path supports only "off" (see up.choose_mode).
UNSECURED_ES = {"DESKWATCH_ES_SECURITY": "false", "DESKWATCH_ES_SCHEME": "http"}


def compose_command(settings: StackSettings, *args: str) -> list[str]:
    """``docker compose -f <file> <args>``."""
    return ["docker", "compose", "-f", str(settings.compose_file), *args]


def _compose(settings: StackSettings, *args: str) -> None:
    command = compose_command(settings, *args)
    # docker needs its own variables (DOCKER_HOST, …)
    env = os.environ | compose_env(settings) | UNSECURED_ES
    done = subprocess.run(command, capture_output=True, text=True, env=env, check=False)
    if done.returncode != 0:
        raise EngineStartError(
            f"docker: {' '.join(command)} exited {done.returncode}:\n{done.stderr}"
        )


def compose_up(settings: StackSettings, report: Report) -> None:
    """Start the engine services detached (their readiness is probed by the caller)."""
    report(f"docker: starting {', '.join(ENGINE_SERVICES)} from {settings.compose_file}")
    _compose(settings, "up", "-d", *ENGINE_SERVICES)


def compose_down(settings: StackSettings, report: Report) -> None:
    """Stop and remove the engine services."""
    report(f"docker: stopping {', '.join(ENGINE_SERVICES)}")
    _compose(settings, "rm", "-s", "-f", *ENGINE_SERVICES)
