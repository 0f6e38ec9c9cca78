"""A second stack command on the same home waits for the first instead of racing it."""

from __future__ import annotations

import threading
import time
from pathlib import Path

from deskwatch.stack.lock import stack_lock
from deskwatch.stack.progress import silent


def test_second_holder_waits_until_the_first_releases(tmp_path: Path) -> None:
    said: list[str] = []
    entered = threading.Event()

    def second() -> None:
        with stack_lock(tmp_path, said.append):
            entered.set()

    with stack_lock(tmp_path, silent):
        worker = threading.Thread(target=second)
        worker.start()
        time.sleep(0.3)
        assert not entered.is_set()
    worker.join(timeout=5)
    assert entered.is_set()
    assert said == [f"waiting for another deskwatch stack command on {tmp_path}"]
