"""File locks held per open handle: two holders exclude each other, even in one process."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from deskwatch.flock import lock_blocking, lock_within, try_lock


def test_a_second_holder_is_refused_until_the_first_closes(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    first = try_lock(path)
    assert first is not None
    assert try_lock(path) is None
    started = time.monotonic()
    assert lock_within(path, wait_s=0.3, poll_s=0.05) is None
    assert time.monotonic() - started >= 0.3
    first.close()
    second = try_lock(path)
    assert second is not None
    second.close()


def test_lock_within_takes_the_lock_when_its_holder_lets_go_in_time(tmp_path: Path) -> None:
    path = tmp_path / "x.lock"
    first = lock_blocking(path)
    threading.Timer(0.2, first.close).start()
    taken = lock_within(path, wait_s=5.0, poll_s=0.05)
    assert taken is not None
    taken.close()
