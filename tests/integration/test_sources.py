"""Sources against the real broker: the tailer survives SIGKILL without losing a line."""

from __future__ import annotations

import json
import signal
import threading
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import cast

import orjson
import pytest
from deskwatch.producers.sources.checkpoint import CheckpointStore
from deskwatch.schemas import DeadLetter, EventBatch, compute_event_id, decode_events_record

from deskwatch.components import Component
from deskwatch.settings import Settings
from deskwatch.topology import DEAD_LETTER, EVENTS

from .conftest import read_topic, wait_for

pytestmark = pytest.mark.integration

LINES = 30_000
BAD_EVERY = 1000  # one unparseable line per thousand, to check dead letters survive the kill too


@pytest.fixture
def pipeline_settings(pipeline_settings: Settings, tmp_path: Path, request: pytest.FixtureRequest) -> Settings:
    """The pipeline settings with the sources' state folder in tmp_path (producer overrides by indirect param)."""
    params = dict(getattr(request, "param", {}))
    tail = pipeline_settings.tail.model_copy(update={"state_dir": tmp_path / "state", "poll_interval_s": 0.05,
                                                     "checkpoint_interval_s": 0.2, **params.pop("tail", {})})
    producer = pipeline_settings.producer.model_copy(update=params)
    return pipeline_settings.model_copy(update={"tail": tail, "producer": producer})


def _line(i: int) -> bytes:
    if i % BAD_EVERY == BAD_EVERY - 1:
        return b"not json %d" % i
    return orjson.dumps({"@timestamp": "2026-11-29T08:00:00Z", "event": {"code": "7", "provider": "disk"},
                         "host": {"name": f"PC-{i % 97:03d}"}, "log": {"level": "error"},
                         "message": f"bad block {i} " + "x" * (i % 300)})


def _write_slowly(path: Path, paused: threading.Event, resume: threading.Event) -> None:
    """Append the lines in paced chunks; the last third waits for ``resume`` (after the kill)."""
    with path.open("ab") as out:
        for start in range(0, LINES, 250):
            if start >= 2 * LINES // 3 and not resume.is_set():
                paused.set()
                resume.wait(120)
            out.write(b"".join(_line(i) + b"\n" for i in range(start, min(start + 250, LINES))))
            out.flush()
            time.sleep(0.15)


def _expected_ids(path: Path) -> tuple[set[str], set[str]]:
    """Event ids the file's good lines must have, and the positions of its bad lines."""
    inode, good, bad, offset = path.stat().st_ino, set(), set(), 0
    for raw in path.read_bytes().splitlines(keepends=True):
        line = raw.rstrip(b"\n")
        position = f"{inode}:{offset}"
        if line.startswith(b"{"):
            host = json.loads(line)["host"]["name"]
            good.add(compute_event_id(str(path), host, line, position))
        else:
            bad.add(position)
        offset += len(raw)
    return good, bad


@pytest.mark.parametrize("pipeline_settings", [
    {},
    # envelopes closed only by the bound on open events, the oldest first, while the tailer reads
    # 4 KB at a time behind its writer: the kill lands between partial sends
    {"linger_ms": 60_000, "batch_max_events": 10_000,
     "tail": {"chunk_bytes": 4096, "max_open_events": 300, "drain_when_caught_up": False}},
], indirect=True, ids=["defaults", "oldest-past-the-bound"])
def test_tail_killed_mid_file_loses_nothing(pipeline_settings: Settings, launch: Callable[..., Component], tmp_path: Path) -> None:
    s = pipeline_settings
    path = tmp_path / "growing.jsonl"
    path.write_bytes(b"")
    store = CheckpointStore(s.tail.state_dir, path)
    paused, resume = threading.Event(), threading.Event()
    writer = threading.Thread(target=_write_slowly, args=(path, paused, resume))
    first = launch("ingest", "tail", "--format", "jsonl", str(path))

    def checkpoint_offset() -> int:
        saved = store.load()
        return saved.offset if saved else 0

    wait_for(lambda: store.load() is not None, 60, "the tailer's first checkpoint", first.tail)
    writer.start()  # the file grows while the tailer runs

    wait_for(lambda: checkpoint_offset() > 200_000, 60, "a first checkpoint past 200 kB", first.tail)
    time.sleep(0.5)  # into the stream: envelopes open and in flight, dead letters sent, checkpoints behind
    assert not paused.is_set(), "the writer paused before the kill: the tailer may have been idle"
    first.stop(signal.SIGKILL)  # while the file grows and the tailer publishes
    killed_at = checkpoint_offset()
    # the tailer publishes event batches only (a tick would fail here, as it did untyped)
    published_at_kill = sum(len(cast(EventBatch, decode_events_record(r.value)).events)
                            for r in read_topic(s, EVENTS.name(s.kafka), timeout_s=3))
    good_before_checkpoint = sum(1 for line in path.read_bytes()[:killed_at].splitlines() if line.startswith(b"{"))
    second = launch("ingest", "tail", "--format", "jsonl", str(path))
    resume.set()
    writer.join()
    size = path.stat().st_size
    wait_for(lambda: checkpoint_offset() == size, 120, f"checkpoint at end of file ({size} B)", second.tail)
    assert second.stop(signal.SIGTERM) == 0, second.tail()

    good, bad = _expected_ids(path)
    seen = Counter(e.event_id for r in read_topic(s, EVENTS.name(s.kafka))
                   for e in cast(EventBatch, decode_events_record(r.value)).events)
    letters = Counter(DeadLetter.model_validate_json(r.value).position
                      for r in read_topic(s, DEAD_LETTER.name(s.kafka)))
    duplicates = sum(seen.values()) - len(seen)
    print(f"\nlines={LINES} good={len(good)} bad={len(bad)} size={size} killed_at_checkpoint={killed_at} "
          f"good_lines_before_checkpoint={good_before_checkpoint} published_at_kill={published_at_kill} events_seen={sum(seen.values())} distinct={len(seen)} duplicates={duplicates} "
          f"dead_letters={sum(letters.values())} distinct_positions={len(letters)}")
    assert 0 < killed_at < size
    # Resumed exactly at the checkpoint: every duplicate is a line past it that the broker held at the kill.
    assert duplicates == published_at_kill - good_before_checkpoint
    assert set(seen) == good, f"missing {len(good - set(seen))}, unexpected {len(set(seen) - good)}"
    assert set(letters) == bad
    assert "published=" in second.tail(3)


@pytest.mark.parametrize("pipeline_settings", [{"linger_ms": 60_000, "batch_max_events": 10_000,
                                               "tail": {"drain_when_caught_up": False}}],
                         indirect=True, ids=["envelopes-never-due"])
def test_sigterm_flushes_open_envelopes_then_checkpoints(
    pipeline_settings: Settings, launch: Callable[..., Component], tmp_path: Path
) -> None:
    """Envelopes that never fill nor linger out stay open (checkpoint 0); SIGTERM sends them all.
    (Caught up, the tail would send them at once by default: that is turned off here.)"""
    s = pipeline_settings
    path = tmp_path / "quiet.jsonl"
    path.write_bytes(b"".join(_line(i) + b"\n" for i in range(500)))
    store = CheckpointStore(s.tail.state_dir, path)
    tail = launch("ingest", "tail", "--format", "jsonl", str(path))
    wait_for(lambda: store.load() is not None, 60, "a first checkpoint", tail.tail)
    time.sleep(1.0)
    saved = store.load()
    assert saved is not None and saved.offset == 0  # every line sits in an open envelope: not acknowledged
    assert tail.stop(signal.SIGTERM) == 0, tail.tail()
    saved = store.load()
    assert saved is not None and saved.offset == path.stat().st_size
    good, bad = _expected_ids(path)
    seen = Counter(e.event_id for r in read_topic(s, EVENTS.name(s.kafka))
                   for e in cast(EventBatch, decode_events_record(r.value)).events)
    assert set(seen) == good and sum(seen.values()) == len(good)
    assert f"read=500 published={len(good)} rejected={len(bad)}" in tail.tail(3)


@pytest.mark.parametrize("pipeline_settings", [{"linger_ms": 60_000, "batch_max_events": 10_000}],
                         indirect=True, ids=["linger-never-due"])
def test_a_caught_up_tail_sends_its_open_envelopes_at_once(
    pipeline_settings: Settings, launch: Callable[..., Component], tmp_path: Path
) -> None:
    """Same quiet file and 60 s linger, default settings: at the end of the file nothing more can join an
    envelope, so all are sent and acknowledged, and the checkpoint reaches the end without a SIGTERM."""
    s = pipeline_settings
    path = tmp_path / "quiet.jsonl"
    path.write_bytes(b"".join(_line(i) + b"\n" for i in range(500)))
    store = CheckpointStore(s.tail.state_dir, path)
    tail = launch("ingest", "tail", "--format", "jsonl", str(path))
    size = path.stat().st_size
    wait_for(lambda: (c := store.load()) is not None and c.offset == size, 30, "the checkpoint at end of file",
             tail.tail)
    good, _ = _expected_ids(path)
    seen = Counter(e.event_id for r in read_topic(s, EVENTS.name(s.kafka))
                   for e in cast(EventBatch, decode_events_record(r.value)).events)
    assert set(seen) == good and sum(seen.values()) == len(good)
    assert tail.stop(signal.SIGTERM) == 0, tail.tail()
