"""Advisory file locks (``flock``) held for a process's life: the kernel drops them with the
process, even on SIGKILL, so a lock left behind by a crash never needs cleaning up.

Three things use them: one stack command at a time per engine home (``deskwatch/stack/lock.py``),
one processor worker per data dir (``processors/group_member.py``) and one sink or webhook relay
per member slot (``sinks/static_member.py``). Each open of the file is its own lock holder, so
two holders in one process exclude each other as two processes do.
"""

from __future__ import annotations

import fcntl
import time
from pathlib import Path
from typing import IO


def try_lock(path: Path) -> IO[str] | None:
    """An open handle holding ``path``'s exclusive lock, or None when another holder has it.
    Keep the handle open for as long as the lock must hold; closing it releases the lock."""
    handle = path.open("a")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        return None
    return handle


def lock_within(path: Path, wait_s: float, poll_s: float = 0.2) -> IO[str] | None:
    """``try_lock``, again every ``poll_s`` for up to ``wait_s`` (a previous holder may still be
    exiting); None when it is still held then."""
    deadline = time.monotonic() + wait_s
    while (handle := try_lock(path)) is None:
        if time.monotonic() >= deadline:
            return None
        time.sleep(poll_s)
    return handle


def lock_blocking(path: Path) -> IO[str]:
    """Wait as long as it takes for ``path``'s exclusive lock."""
    handle = path.open("a")
    fcntl.flock(handle, fcntl.LOCK_EX)
    return handle
