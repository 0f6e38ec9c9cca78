"""deskwatch's own JSON lines, validated by the WorkstationEvent schema."""

from __future__ import annotations

import pytest
from deskwatch.producers.parse import Rejected, parse_jsonl
from deskwatch.schemas.event import WorkstationEvent, compute_event_id

from .samples import GOOD_JSONL, jsonl_line, make_ctx



def test_valid_line_gets_original_dataset_and_id() -> None:
    raw = jsonl_line()
    result = parse_jsonl(raw + b"\r\n", 12, make_ctx("agent.jsonl"))
    assert isinstance(result, WorkstationEvent), result
    assert (result.event.code, result.host.name, result.log.level) == ("1014", "pc-0042", "warning")
    assert (result.event.original, result.event.dataset) == (raw.decode(), "deskwatch.jsonl")
    assert result.event_id == compute_event_id("agent.jsonl", "pc-0042", raw, 12)


def test_senders_own_original_dataset_and_id_are_kept() -> None:
    event = {
        **GOOD_JSONL["event"],
        "id": "abc",
        "original": "the syslog line",
        "dataset": "syslog.rfc3164",
    }
    result = parse_jsonl(jsonl_line(event=event), 1, make_ctx())
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
        (jsonl_line(host=None), "missing_host", "no host.name"),
        (jsonl_line(host={"name": "   "}), "missing_host", "no host.name"),
        (jsonl_line(host="pc-1"), "missing_host", "no host.name"),
        (jsonl_line(**{"@timestamp": "2024-03-04T08:15:02"}), "invalid_timestamp", "@timestamp"),
        (jsonl_line(log={"level": "loud"}), "invalid_field", "log.level"),
        (jsonl_line(event={"provider": "x"}), "invalid_field", "event.code"),
        (jsonl_line(surprise=1), "invalid_field", "surprise"),
        (jsonl_line(message="x" * 70_000), "invalid_field", "message"),
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
