"""Syslog on the real loghub Linux and OpenSSH files, read in place and cross-checked against
loghub's own structured parse of them."""

from __future__ import annotations

import csv
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deskwatch.producers.parse import parse_lines

from .samples import make_ctx, numbered_lines, tally


def _loghub(shared_data: Path, name: str, year: int | None) -> tuple[int, int, Any, dict[Any, Any]]:
    # loghub's lines carry no year and no zone: the context passes both (UTC; a year or inference).
    ctx = make_ctx(f"loghub/{name}", year=year, tz=UTC)
    return tally(parse_lines(numbered_lines(shared_data / "loghub" / name), "syslog", ctx))


def _csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


def test_loghub_linux(shared_data: Path) -> None:
    read, parsed, reasons, events = _loghub(shared_data, "Linux_2k.log", 2005)
    assert (read, parsed, dict(reasons)) == (2000, 2000, {})
    first, klog, last = events[1], events[539], events[2000]
    assert first.timestamp == datetime(2005, 6, 14, 15, 16, 1, tzinfo=UTC)
    assert (first.host.name, first.event.code, first.labels) == (
        "combo",
        "sshd(pam_unix)",
        {"pid": "19939"},
    )
    assert (klog.event.provider, klog.message) == (
        "klogind",
        (
            "Authentication failed from 163.27.187.39 (163.27.187.39): "
            "Permission denied in replay cache code "
        ),
    )
    assert last.timestamp == datetime(2005, 7, 27, 14, 42, 0, tzinfo=UTC)
    assert (last.event.code, last.message) == (
        "kernel",
        "Linux agpgart interface v0.100 (c) Dave Jones",
    )


def test_loghub_linux_agrees_with_loghub_structured_csv(shared_data: Path) -> None:
    """Host and tag agree with loghub's parse, except where loghub's tag keeps a version or a
    login marker ("syslogd 1.4.1", "-- root") and RFC 3164's tag stops at the blank."""
    _, _, _, events = _loghub(shared_data, "Linux_2k.log", 2005)
    rows = _csv(shared_data / "loghub" / "Linux_2k.log_structured.csv")
    assert len(rows) == len(events) == 2000
    assert all(
        events[int(r["LineId"])].host.name == r["Level"] for r in rows
    )  # "Level" holds the host
    differing = {
        r["Component"]: events[int(r["LineId"])].event.code
        for r in rows
        if events[int(r["LineId"])].event.code != r["Component"]
    }
    assert differing == {"syslogd 1.4.1": "syslogd", "-- root": "--"}


def test_loghub_openssh_with_year_inference(shared_data: Path) -> None:
    read, parsed, reasons, events = _loghub(shared_data, "OpenSSH_2k.log", None)
    assert (read, parsed, dict(reasons)) == (2000, 2000, {})
    # Reference 2026-01-01: "Dec 10" is placed in 2025, the latest year not after it.
    assert events[1].timestamp == datetime(2025, 12, 10, 6, 55, 46, tzinfo=UTC)
    assert events[2000].timestamp == datetime(2025, 12, 10, 11, 4, 45, tzinfo=UTC)
    assert (
        events[2000].message
        == "Failed password for invalid user user from 103.99.0.122 port 52683 ssh2"
    )
    rows = _csv(shared_data / "loghub" / "OpenSSH_2k.log_structured_corrected.csv")
    mismatched = [
        r["LineId"]
        for r in rows
        if (
            events[int(r["LineId"])].host.name,
            events[int(r["LineId"])].event.code,
            events[int(r["LineId"])].labels.get("pid"),
            events[int(r["LineId"])].message.strip(),
        )
        != (r["Component"], "sshd", r["Pid"], r["Content"].strip())
    ]
    assert mismatched == []
