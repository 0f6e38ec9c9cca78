"""One stack command at a time per home: two test sessions must not start two brokers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from deskwatch.flock import lock_blocking, try_lock
from deskwatch.stack.progress import Report


@contextmanager
def stack_lock(home: Path, report: Report) -> Iterator[None]:
    """Hold an exclusive lock on ``home/.lock``, waiting (and saying so) while another holds it."""
    handle = try_lock(home / ".lock")
    if handle is None:
        report(f"waiting for another deskwatch stack command on {home}")
        handle = lock_blocking(home / ".lock")
    with handle:
        yield
