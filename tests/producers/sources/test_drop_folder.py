"""The drop folder on real files and the real broker: each file once, per-file counts, a ledger."""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import cast

import orjson
import pytest
from deskwatch.producers.envelope import EnvelopeLimits
from deskwatch.producers.publish import Publisher
from deskwatch.producers.sources.drop_folder import DropFolder
from deskwatch.schemas import EventBatch, decode_events_record

from deskwatch.settings import Settings, TailSettings
from deskwatch.topology import EVENTS

from .conftest import LIMITS, read_topic

pytestmark = pytest.mark.integration

EVTX = Path(__file__).resolve().parents[4] / "shared" / "data" / "evtx" / "Application_no_crc32.evtx"
JSONL = b"\n".join(orjson.dumps({"@timestamp": "2026-11-29T08:00:00Z", "event": {"code": "7", "provider": "disk"},
                                 "host": {"name": f"PC-{i}"}, "message": f"m{i}"}) for i in range(5)) + b"\nbad\n"
SYSLOG = b"<13>Nov 29 08:00:01 PC-7 sshd[1]: one\n<13>Nov 29 08:00:02 PC-7 sshd[1]: two\n"


def _drop(tmp_path: Path, publisher: Publisher, settle_s: float = 0.0, now: list[float] | None = None) -> DropFolder:
    settings = TailSettings(state_dir=tmp_path / "state", drop_settle_s=settle_s)
    clock = now or [100.0]
    return DropFolder(tmp_path / "in", settings, publisher, LIMITS, clock=lambda: clock[0])


def test_each_file_once_with_counts(broker_settings: Settings, publisher: Publisher, tmp_path: Path) -> None:
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.jsonl").write_bytes(JSONL)
    (folder / "b.log").write_bytes(SYSLOG)
    (folder / "c.log").write_bytes(b"\x00\x01 what is this\n")
    (folder / "ignored.txt").write_bytes(JSONL)
    if EVTX.exists():
        shutil.copy(EVTX, folder / "d.evtx")
    outcomes = {o.name: o for o in _drop(tmp_path, publisher).scan()}
    assert outcomes["a.jsonl"].status == "ingested"
    a = outcomes["a.jsonl"].counts
    assert a is not None and (a.read, a.accepted, dict(a.rejected)) == (6, 5, {"invalid_json": 1})
    b = outcomes["b.log"].counts
    assert b is not None and (b.read, b.accepted) == (2, 2)
    assert outcomes["c.log"].status == "unreadable"
    assert "ignored.txt" not in outcomes
    if EVTX.exists():
        d = outcomes["d.evtx"].counts
        assert d is not None and (d.read, d.accepted) == (17, 17)
    assert sorted(p.name for p in (folder / "done").iterdir()) == sorted(n for n in outcomes if n != "c.log")
    assert [p.name for p in (folder / "failed").iterdir()] == ["c.log"]

    # The same bytes dropped again under another name, seen by a restarted folder: not published twice.
    (folder / "again.jsonl").write_bytes(JSONL)
    assert [(o.name, o.status) for o in _drop(tmp_path, publisher).scan()] == [("again.jsonl", "already_ingested")]
    events = [e for r in read_topic(broker_settings, EVENTS.name(broker_settings.kafka))
              for e in cast(EventBatch, decode_events_record(r.value)).events]
    assert len(events) == 5 + 2 + (17 if EVTX.exists() else 0)


def test_file_still_changing_is_left_alone(publisher: Publisher, tmp_path: Path) -> None:
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "a.jsonl").write_bytes(JSONL)
    now = [100.0]
    drop = _drop(tmp_path, publisher, settle_s=5.0, now=now)
    assert drop.scan() == []  # first sighting: not settled yet
    (tmp_path / "in" / "a.jsonl").write_bytes(JSONL + JSONL)
    now[0] = 104.0
    assert drop.scan() == []  # changed since: its settle time starts again
    now[0] = 108.0
    assert drop.scan() == []  # unchanged for 4 s < 5 s
    now[0] = 109.5
    assert [(o.name, o.status) for o in drop.scan()] == [("a.jsonl", "ingested")]


def test_a_dropped_file_is_a_backlog_one_envelope_per_host(
        broker_settings: Settings, publisher: Publisher, tmp_path: Path) -> None:
    """10,000 lines of 10 interleaved hosts, limits of count and bytes out of reach, a linger of 0:
    a dropped file is read as a backlog (envelopes close by count, bytes, ``max_open_events`` or
    its end), so one envelope per host, each with its host's lines in order. (Closed on their
    linger, as before, they went every 4,096 lines: 30 envelopes.)"""
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "big.jsonl").write_bytes(b"\n".join(
        orjson.dumps({"@timestamp": "2026-11-29T08:00:00Z", "event": {"code": "7", "provider": "disk"},
                      "host": {"name": f"PC-{i % 10}"}, "message": f"m{i}"}) for i in range(10_000)) + b"\n")
    settings = TailSettings(state_dir=tmp_path / "state", drop_settle_s=0.0)
    drop = DropFolder(folder, settings, publisher, EnvelopeLimits(10**6, 10**9, 0.0), clock=lambda: 100.0)
    [outcome] = drop.scan()
    assert outcome.counts is not None and outcome.counts.accepted == 10_000
    batches = [cast(EventBatch, decode_events_record(r.value))
               for r in read_topic(broker_settings, EVENTS.name(broker_settings.kafka))]
    assert sorted(b.host for b in batches) == [f"PC-{h}" for h in range(10)]
    for b in batches:
        assert [e.message for e in b.events] == [f"m{i}" for i in range(int(b.host[3:]), 10_000, 10)]
