"""Winlogbeat / Elastic Agent ECS JSON (no shared sample exists: documents shaped as Winlogbeat 8
writes them)."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest
from deskwatch.producers.parse import Rejected, parse_ecs_json
from deskwatch.schemas.event import WorkstationEvent, compute_event_id

from .samples import make_ctx

WINLOGBEAT: dict[str, Any] = {
    "@timestamp": "2024-03-04T08:15:02.123Z",
    "ecs": {"version": "8.0.0"},
    "event": {
        "code": "7036",
        "provider": "Service Control Manager",
        "kind": "event",
        "created": "x",
    },
    "host": {"name": "pc-0042", "hostname": "PC-0042"},
    "log": {"level": "information"},
    "message": "The Windows Update service entered the running state.",
    "winlog": {
        "channel": "System",
        "event_id": "7036",
        "provider_name": "Service Control Manager",
        "computer_name": "PC-0042.corp.example",
        "record_id": 51234,
    },
}


def _doc(**changes: Any) -> dict[str, Any]:
    """WINLOGBEAT with dotted-path changes applied; the value ... deletes the key."""
    doc = copy.deepcopy(WINLOGBEAT)
    for path, value in changes.items():
        *parents, leaf = path.split("__")
        node = doc
        for part in parents:
            node = node[part]
        if value is ...:
            node.pop(leaf, None)
        else:
            node[leaf] = value
    return doc


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            _doc(),
            (
                "2024-03-04T08:15:02.123000+00:00",
                "7036",
                "Service Control Manager",
                "pc-0042",
                "info",
            ),
        ),
        (
            _doc(host__name=...),
            (
                "2024-03-04T08:15:02.123000+00:00",
                "7036",
                "Service Control Manager",
                "PC-0042",
                "info",
            ),
        ),
        (
            _doc(host=..., event__code=..., event__provider=..., log__level="warning"),
            (
                "2024-03-04T08:15:02.123000+00:00",
                "7036",
                "Service Control Manager",
                "PC-0042.corp.example",
                "warning",
            ),
        ),
        (
            _doc(log__level="Verbose"),
            (
                "2024-03-04T08:15:02.123000+00:00",
                "7036",
                "Service Control Manager",
                "pc-0042",
                "debug",
            ),
        ),
        (
            {
                "@timestamp": "2024-03-04T08:15:02+01:00",
                "event.code": "4625",
                "event.provider": "Security",
                "host.name": "pc-7",
                "log.level": "error",
                "message": "flattened keys",
            },
            ("2024-03-04T08:15:02+01:00", "4625", "Security", "pc-7", "error"),
        ),
    ],
    ids=["winlogbeat", "hostname-fallback", "winlog-fallbacks", "verbose-level", "dotted-keys"],
)
def test_ecs_fields(doc: dict[str, Any], expected: tuple[str, ...]) -> None:
    raw = json.dumps(doc).encode()
    result = parse_ecs_json(raw, 2, make_ctx("winlogbeat"))
    assert isinstance(result, WorkstationEvent), result
    got = (
        result.timestamp.isoformat(),
        result.event.code,
        result.event.provider,
        result.host.name,
        result.log.level,
    )
    assert got == expected
    assert (result.event.dataset, result.event.original, result.message) == (
        "ecs.json",
        raw.decode(),
        doc["message"],
    )


def test_record_id_gives_the_windows_identity() -> None:
    ctx = make_ctx("winlogbeat")
    one = parse_ecs_json(json.dumps(_doc()).encode(), 1, ctx)
    other = parse_ecs_json(json.dumps(_doc(message="another rendering")).encode(), 99, ctx)
    assert isinstance(one, WorkstationEvent) and isinstance(other, WorkstationEvent)
    assert (
        one.event_id
        == other.event_id
        == compute_event_id("winlogbeat", "pc-0042", b"System", "51234")
    )


def test_unknown_level_word_is_kept_as_a_label() -> None:
    result = parse_ecs_json(json.dumps(_doc(log__level="Informationen")).encode(), 1, make_ctx())
    assert isinstance(result, WorkstationEvent)
    assert (result.log.level, result.labels) == (
        "info",
        {"log_level_original": "Informationen", "channel": "System"},
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"{not json", "invalid_json"),
        (b'"a string"', "invalid_json"),
        (json.dumps(_doc(host=..., winlog__computer_name=...)).encode(), "missing_host"),
        (json.dumps(_doc(**{"@timestamp": ...})).encode(), "invalid_timestamp"),
        (json.dumps(_doc(**{"@timestamp": "04/03/2024 08:15"})).encode(), "invalid_timestamp"),
        (json.dumps(_doc(event__code=..., winlog__event_id=...)).encode(), "invalid_field"),
        (
            json.dumps(_doc(event__provider=..., winlog__provider_name=...)).encode(),
            "invalid_field",
        ),
        (json.dumps(_doc(event__severity="high")).encode(), "invalid_field"),
    ],
    ids=[
        "bad-json",
        "not-object",
        "no-host",
        "no-timestamp",
        "not-iso",
        "no-code",
        "no-provider",
        "bad-severity",
    ],
)
def test_ecs_rejections(raw: bytes, reason: str) -> None:
    result = parse_ecs_json(raw, 1, make_ctx())
    assert isinstance(result, Rejected)
    assert result.reason == reason, result.detail
