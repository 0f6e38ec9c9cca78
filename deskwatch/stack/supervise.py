"""Detached engine processes: spawn in their own session, observe, stop the whole group."""

from __future__ import annotations

import os
import pwd
import signal
import subprocess
import time
from collections import deque
from pathlib import Path

from deskwatch.stack.progress import Report


def spawn(
    argv: list[str], *, cwd: Path, env: dict[str, str], log: Path, user: pwd.struct_passwd | None
) -> subprocess.Popen[bytes]:
    """Start ``argv`` detached (own session, so it outlives us and stops as one group)."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("ab") as out:
        # Logs are appended across starts: a header tells this run's lines from the last one's.
        stamp = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        out.write(f"=== deskwatch stack: {stamp} starting {' '.join(argv)}\n".encode())
        out.flush()
        # Popen(user=...) instead of runuser: no PAM process in between, so the pid we record
        # is the engine's own and its group holds only engine processes.
        return subprocess.Popen(
            argv,
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
            user=user.pw_uid if user else None,
            group=user.pw_gid if user else None,
            extra_groups=[] if user else None,
        )


def _stat_fields(pid: int) -> list[str] | None:
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return None
    # The command name (field 2) may hold spaces; everything after its ')' splits cleanly.
    return raw[raw.rindex(")") + 2 :].split()


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass  # not our child: its parent (init) reaps it


def alive(pid: int) -> bool:
    """True when ``pid`` runs and is not a zombie (an exited child of ours is reaped here)."""
    _reap(pid)
    fields = _stat_fields(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def cmdline(pid: int) -> str:
    """The process's command line joined by spaces, '' when it is gone."""
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (FileNotFoundError, ProcessLookupError, PermissionError):
        return ""


def group_members(pgid: int) -> list[int]:
    """Live (non-zombie) processes whose process group is ``pgid``."""
    members = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            fields = _stat_fields(int(entry.name))
            if fields and fields[0] not in ("Z", "X") and int(fields[2]) == pgid:
                members.append(int(entry.name))
    return members


def _signal_group(pgid: int, sig: signal.Signals) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass


def _wait_group_gone(pgid: int, timeout_s: float) -> bool:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        _reap(pgid)
        if not group_members(pgid):
            return True
        time.sleep(0.2)
    return not group_members(pgid)


def stop_group(name: str, pgid: int, timeout_s: float, report: Report) -> None:
    """SIGTERM the engine's whole group, wait, then SIGKILL what is left after ``timeout_s``."""
    if not group_members(pgid):
        return
    report(f"{name}: stopping (SIGTERM to process group {pgid})")
    _signal_group(pgid, signal.SIGTERM)
    if _wait_group_gone(pgid, timeout_s):
        report(f"{name}: stopped")
        return
    report(f"{name}: still running after {timeout_s:.0f}s, sending SIGKILL")
    _signal_group(pgid, signal.SIGKILL)
    _wait_group_gone(pgid, 10.0)


def tail(path: Path, lines: int = 30) -> str:
    """The last ``lines`` lines of a log, or a note that it is missing."""
    try:
        with path.open("r", errors="replace") as f:
            return "".join(deque(f, maxlen=lines))
    except FileNotFoundError:
        return f"(no log at {path})\n"
