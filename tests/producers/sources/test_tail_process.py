"""The tail's reader process on the real broker: its failures are errors in the tail, never a quiet
stop, and it never outlives the tail (SIGTERM: flushed exit; SIGKILL: dies with it)."""

from __future__ import annotations

import signal
import threading
import time
from datetime import UTC, datetime
from pathlib import Path

import orjson
import psutil
import pytest
from deskwatch.producers.parse.contract import SourceContext, UnknownFormatError
from deskwatch.producers.publish import Publisher
from deskwatch.producers.sources.checkpoint import CheckpointStore
from deskwatch.producers.sources.tail import FileTail, TailOptions
from deskwatch.producers.sources.tail_process import TailProcessError

from deskwatch.components import Component, write_settings_file
from deskwatch.settings import Settings, TailSettings

from .conftest import LIMITS

pytestmark = pytest.mark.integration


def _lines(n: int) -> bytes:
    return b"".join(orjson.dumps({"@timestamp": "2026-11-29T08:00:00Z", "event": {"code": "7", "provider": "disk"},
                                  "host": {"name": f"PC-{i % 7}"}, "message": f"line {i}"}) + b"\n"
                    for i in range(n))


def _tail(path: Path, tmp_path: Path, publisher: Publisher, parse_process: bool, until_eof: bool,
          fmt: str = "jsonl") -> FileTail:
    settings = TailSettings(state_dir=tmp_path / "state", poll_interval_s=0.02,
                            checkpoint_interval_s=0.05, parse_process=parse_process)
    ctx = SourceContext(source=str(path), reference_time=datetime.now(UTC))
    return FileTail(TailOptions(path, fmt, ctx, LIMITS, until_eof=until_eof), settings, publisher)


# (id, parse_process, the path is a folder, format, error raised by run, what its message says)
FAILURES = [
    ("folder-in-process", False, True, "jsonl", IsADirectoryError, "Is a directory"),
    ("folder-parse-process", True, True, "jsonl", TailProcessError, "IsADirectoryError"),
    ("format-in-process", False, False, "nope", UnknownFormatError, "unknown format 'nope'"),
    ("format-parse-process", True, False, "nope", TailProcessError, "UnknownFormatError"),
]


@pytest.mark.parametrize(("parse_process", "folder", "fmt", "error", "says"), [c[1:] for c in FAILURES],
                         ids=[c[0] for c in FAILURES])
def test_a_reader_failure_is_raised_by_the_tail(
    publisher: Publisher, tmp_path: Path, parse_process: bool, folder: bool, fmt: str,
    error: type[Exception], says: str
) -> None:
    """Opening a folder, or building the reader, fails wherever the reader runs: run() raises."""
    path = tmp_path / "app.jsonl"
    if folder:
        path.mkdir()
    else:
        path.write_bytes(_lines(3))
    with pytest.raises(error, match=says):
        _tail(path, tmp_path, publisher, parse_process, until_eof=True, fmt=fmt).run(lambda: False)


def test_a_killed_reader_process_is_an_error_not_a_stop(publisher: Publisher, tmp_path: Path) -> None:
    path = tmp_path / "app.jsonl"
    path.write_bytes(_lines(200))
    tail = _tail(path, tmp_path, publisher, parse_process=True, until_eof=False)
    raised: list[BaseException] = []
    stop = threading.Event()

    def run() -> None:
        try:
            tail.run(stop.is_set)
        except BaseException as exc:  # noqa: BLE001 - the test inspects it
            raised.append(exc)

    # The test session may have children of its own already (the engines it started): the
    # reader is the child that appears once the tail runs.
    before = {child.pid for child in psutil.Process().children()}
    runner = threading.Thread(target=run)
    runner.start()
    try:
        deadline = time.monotonic() + 20
        while (not (children := [c for c in psutil.Process().children() if c.pid not in before])
               and time.monotonic() < deadline):
            time.sleep(0.02)
        assert len(children) == 1, children
        children[0].kill()
        runner.join(20)
    finally:
        stop.set()
        runner.join(20)
    assert len(raised) == 1 and isinstance(raised[0], TailProcessError), raised
    assert "killed by SIGKILL" in str(raised[0])


@pytest.mark.parametrize(("sig", "exit_code"), [(signal.SIGTERM, 0), (signal.SIGKILL, -signal.SIGKILL)],
                         ids=["sigterm-flushes-and-reaps", "sigkill-takes-the-child-along"])
def test_the_reader_process_never_outlives_the_tail(
    broker_settings: Settings, tmp_path: Path, sig: signal.Signals, exit_code: int
) -> None:
    tail_settings = broker_settings.tail.model_copy(update={
        "state_dir": tmp_path / "state", "parse_process": True, "poll_interval_s": 0.05,
        "checkpoint_interval_s": 0.1})
    config = write_settings_file(broker_settings.model_copy(update={"tail": tail_settings}), tmp_path / "s.yaml")
    path = tmp_path / "app.jsonl"
    path.write_bytes(_lines(500))
    store = CheckpointStore(tail_settings.state_dir, path)
    tail = Component(["ingest", "tail", "--format", "jsonl", str(path)], config, tmp_path / "tail.log")
    try:
        deadline = time.monotonic() + 60
        while not ((saved := store.load()) and saved.offset == path.stat().st_size):
            assert time.monotonic() < deadline, tail.tail()
            time.sleep(0.1)
        children = psutil.Process(tail.proc.pid).children()
        assert len(children) == 1, children  # the reader, following the file
        assert tail.stop(sig) == exit_code, tail.tail()
        gone, alive = psutil.wait_procs(children, timeout=10)
        assert not alive, f"orphaned reader {alive}"
    finally:
        tail.stop()
    if sig == signal.SIGTERM:
        assert "read=500 published=500 rejected=0" in tail.tail(3)
