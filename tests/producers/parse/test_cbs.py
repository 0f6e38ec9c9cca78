"""CBS lines: fields of hand-written lines, then the real loghub Windows_2k.log read in place."""

from __future__ import annotations

import csv
from collections import Counter
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from deskwatch.producers.parse import Rejected, parse_cbs, parse_lines
from deskwatch.schemas.event import WorkstationEvent

from .samples import make_ctx, numbered_lines, tally

PLUS2 = timezone(timedelta(hours=2))
LINE_1 = b"2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack v6.1.7601.23505"


@pytest.mark.parametrize(
    ("raw", "tz", "expected"),
    [
        (
            LINE_1 + b"\r\n",
            UTC,
            (
                "2016-09-28T04:30:30+00:00",
                "CBS",
                "CBS",
                "info",
                "Loaded Servicing Stack v6.1.7601.23505",
                {},
            ),
        ),
        (
            LINE_1,
            PLUS2,
            (
                "2016-09-28T04:30:30+02:00",
                "CBS",
                "CBS",
                "info",
                "Loaded Servicing Stack v6.1.7601.23505",
                {},
            ),
        ),
        (
            (
                b"2016-09-28 04:32:17, Error                 CBS    "
                b"Failed. [HRESULT = 0x800F080D - CBS_E_X]"
            ),
            UTC,
            (
                "2016-09-28T04:32:17+00:00",
                "0x800f080d",
                "CBS",
                "error",
                "Failed. [HRESULT = 0x800F080D - CBS_E_X]",
                {"hresult_name": "CBS_E_X"},
            ),
        ),
        (
            (
                b"2016-09-28 04:30:31, Warning               CSI    "
                b"00000001@2016/9/27 Wcp\n  continued"
            ),
            UTC,
            (
                "2016-09-28T04:30:31+00:00",
                "CSI",
                "CSI",
                "warning",
                "00000001@2016/9/27 Wcp\n  continued",
                {},
            ),
        ),
        (
            b"2016-09-28 04:30:31, Fehler                CBS    localised level",
            UTC,
            (
                "2016-09-28T04:30:31+00:00",
                "CBS",
                "CBS",
                "info",
                "localised level",
                {"log_level_original": "Fehler"},
            ),
        ),
        (
            b"2016-09-28 04:30:31, Perf                  CBS",
            UTC,
            ("2016-09-28T04:30:31+00:00", "CBS", "CBS", "info", "", {}),
        ),
    ],
    ids=[
        "info-crlf",
        "zone-from-context",
        "hresult-code",
        "continuation-kept",
        "unknown-level",
        "no-message",
    ],
)
def test_cbs_fields(raw: bytes, tz: timezone, expected: tuple[object, ...]) -> None:
    result = parse_cbs(raw, 7, make_ctx("cbs.log", default_host="pc-042", tz=tz))
    assert isinstance(result, WorkstationEvent), result
    got = (
        result.timestamp.isoformat(),
        result.event.code,
        result.event.provider,
        result.log.level,
        result.message,
        result.labels,
    )
    assert got == expected
    assert result.host.name == "pc-042"
    assert result.event.dataset == "windows.cbs"
    assert result.event.original == raw.rstrip(b"\r\n").decode()


@pytest.mark.parametrize(
    ("raw", "host", "reason"),
    [
        (LINE_1, None, "missing_host"),
        (b"2016-02-30 04:30:30, Info   CBS    no such day", "pc", "invalid_timestamp"),
        (b"2016-09-28 04:30:30 Info   CBS    no comma", "pc", "unparseable_line"),
        (b"   continuation without a record", "pc", "unparseable_line"),
        (b"", "pc", "unparseable_line"),
    ],
    ids=["no-host-configured", "feb-30", "no-comma", "orphan-continuation", "empty"],
)
def test_cbs_rejections(raw: bytes, host: str | None, reason: str) -> None:
    result = parse_cbs(raw, 1, make_ctx(default_host=host))
    assert isinstance(result, Rejected)
    assert result.reason == reason


def test_same_line_same_id_and_position_matters() -> None:
    ctx = make_ctx("cbs.log", default_host="pc")
    first, again, elsewhere = (
        parse_cbs(LINE_1, 1, ctx),
        parse_cbs(LINE_1 + b"\r\n", 1, ctx),
        parse_cbs(LINE_1, 2, ctx),
    )
    assert isinstance(first, WorkstationEvent) and isinstance(again, WorkstationEvent)
    assert isinstance(elsewhere, WorkstationEvent)
    assert first.event_id == again.event_id != elsewhere.event_id


def _loghub_windows(
    shared_data: Path, host: str | None
) -> tuple[int, int, Counter[str], dict[Any, Any]]:
    # The loghub CBS.log names no machine and no zone: the context supplies both (UTC here).
    ctx = make_ctx("loghub/Windows_2k.log", default_host=host, tz=UTC)
    return tally(parse_lines(numbered_lines(shared_data / "loghub" / "Windows_2k.log"), "cbs", ctx))


def test_loghub_windows_counts_and_spot_checks(shared_data: Path) -> None:
    read, parsed, reasons, events = _loghub_windows(shared_data, "win7-cbs")
    assert (read, parsed, dict(reasons)) == (2000, 2000, {})
    first, csi, failure = events[1], events[2], events[936]
    assert first.timestamp == datetime(2016, 9, 28, 4, 30, 30, tzinfo=UTC)
    assert (first.event.provider, first.event.code, first.host.name) == ("CBS", "CBS", "win7-cbs")
    assert first.message.startswith("Loaded Servicing Stack v6.1.7601.23505 with Core: C:\\Windows")
    assert (csi.event.provider, csi.event.code) == ("CSI", "CSI")
    assert failure.timestamp == datetime(2016, 9, 28, 4, 32, 17, tzinfo=UTC)
    assert (failure.event.code, failure.labels) == (
        "0x80070001",
        {"hresult_name": "ERROR_INVALID_FUNCTION"},
    )
    with open(shared_data / "loghub" / "Windows_2k.log", "rb") as handle:
        hresult_lines = sum(b"HRESULT = 0x" in line for line in handle)
    assert sum(e.event.code.startswith("0x") for e in events.values()) == hresult_lines == 474


def test_loghub_windows_matches_loghub_structured_csv(shared_data: Path) -> None:
    """Component and content of every line agree with loghub's own parse of the file."""
    _, _, _, events = _loghub_windows(shared_data, "win7-cbs")
    with open(
        shared_data / "loghub" / "Windows_2k.log_structured.csv", newline="", encoding="utf-8"
    ) as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == len(events)
    mismatches = [
        row["LineId"]
        for row in rows
        if (events[int(row["LineId"])].event.provider, events[int(row["LineId"])].message.strip())
        != (row["Component"], row["Content"].strip())
    ]
    assert mismatches == []


def test_loghub_windows_without_a_host_rejects_every_line(shared_data: Path) -> None:
    read, parsed, reasons, _ = _loghub_windows(shared_data, None)
    assert (read, parsed, dict(reasons)) == (2000, 0, {"missing_host": 2000})
