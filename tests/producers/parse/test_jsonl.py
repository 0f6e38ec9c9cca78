"""deskwatch's own JSON lines, validated by the WorkstationEvent schema."""

from __future__ import annotations

import json
from typing import Any

import pytest
from deskwatch.producers.parse import Rejected, parse_jsonl
from deskwatch.schemas.event import WorkstationEvent, compute_event_id

from .samples import make_ctx

GOOD: dict[str, Any] = {
    "@timestamp": "2024-03-04T08:15:02Z",
    "event": {"code": "1014", "provider": "Microsoft-Windows-DNS-Client"},
    "host": {"name": "pc-0042"},
    "log": {"level": "warning"},
    "message": "Name resolution timed out",
}


def _line(**top: Any) -> bytes:
    return json.dumps({**GOOD, **top}).encode()


def test_valid_line_gets_original_dataset_and_id() -> None:
    raw = _line()
    result = parse_jsonl(raw + b"\r\n", 12, make_ctx("agent.jsonl"))
    assert isinstance(result, WorkstationEvent), result
    assert (result.event.code, result.host.name, result.log.level) == ("1014", "pc-0042", "warning")
    assert (result.event.original, result.event.dataset) == (raw.decode(), "deskwatch.jsonl")
    assert result.event_id == compute_event_id("agent.jsonl", "pc-0042", raw, 12)


def test_senders_own_original_dataset_and_id_are_kept() -> None:
    event = {
        **GOOD["event"],
        "id": "abc",
        "original": "the syslog line",
        "dataset": "syslog.rfc3164",
    }
    result = parse_jsonl(_line(event=event), 1, make_ctx())
    assert isinstance(result, WorkstationEvent)
    assert (result.event.id, result.event.original, result.event.dataset) == (
        "abc",
        "the syslog line",
        "syslog.rfc3164",
    )


@pytest.mark.parametrize(
    ("raw", "reason", "detail_part"),
    [
        (b'{"@timestamp": ', "invalid_json", "JSONDecodeError"),
        (b"42", "invalid_json", "expected a JSON object, got int"),
        (_line(host=None), "missing_host", "no host.name"),
        (_line(host={"name": "   "}), "missing_host", "no host.name"),
        (_line(host="pc-1"), "missing_host", "no host.name"),
        (_line(**{"@timestamp": "2024-03-04T08:15:02"}), "invalid_timestamp", "@timestamp"),
        (_line(log={"level": "loud"}), "invalid_field", "log.level"),
        (_line(event={"provider": "x"}), "invalid_field", "event.code"),
        (_line(surprise=1), "invalid_field", "surprise"),
        (_line(message="x" * 70_000), "invalid_field", "message"),
    ],
    ids=[
        "truncated",
        "number",
        "null-host",
        "blank-host",
        "host-as-string",
        "naive-timestamp",
        "bad-level",
        "no-code",
        "extra-field",
        "message-too-long",
    ],
)
def test_jsonl_rejections(raw: bytes, reason: str, detail_part: str) -> None:
    result = parse_jsonl(raw, 1, make_ctx())
    assert isinstance(result, Rejected)
    assert (result.reason, detail_part in result.detail) == (reason, True), result.detail
    assert len(result.detail) < 1000
