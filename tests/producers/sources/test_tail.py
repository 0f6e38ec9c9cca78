"""The file tail end to end on the real broker: CRLF, a partial line, rotation, truncation, stop."""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import cast

import orjson
import pytest
from deskwatch.producers.parse.contract import SourceContext
from deskwatch.producers.publish import Publisher
from deskwatch.producers.sources.checkpoint import Checkpoint, CheckpointStore
from deskwatch.producers.sources.tail import FileTail, TailOptions
from deskwatch.schemas import EventBatch, decode_events_record

from deskwatch.settings import Settings, TailSettings
from deskwatch.topology import EVENTS

from .conftest import LIMITS, read_topic

pytestmark = pytest.mark.integration


def _line(name: str, pad: int = 0) -> bytes:
    return orjson.dumps({"@timestamp": "2026-11-29T08:00:00Z", "event": {"code": "7", "provider": "disk"},
                         "host": {"name": f"PC-{len(name) % 3}"}, "message": name + "." * pad})


def _until(check: Callable[[], bool], what: str, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.05)
    pytest.fail(f"timed out waiting for {what}")


def _append(path: Path, data: bytes) -> None:
    with path.open("ab") as out:
        out.write(data)


@pytest.mark.parametrize("parse_process", [False, True], ids=["in-process", "parse-process"])
def test_tail_follows_crlf_partial_rotation_truncation(
    broker_settings: Settings, publisher: Publisher, tmp_path: Path, parse_process: bool
) -> None:
    path = tmp_path / "app.jsonl"
    path.write_bytes(_line("m1", 80) + b"\r\n" + _line("m2", 80) + b"\n" + _line("m3")[:20])
    settings = TailSettings(state_dir=tmp_path / "state", poll_interval_s=0.02, checkpoint_interval_s=0.05,
                            parse_process=parse_process)
    ctx = SourceContext(source=str(path), reference_time=datetime.now(UTC))
    tail = FileTail(TailOptions(path, "jsonl", ctx, LIMITS), settings, publisher)
    store = CheckpointStore(settings.state_dir, path)
    stop = threading.Event()
    runner = threading.Thread(target=lambda: tail.run(stop.is_set))
    runner.start()

    def at(expected: int) -> Callable[[], bool]:
        def check() -> bool:
            saved = store.load()
            st = path.stat()
            return saved == Checkpoint(str(path), st.st_dev, st.st_ino, expected)
        return check

    try:
        _until(at(len(_line("m1", 80)) + 2 + len(_line("m2", 80)) + 1), "checkpoint before the partial line")
        _append(path, _line("m3")[20:] + b"\n" + _line("m4", 80) + b"\n")
        _until(lambda: at(path.stat().st_size)(), "checkpoint at end after the partial line completed")
        path.rename(tmp_path / "app.jsonl.1")
        _append(tmp_path / "app.jsonl.1", _line("m5") + b"\n")  # written to the old file after the rename
        path.write_bytes(_line("m6", 60) + b"\n")
        _until(lambda: at(path.stat().st_size)(), "checkpoint on the new file")
        with path.open("r+b") as out:
            out.truncate(0)
        path.write_bytes(_line("m7") + b"\n")  # shorter than what was read: a truncation
        _until(lambda: at(path.stat().st_size)(), "checkpoint after truncation")
    finally:
        stop.set()
        runner.join(30)
    messages = Counter(e.message.rstrip(".") for r in read_topic(broker_settings, EVENTS.name(broker_settings.kafka))
                       for e in cast(EventBatch, decode_events_record(r.value)).events)
    assert messages == {f"m{i}": 1 for i in range(1, 8)}
    assert (tail.counts.read, tail.counts.accepted) == (7, 7)
