"""validate_event: one validation with the id computed first gives what validate-then-with_id gave."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from deskwatch.producers.parse.assemble import validate_event
from deskwatch.producers.parse.contract import Rejected, SourceContext
from deskwatch.schemas import WorkstationEvent

CTX = SourceContext(source="/var/log/x.jsonl", reference_time=datetime(2026, 11, 29, tzinfo=UTC))
RAW = b'{"some": "original bytes"}'


def _fields(host: object, event_id: str | None = None) -> dict[str, Any]:
    event: dict[str, Any] = {"code": "7", "provider": "Service Control Manager"}
    if event_id is not None:
        event["id"] = event_id
    return {"@timestamp": "2026-11-29T08:00:00Z", "host": {"name": host}, "event": event}


@pytest.mark.parametrize(("host", "event_id", "position"), [
    ("PC-01", None, 3),
    ("  PC-01 \t", None, 3),  # the schema strips the name; the id must hash the stripped name
    ("PC-01", None, "9978050:4096"),
    ("PC-01", "sender-id", 3),  # a sender's own id is kept
], ids=["plain", "padded-host", "inode-position", "own-id"])
def test_same_event_and_id_as_validate_then_with_id(host: str, event_id: str | None, position: int | str) -> None:
    before = WorkstationEvent.model_validate(_fields(host, event_id)).with_id(CTX.source, position, RAW)
    after = validate_event(_fields(host, event_id), raw=RAW, position=position, ctx=CTX)
    assert after == before
    assert isinstance(after, WorkstationEvent) and after.event.id == (event_id or before.event.id)


@pytest.mark.parametrize(("fields", "reason"), [
    (_fields("   "), "missing_host"),
    (_fields(None), "invalid_field"),  # a null is a wrong type, not a missing name
    (_fields("x" * 300), "invalid_field"),
    ({**_fields("PC-01"), "@timestamp": "yesterday"}, "invalid_timestamp"),
    ({**_fields("PC-01"), "host": "PC-01"}, "invalid_field"),
    ({**_fields("PC-01"), "event": "not an object"}, "invalid_field"),
], ids=["blank-host", "null-host", "long-host", "bad-timestamp", "host-not-object", "event-not-object"])
def test_invalid_fields_are_rejected_with_their_reason(fields: dict[str, Any], reason: str) -> None:
    result = validate_event(fields, raw=RAW, position=1, ctx=CTX)
    assert isinstance(result, Rejected) and result.reason == reason
