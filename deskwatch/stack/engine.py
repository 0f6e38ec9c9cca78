"""What the supervisor needs to know about one engine, whatever the engine is."""

from __future__ import annotations

import pwd
import shutil
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from deskwatch.stack.errors import StackError


@dataclass(frozen=True)
class EngineSpec:
    """How to start one engine and how to tell that it serves."""

    name: str
    port: int
    argv: list[str]
    cwd: Path
    log: Path
    marker: str  # a substring of its command line: tells its pid from a recycled one
    answers: Callable[[], bool]
    env: dict[str, str] = field(default_factory=dict)
    user: pwd.struct_passwd | None = None


def java_home() -> Path:
    """The JDK behind ``java`` on PATH (Elasticsearch's start script reads ES_JAVA_HOME only)."""
    java = shutil.which("java")
    if java is None:
        raise StackError("'java' is not on PATH: the local engines need a JDK 17 or newer")
    return Path(java).resolve().parent.parent


def base_env() -> dict[str, str]:
    """A small, explicit environment for engine processes (nothing leaks in from the caller)."""
    return {"PATH": "/usr/local/bin:/usr/bin:/bin", "LANG": "C.UTF-8"}


def port_open(host: str, port: int) -> bool:
    """True when something accepts TCP connections there (a cheap check before a client probe)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(2.0)
        return sock.connect_ex((host, port)) == 0
