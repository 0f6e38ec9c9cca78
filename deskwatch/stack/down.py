"""``stack_down``: stop every engine this stack started and forget them."""

from __future__ import annotations

import os
from pathlib import Path

from deskwatch.settings import StackSettings
from deskwatch.stack.docker import compose_down
from deskwatch.stack.elasticsearch import MARKER as ES_MARKER
from deskwatch.stack.kafka import MAIN_CLASS as KAFKA_MARKER
from deskwatch.stack.layout import Layout
from deskwatch.stack.lock import stack_lock
from deskwatch.stack.progress import Report, silent
from deskwatch.stack.state import clear_state, read_state
from deskwatch.stack.supervise import cmdline, stop_group


def stray_engines(home: Path) -> list[int]:
    """Engine processes running from ``home`` that no state file names (e.g. state was lost)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            line = cmdline(int(entry.name))
            is_engine = KAFKA_MARKER in line or ES_MARKER in line
            if is_engine and f"{home}/" in line:
                found.append(int(entry.name))
    return found


def stack_down(settings: StackSettings, report: Report = silent) -> None:
    """Stop the engines (SIGTERM, then SIGKILL after ``stop_timeout_s``) and clear the state."""
    layout = Layout(settings.home)
    if not layout.home.is_dir():
        return  # nothing was ever started from there
    with stack_lock(layout.home, report):
        state = read_state(layout.state_file)
        if state is not None and state.mode == "docker":
            compose_down(settings, report)
        elif state is not None:
            for record in state.engines.values():
                stop_group(record.name, record.pid, settings.stop_timeout_s, report)
        for pid in stray_engines(settings.home):
            stop_group(f"stray engine pid {pid}", _pgid(pid), settings.stop_timeout_s, report)
        clear_state(layout.state_file)


def _pgid(pid: int) -> int:
    try:
        return os.getpgid(pid)
    except ProcessLookupError:
        return pid
