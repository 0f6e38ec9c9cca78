"""One EVTX record's JSON (as the evtx package renders it) into an event."""

from __future__ import annotations

import json
from typing import Any

import pytest
from deskwatch.producers.parse import Rejected, parse_evtx_record, render_fields
from deskwatch.schemas.event import WorkstationEvent, compute_event_id

from .samples import make_ctx


def _record(system: dict[str, Any], data: Any = None, key: str = "EventData") -> bytes:
    base = {
        "Provider": {"#attributes": {"Name": "EventLog"}},
        "EventID": {"#attributes": {"Qualifiers": 32768}, "#text": 6009},
        "Level": 4,
        "TimeCreated": {"#attributes": {"SystemTime": "2017-07-12T17:16:28.214161Z"}},
        "EventRecordID": 1,
        "Channel": "System",
        "Computer": "WIN-P4SIAA0SQCO",
    }
    base.update(system)
    return json.dumps(
        {"Event": {"System": {k: v for k, v in base.items() if v is not ...}, key: data}}
    ).encode()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            _record({}, {"Data": {"#text": ["10.00.", "15063", "", "Multiprocessor Free", "0"]}}),
            (
                "6009",
                "EventLog",
                "info",
                "2017-07-12T17:16:28.214161+00:00",
                'Data[0]=10.00. Data[1]=15063 Data[3]="Multiprocessor Free" Data[4]=0',
            ),
        ),
        (
            _record({"EventID": 1014, "Level": 3}, {"QueryName": "wpad", "Status": 1460}),
            (
                "1014",
                "EventLog",
                "warning",
                "2017-07-12T17:16:28.214161+00:00",
                "QueryName=wpad Status=1460",
            ),
        ),
        (
            _record({"Level": 1}, None),
            ("6009", "EventLog", "critical", "2017-07-12T17:16:28.214161+00:00", ""),
        ),
        (
            _record(
                {"Level": 2},
                {"InstallDeviceID": {"#attributes": {"xmlns": "u"}, "DriverName": "a b"}},
                "UserData",
            ),
            (
                "6009",
                "EventLog",
                "error",
                "2017-07-12T17:16:28.214161+00:00",
                'InstallDeviceID.DriverName="a b"',
            ),
        ),
        (
            _record(
                {"Level": 0, "Provider": {"#attributes": {"EventSourceName": "SecurityCenter"}}},
                {"Data": 'k="v"'},
            ),
            (
                "6009",
                "SecurityCenter",
                "info",
                "2017-07-12T17:16:28.214161+00:00",
                'Data="k=\\"v\\""',
            ),
        ),
    ],
    ids=[
        "positional-data",
        "named-data-level-3",
        "level-1-no-data",
        "userdata-level-2",
        "source-name-level-0",
    ],
)
def test_evtx_record_fields(raw: bytes, expected: tuple[str, ...]) -> None:
    result = parse_evtx_record(raw, "1", make_ctx("system.evtx"))
    assert isinstance(result, WorkstationEvent), result
    got = (
        result.event.code,
        result.event.provider,
        result.log.level,
        result.timestamp.isoformat(),
        result.message,
    )
    assert got == expected
    assert (result.host.name, result.labels["channel"], result.labels["record_id"]) == (
        "WIN-P4SIAA0SQCO",
        "System",
        "1",
    )
    assert result.event_id == compute_event_id("system.evtx", "WIN-P4SIAA0SQCO", b"System", "1")
    assert (result.event.dataset, result.event.original) == ("windows.evtx", raw.decode())


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"not json", "invalid_json"),
        (b'{"Event": 3}', "invalid_field"),
        (_record({"Computer": ...}), "missing_host"),
        (_record({"TimeCreated": None}), "invalid_timestamp"),
        (_record({"EventID": ...}), "invalid_field"),
        (_record({"Provider": None}), "invalid_field"),
    ],
    ids=["not-json", "no-system", "no-computer", "null-time", "no-eventid", "null-provider"],
)
def test_evtx_record_rejections(raw: bytes, reason: str) -> None:
    result = parse_evtx_record(raw, "5", make_ctx())
    assert isinstance(result, Rejected)
    assert result.reason == reason, result.detail


def test_missing_record_id_falls_back_to_the_position_id() -> None:
    raw = _record({"EventRecordID": None})
    result = parse_evtx_record(raw, "chunk-less", make_ctx("f.evtx"))
    assert isinstance(result, WorkstationEvent)
    assert result.event_id == compute_event_id("f.evtx", "WIN-P4SIAA0SQCO", raw, "chunk-less")


@pytest.mark.parametrize(
    ("node", "text"),
    [
        (None, ""),
        ("", ""),
        ("plain", "Data=plain"),
        ({"A": {"B": [1, None, "x y"]}}, 'A.B[0]=1 A.B[2]="x y"'),
    ],
    ids=["none", "empty", "bare-text", "nested"],
)
def test_render_fields(node: Any, text: str) -> None:
    assert render_fields(node) == text
