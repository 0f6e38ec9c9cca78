"""The walking skeleton end to end on the real Kafka and Elasticsearch: file → incidents in ES."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import orjson
import pytest

from deskwatch.components import Component
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.templates import dead_letters_alias, incidents_alias
from deskwatch.topology import DEAD_LETTER, EVENTS, INCIDENTS

from deskwatch.topics import consumer_lag

from .conftest import es_docs, read_topic, wait_for

pytestmark = pytest.mark.integration


def _event(ts: str, host: str, code: str, provider: str, msg: str) -> bytes:
    return orjson.dumps({"@timestamp": ts, "event": {"code": code, "provider": provider},
                         "host": {"name": host}, "log": {"level": "error"}, "message": msg})


GOOD = [
    _event("2026-11-29T08:00:00Z", "PC-001", "1058", "Microsoft-Windows-GroupPolicy", "GPO processing failed (1)"),
    _event("2026-11-29T08:05:00Z", "PC-001", "1058", "Microsoft-Windows-GroupPolicy", "GPO processing failed (2)"),
    _event("2026-11-29T08:10:00Z", "PC-001", "1058", "Microsoft-Windows-GroupPolicy", "GPO processing failed (3)"),
    _event("2026-11-29T08:01:00Z", "PC-002", "7", "disk", "The device has a bad block."),
    _event("2026-11-29T08:02:00Z", "PC-002", "7", "disk", "The device has a bad block."),
]
BAD = {  # line → the reason it must be dead-lettered with
    b"this is not json": "invalid_json",
    b'{"@timestamp": "2026-11-29T08:00:00Z", "event": {"code": "7", "provider": "disk"}}': "missing_host",
    b'{"@timestamp": "not a time", "event": {"code": "7", "provider": "disk"}, "host": {"name": "PC-003"}}':
        "invalid_timestamp",
    b'{"@timestamp": "2026-11-29T08:00:00Z", "event": {"code": ["7"], "provider": "disk"}, "host": {"name": "PC-3"}}':
        "invalid_field",
}


def _produce(launch: Callable[..., Component], path: Path) -> str:
    producer = launch("produce", "--format", "jsonl", str(path))
    assert producer.proc.wait(120) == 0, producer.tail()
    return producer.tail(5)


def test_events_become_incidents_and_a_replay_changes_nothing(
    pipeline_settings: Settings, launch: Callable[..., Component], tmp_path: Path
) -> None:
    s = pipeline_settings
    path = tmp_path / "events.jsonl"
    lines = GOOD[:3] + list(BAD)[:2] + GOOD[3:] + list(BAD)[2:]
    path.write_bytes(b"\n".join(lines) + b"\n")

    summary = _produce(launch, path)
    assert f"read={len(lines)} published={len(GOOD)} rejected={len(BAD)}" in summary
    processor = launch("processor", "run")
    sink = launch("sink", "run")
    alias = incidents_alias(s.elasticsearch)

    def settled() -> dict[str, dict[str, Any]] | None:
        try:
            docs = es_docs(s, alias)
        except Exception:  # index not created yet
            return None
        return docs if sorted(d["event_count"] for d in docs.values()) == [2, 3] else None

    first = wait_for(settled, 120, "two incidents counting 3 and 2 events",
                     lambda: processor.tail() + "\n---\n" + sink.tail())
    by_host = {d["hosts"][0]: d for d in first.values()}
    assert by_host["PC-001"]["rule_id"] == "gpo-failure-host" and by_host["PC-002"]["rule_id"] == "disk-errors"
    assert by_host["PC-001"]["event_codes"] == ["1058"] and by_host["PC-001"]["event_count"] == 3
    assert by_host["PC-001"]["first_seen"].startswith("2026-11-29T08:00:00")
    assert by_host["PC-001"]["last_seen"].startswith("2026-11-29T08:10:00")
    assert by_host["PC-002"]["event_codes"] == ["7"] and by_host["PC-002"]["event_count"] == 2
    assert all(d["status"] == "open" for d in first.values())

    # Replay the very same file: every event id is known, so nothing may change in Elasticsearch.
    _produce(launch, path)
    wait_for(lambda: consumer_lag(s.kafka, s.processor.app_id, EVENTS.name(s.kafka)) == 0, 90, "processor to drain")
    wait_for(lambda: consumer_lag(s.kafka, s.sink.group_id, INCIDENTS.name(s.kafka)) == 0, 90, "sink to drain")
    assert es_docs(s, alias) == first


def test_invalid_lines_are_dead_lettered_with_reason_and_original_bytes(
    pipeline_settings: Settings, launch: Callable[..., Component], tmp_path: Path
) -> None:
    s = pipeline_settings
    path = tmp_path / "mixed.jsonl"
    lines = [GOOD[0], *BAD, GOOD[3]]
    path.write_bytes(b"\n".join(lines) + b"\n")
    _produce(launch, path)

    letters = [json.loads(r.value) for r in read_topic(s, DEAD_LETTER.name(s.kafka))]
    got = {base64.b64decode(d["original_b64"]): d for d in letters}
    assert set(got) == set(BAD), "every bad line, and only those, is dead-lettered"
    for line, reason in BAD.items():
        assert got[line]["reason"] == reason
        assert got[line]["stage"] == "producer" and got[line]["source"] == str(path)
        assert got[line]["detail"], "a clear explanation comes with the reason"
    events = [json.loads(r.value) for r in read_topic(s, EVENTS.name(s.kafka))]
    published = sum(len(e["events"]) for e in events)
    assert published == 2 and published + len(letters) == len(lines), "nothing else is lost"


def test_an_event_older_than_its_hosts_dedup_horizon_is_dead_lettered_not_dropped(
    pipeline_settings: Settings, launch: Callable[..., Component], tmp_path: Path
) -> None:
    """PC-001's newest event is at 08:10 on the 29th, so its exact-dedup horizon (24 h) is 08:10 on
    the 28th: a line of the 27th read afterwards cannot be told from a replay. It must reach the
    dead-letter topic as it was read, with why, not vanish into a counter."""
    s = pipeline_settings
    fresh, late = tmp_path / "fresh.jsonl", tmp_path / "late.jsonl"
    fresh.write_bytes(b"\n".join(GOOD[:3]) + b"\n")
    late.write_bytes(_event("2026-11-27T08:00:00Z", "PC-001", "1058", "Microsoft-Windows-GroupPolicy",
                            "GPO processing failed (0)") + b"\n")
    events = EVENTS.name(s.kafka)
    processor = launch("processor", "run")
    for path in (fresh, late):  # one after the other: the late line is read after the host's newer ones
        _produce(launch, path)
        wait_for(lambda: consumer_lag(s.kafka, s.processor.app_id, events) == 0, 120, f"processor to read {path.name}",
                 processor.tail)

    letters = [json.loads(r.value) for r in read_topic(s, DEAD_LETTER.name(s.kafka))]
    assert [d["reason"] for d in letters] == ["too_old"], letters
    [letter] = letters
    assert letter["stage"] == "stage1" and letter["source"] == events
    assert letter["detail"].endswith("2026-11-27T08:00:00+00:00 is older than PC-001's exact-dedup horizon "
                                     "2026-11-28T08:10:00+00:00: it cannot be told from a replay")
    original = json.loads(base64.b64decode(letter["original_b64"]))
    assert (original["@timestamp"], original["host"]["name"], original["message"]) == (
        "2026-11-27T08:00:00Z", "PC-001", "GPO processing failed (0)")
    assert letter["detail"].startswith(f"event {original['event']['id']}: ")

    # and an operator finds it where the rest is searched
    sink = launch("sink", "run")
    found = wait_for(lambda: _docs(s, dead_letters_alias(s.elasticsearch)), 90, "the dead letter in Elasticsearch",
                     sink.tail)
    [doc] = found.values()
    assert doc["reason"] == "too_old" and "GPO processing failed (0)" in doc["original"]


def _docs(s: Settings, alias: str) -> dict[str, dict[str, Any]] | None:
    try:
        return es_docs(s, alias) or None
    except Exception:  # noqa: BLE001 - its first index is not created yet
        return None
