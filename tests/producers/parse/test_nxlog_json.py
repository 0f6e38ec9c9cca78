"""NXLog-style flat Windows JSON: hand-written lines, then the OTRF zips streamed in place."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from deskwatch.producers.parse import Rejected, parse_lines, parse_nxlog_json
from deskwatch.schemas.event import WorkstationEvent, compute_event_id

from .samples import make_ctx, tally, zip_lines

PLUS1 = timezone(timedelta(hours=1))
BASE: dict[str, Any] = {
    "SourceName": "Application Error",
    "Level": "2",
    "Channel": "Application",
    "Hostname": "DC01.pandalab.com",
    "TimeCreated": "2023-07-19T05:33:02.835Z",
    "@timestamp": "2023-07-19T05:33:09Z",
    "EventID": 1000,
    "Message": "Faulting application name: launcher.exe",
    "Task": "100",
}


def _line(**changes: Any) -> bytes:
    record = {**BASE, **changes}
    return json.dumps({k: v for k, v in record.items() if v is not ...}).encode()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (
            _line(),
            (
                "2023-07-19T05:33:02.835000+00:00",
                "1000",
                "Application Error",
                "error",
                "DC01.pandalab.com",
            ),
        ),
        (
            _line(TimeCreated=...),
            (
                "2023-07-19T05:33:09+00:00",
                "1000",
                "Application Error",
                "error",
                "DC01.pandalab.com",
            ),
        ),
        (
            _line(TimeCreated=..., **{"@timestamp": ...}, EventTime="2023-07-19 07:00:00"),
            (
                "2023-07-19T07:00:00+01:00",
                "1000",
                "Application Error",
                "error",
                "DC01.pandalab.com",
            ),
        ),
        (
            _line(Level="5"),
            (
                "2023-07-19T05:33:02.835000+00:00",
                "1000",
                "Application Error",
                "debug",
                "DC01.pandalab.com",
            ),
        ),
        (
            _line(Level=..., Severity="WARNING"),
            (
                "2023-07-19T05:33:02.835000+00:00",
                "1000",
                "Application Error",
                "warning",
                "DC01.pandalab.com",
            ),
        ),
        (
            _line(Level="0", EventID="4624"),
            (
                "2023-07-19T05:33:02.835000+00:00",
                "4624",
                "Application Error",
                "info",
                "DC01.pandalab.com",
            ),
        ),
    ],
    ids=[
        "time-created-wins",
        "at-timestamp-fallback",
        "naive-eventtime-in-context-zone",
        "level-5-verbose",
        "nxlog-severity-word",
        "level-0-and-string-id",
    ],
)
def test_nxlog_fields(raw: bytes, expected: tuple[str, ...]) -> None:
    result = parse_nxlog_json(raw + b"\n", 4, make_ctx("otrf.json", tz=PLUS1))
    assert isinstance(result, WorkstationEvent), result
    got = (
        result.timestamp.isoformat(),
        result.event.code,
        result.event.provider,
        result.log.level,
        result.host.name,
    )
    assert got == expected
    assert (result.event.dataset, result.labels["channel"], result.event.original) == (
        "nxlog.json",
        "Application",
        raw.decode(),
    )


def test_record_number_gives_the_windows_identity() -> None:
    ctx = make_ctx("otrf.json")
    result = parse_nxlog_json(_line(RecordNumber=77), 4, ctx)
    moved = parse_nxlog_json(_line(RecordNumber=77, Message="rendered differently"), 9, ctx)
    assert isinstance(result, WorkstationEvent) and isinstance(moved, WorkstationEvent)
    assert (
        result.event_id
        == moved.event_id
        == compute_event_id("otrf.json", "DC01.pandalab.com", b"Application", "77")
    )


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b'{"SourceName": "x", truncated', "invalid_json"),
        (b"[1, 2]", "invalid_json"),
        (b"\xff\xfe not utf-8", "invalid_json"),
        (_line(Hostname=...), "missing_host"),
        (_line(Hostname="  "), "missing_host"),
        (_line(TimeCreated="yesterday"), "invalid_timestamp"),
        (_line(TimeCreated=..., **{"@timestamp": ...}), "invalid_timestamp"),
        (_line(EventID=...), "invalid_field"),
        (_line(SourceName=""), "invalid_field"),
        (_line(EventID="9" * 65), "invalid_field"),
        (_line(Hostname="h" * 300), "invalid_field"),
    ],
    ids=[
        "truncated",
        "array",
        "bad-utf8",
        "no-hostname",
        "blank-hostname",
        "bad-time",
        "no-time",
        "no-eventid",
        "empty-source",
        "code-too-long",
        "host-too-long",
    ],
)
def test_nxlog_rejections(raw: bytes, reason: str) -> None:
    result = parse_nxlog_json(raw, 1, make_ctx())
    assert isinstance(result, Rejected)
    assert result.reason == reason, result.detail


CRASH_EVENTS = {
    ("Application Error", "1000"),
    ("Windows Error Reporting", "1001"),
    ("Microsoft-Windows-DNS-Client", "1014"),
}


def test_empire_ninjacopy_zip_streamed(shared_data: Path) -> None:
    """The whole domain-controller capture: every line parses; the crash and DNS events are
    counted by hand with plain json and must match the parser's output."""
    path = shared_data / "otrf" / "empire_ninjacopy_dumping_ntds_dit_file.zip"
    by_hand: Counter[tuple[str, str]] = Counter()
    for _, line in zip_lines(path):
        record = json.loads(line)
        by_hand[(record["SourceName"], str(record["EventID"]))] += 1
    parsed_counts: Counter[tuple[str, str]] = Counter()
    results = parse_lines(zip_lines(path), "nxlog_json", make_ctx(path.name))
    read, parsed, reasons, events = tally(results)
    for event in events.values():
        parsed_counts[(event.event.provider, event.event.code)] += 1
    assert (read, parsed, dict(reasons)) == (13969, 13969, {})
    assert (
        {k: parsed_counts[k] for k in CRASH_EVENTS}
        == {k: by_hand[k] for k in CRASH_EVENTS}
        == {
            ("Application Error", "1000"): 1,
            ("Windows Error Reporting", "1001"): 5,
            ("Microsoft-Windows-DNS-Client", "1014"): 5,
        }
    )
    crash, dns = events[7], events[11160]
    assert (crash.timestamp, crash.log.level, crash.host.name) == (
        datetime(2023, 7, 19, 5, 33, 2, 835000, tzinfo=UTC),
        "error",
        "DC01.pandalab.com",
    )
    assert crash.message.startswith(
        "Faulting application name: launcher.exe_unknown, version: 0.0.0.0"
    )
    assert (dns.event.provider, dns.event.code, dns.log.level, dns.labels) == (
        "Microsoft-Windows-DNS-Client",
        "1014",
        "warning",
        {"channel": "System"},
    )
    assert (
        len({e.event_id for e in events.values()}) == 13969
    )  # positions keep identical lines apart


def test_cmd_wevtutil_zip_streamed(shared_data: Path) -> None:
    path = shared_data / "otrf" / "cmd_wevtutil_modify_security_eventlog_path.zip"
    read, parsed, reasons, events = tally(
        parse_lines(zip_lines(path), "nxlog_json", make_ctx(path.name))
    )
    assert (read, parsed, dict(reasons)) == (25208, 25208, {})
    first = events[1]
    assert (
        first.timestamp,
        first.host.name,
        first.event.provider,
        first.event.code,
        first.log.level,
    ) == (
        datetime(2022, 7, 5, 2, 1, 43, 189000, tzinfo=UTC),
        "DESKTOP-CQF82L6",
        "Microsoft-Windows-Security-SPP",
        "16384",
        "info",
    )
    assert {e.host.name for e in events.values()} == {"DESKTOP-CQF82L6"}
