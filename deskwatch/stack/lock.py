"""One stack command at a time per home: two test sessions must not start two brokers."""

from __future__ import annotations

import fcntl
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deskwatch.stack.progress import Report


@contextmanager
def stack_lock(home: Path, report: Report) -> Iterator[None]:
    """Hold an exclusive lock on ``home/.lock``, waiting (and saying so) while another holds it."""
    with (home / ".lock").open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            report(f"waiting for another deskwatch stack command on {home}")
            fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
