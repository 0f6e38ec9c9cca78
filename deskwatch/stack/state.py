"""The state file: which engine processes this stack started, so ``up`` can reuse them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict


class EngineRecord(BaseModel):
    """One started engine: its process group leader, port, log and the command that ran."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    pid: int
    port: int
    log: Path
    command: list[str]


class StackState(BaseModel):
    """Everything ``down`` and ``status`` need, written after every change."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    mode: Literal["local", "docker"]
    engines: dict[str, EngineRecord] = {}
    security: Literal["off", "on"] = "off"  # engines started plain are never reused as secured


def read_state(path: Path) -> StackState | None:
    """The recorded state, or None when nothing was started."""
    if not path.exists():
        return None
    return StackState.model_validate_json(path.read_text())


def write_state(path: Path, state: StackState) -> None:
    """Replace the state file atomically, so a crash never leaves half a JSON document."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(state.model_dump_json(indent=2))
    os.replace(tmp, path)


def clear_state(path: Path) -> None:
    """Forget every engine (after they are stopped)."""
    path.unlink(missing_ok=True)
