"""Framing: continuation lines join the record they follow; positions are first lines'."""

from __future__ import annotations

import pytest
from deskwatch.producers.parse import UnknownFormatError, frame_records

CBS_A = b"2016-09-28 04:30:30, Info                  CBS    first"
CBS_B = b"2016-09-28 04:30:31, Error                 CSI    second"
SYS_A = b"Jun 14 15:16:01 combo kernel: Call Trace:"
SYS_B = b"<13>Jun 14 15:16:02 combo su: next"


@pytest.mark.parametrize(
    ("fmt", "lines", "records"),
    [
        ("cbs", [(1, CBS_A + b"\r\n"), (2, CBS_B + b"\r\n")], [(1, CBS_A), (2, CBS_B)]),
        (
            "cbs",
            [(1, CBS_A), (2, b"   at frame 1"), (3, b"   at frame 2\n"), (4, CBS_B)],
            [(1, CBS_A + b"\n   at frame 1\n   at frame 2"), (4, CBS_B)],
        ),
        (
            "cbs",
            [(1, b"orphan before any record"), (2, CBS_A), (3, b"tail")],
            [(1, b"orphan before any record"), (2, CBS_A + b"\ntail")],
        ),
        ("cbs", [(1, CBS_A), (2, b"\r\n"), (3, b"  "), (4, b"more")], [(1, CBS_A + b"\nmore")]),
        (
            "syslog",
            [(10, SYS_A), (11, b" [<c0>] do_page_fault"), (12, SYS_B)],
            [(10, SYS_A + b"\n [<c0>] do_page_fault"), (12, SYS_B)],
        ),
        (
            "syslog",
            [
                (1, b"<34>1 2003-10-11T22:14:15.003Z h su - - - a"),
                (2, b"<34>1 2003-10-11T22:14:16Z h su - - - b"),
            ],
            [
                (1, b"<34>1 2003-10-11T22:14:15.003Z h su - - - a"),
                (2, b"<34>1 2003-10-11T22:14:16Z h su - - - b"),
            ],
        ),
        (
            "jsonl",
            [(1, b'{"a": 1}\n'), (2, b"\n"), (3, b"  not json, its own record"), (4, b""), (5, b" \t\x0b\x0c\r\n"),
             (6, b"\xa0\n")],
            [(1, b'{"a": 1}'), (3, b"  not json, its own record"), (6, b"\xa0")],
        ),
        ("nxlog_json", [], []),
    ],
    ids=[
        "cbs-crlf",
        "cbs-continuations",
        "cbs-leading-orphan",
        "cbs-blank-lines-skipped",
        "syslog-trace",
        "syslog-5424",
        "jsonl-one-per-line",
        "empty-input",
    ],
)
def test_frame_records(
    fmt: str, lines: list[tuple[int, bytes]], records: list[tuple[int, bytes]]
) -> None:
    assert list(frame_records(lines, fmt)) == records


def test_runaway_record_is_cut_at_the_limit() -> None:
    lines = [(1, CBS_A)] + [(n, b"x" * 40) for n in range(2, 12)]
    records = list(frame_records(lines, "cbs", max_bytes=200))
    assert [pos for pos, _ in records] == [1, 5, 9]
    assert b"\n".join(r for _, r in records).count(b"x" * 40) == 10


def test_unknown_format_raises() -> None:
    with pytest.raises(UnknownFormatError):
        list(frame_records([(1, b"x")], "csv"))
