"""Syslog: RFC 3164 and RFC 5424 records, RFC examples and edge cases (the real loghub files are
in test_syslog_loghub.py)."""

from __future__ import annotations

from datetime import timedelta, timezone
from typing import Any

import pytest
from deskwatch.producers.parse import Rejected, parse_syslog
from deskwatch.schemas.event import WorkstationEvent

from .samples import make_ctx

MINUS7 = timezone(timedelta(hours=-7))
RFC3164_EXAMPLE = b"<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8"
RFC5424_SD = (
    "<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 "
    '[exampleSDID@32473 iut="3" '
    'eventSource="Application" eventID="1011"][examplePriority@32473 class="high"] '
    "\ufeffAn application event log entry..."
).encode()

CASES: list[tuple[bytes, dict[str, Any], tuple[Any, ...]]] = [
    (
        RFC3164_EXAMPLE,
        {},
        (
            "2025-10-11T22:14:15+00:00",
            "mymachine",
            "su",
            "su",
            "critical",
            2,
            {"facility": "4"},
            "'su root' failed for lonvick on /dev/pts/8",
            "syslog.rfc3164",
        ),
    ),
    (
        b"Jun 14 15:16:01 combo sshd(pam_unix)[19939]: authentication failure; rhost=218.188.2.4",
        {"year": 2005},
        (
            "2005-06-14T15:16:01+00:00",
            "combo",
            "sshd(pam_unix)",
            "sshd(pam_unix)",
            "info",
            None,
            {"pid": "19939"},
            "authentication failure; rhost=218.188.2.4",
            "syslog.rfc3164",
        ),
    ),
    (
        b"Dec 31 23:59:59 pc-1 cron[1]: late",
        {},
        (
            "2025-12-31T23:59:59+00:00",
            "pc-1",
            "cron",
            "cron",
            "info",
            None,
            {"pid": "1"},
            "late",
            "syslog.rfc3164",
        ),
    ),
    (
        b"Jan  1 23:00:00 pc-1 cron: within the day of slack",
        {},
        (
            "2026-01-01T23:00:00+00:00",
            "pc-1",
            "cron",
            "cron",
            "info",
            None,
            {},
            "within the day of slack",
            "syslog.rfc3164",
        ),
    ),
    (
        b"Jan  2 00:00:01 pc-1 cron: beyond the slack",
        {},
        (
            "2025-01-02T00:00:01+00:00",
            "pc-1",
            "cron",
            "cron",
            "info",
            None,
            {},
            "beyond the slack",
            "syslog.rfc3164",
        ),
    ),
    (
        b"Feb 29 12:00:00 pc-1 cron: leap day",
        {},
        (
            "2024-02-29T12:00:00+00:00",
            "pc-1",
            "cron",
            "cron",
            "info",
            None,
            {},
            "leap day",
            "syslog.rfc3164",
        ),
    ),
    (
        b"<13>Feb  5 17:32:18 sshd[42]: no host in the line",
        {"default_host": "pc-9", "tz": MINUS7},
        (
            "2025-02-05T17:32:18-07:00",
            "pc-9",
            "sshd",
            "sshd",
            "notice",
            5,
            {"facility": "1", "pid": "42"},
            "no host in the line",
            "syslog.rfc3164",
        ),
    ),
    (
        b"Jun 19 04:09:11 combo syslogd 1.4.1: restart.",
        {"year": 2005},
        (
            "2005-06-19T04:09:11+00:00",
            "combo",
            "syslogd",
            "syslogd",
            "info",
            None,
            {},
            "1.4.1: restart.",
            "syslog.rfc3164",
        ),
    ),
    (
        (
            b"<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - "
            b"\xef\xbb\xbf'su root' failed"
        ),
        {},
        (
            "2003-10-11T22:14:15.003000+00:00",
            "mymachine.example.com",
            "su",
            "ID47",
            "critical",
            2,
            {"facility": "4"},
            "'su root' failed",
            "syslog.rfc5424",
        ),
    ),
    (
        (
            b"<165>1 2003-10-11T22:14:15.003000-07:00 192.0.2.1 myproc 8710 - - "
            b"%% It's time to make the do-nuts."
        ),
        {},
        (
            "2003-10-11T22:14:15.003000-07:00",
            "192.0.2.1",
            "myproc",
            "myproc",
            "notice",
            5,
            {"facility": "20", "pid": "8710"},
            "%% It's time to make the do-nuts.",
            "syslog.rfc5424",
        ),
    ),
    (
        RFC5424_SD,
        {},
        (
            "2003-10-11T22:14:15.003000+00:00",
            "mymachine.example.com",
            "evntslog",
            "ID47",
            "notice",
            5,
            {
                "facility": "20",
                "exampleSDID@32473/iut": "3",
                "exampleSDID@32473/eventSource": "Application",
                "exampleSDID@32473/eventID": "1011",
                "examplePriority@32473/class": "high",
            },
            "An application event log entry...",
            "syslog.rfc5424",
        ),
    ),
    (
        b'<14>1 2024-05-01T10:00:00Z - app - - [x@1 q="say \\"hi\\" \\] \\\\"] text',
        {"default_host": "pc-3"},
        (
            "2024-05-01T10:00:00+00:00",
            "pc-3",
            "app",
            "app",
            "info",
            6,
            {"facility": "1", "x@1/q": 'say "hi" ] \\'},
            "text",
            "syslog.rfc5424",
        ),
    ),
]


@pytest.mark.parametrize(
    ("raw", "overrides", "expected"),
    CASES,
    ids=[
        "rfc3164-example",
        "loghub-linux-line",
        "dec31-previous-year",
        "slack-day-next-year",
        "after-slack-previous-year",
        "feb29-leap-year",
        "no-host-default-and-zone",
        "tag-without-colon",
        "rfc5424-msgid-bom",
        "rfc5424-nil-msgid",
        "rfc5424-structured-data",
        "rfc5424-escapes-nil-host",
    ],
)
def test_syslog_fields(raw: bytes, overrides: dict[str, Any], expected: tuple[Any, ...]) -> None:
    result = parse_syslog(raw, 3, make_ctx("syslog-udp", **overrides))
    assert isinstance(result, WorkstationEvent), result
    got = (
        result.timestamp.isoformat(),
        result.host.name,
        result.event.provider,
        result.event.code,
        result.log.level,
        result.event.severity,
        result.labels,
        result.message,
        result.event.dataset,
    )
    assert got == expected
    assert result.event.original == raw.decode()


@pytest.mark.parametrize(
    ("raw", "overrides", "reason"),
    [
        (b"<192>Oct 11 22:14:15 host su: too high a PRI", {}, "invalid_field"),
        (b"Feb 30 22:14:15 host su: no such day", {}, "invalid_timestamp"),
        (b"Feb 12 25:14:15 host su: no such hour", {}, "invalid_timestamp"),
        (b"<14>1 - host app - - - nil timestamp", {}, "invalid_timestamp"),
        (b"<14>1 2024-13-01T00:00:00Z host app - - - month 13", {}, "invalid_timestamp"),
        (b"<14>1 2024-05-01T10:00:00Z - app - - - nil host", {}, "missing_host"),
        (b"<13>Feb  5 17:32:18 sshd[42]: nothing names the host", {}, "missing_host"),
        (b'<14>1 2024-05-01T10:00:00Z host app - - [x@1 a="open', {}, "invalid_field"),
        (b"<14>1 2024-05-01T10:00:00Z host app - - nonsense", {}, "invalid_field"),
        (b"Jun 14 15:16:01 combo", {}, "unparseable_line"),
        (b"just some text", {}, "unparseable_line"),
        (b"", {}, "unparseable_line"),
    ],
    ids=[
        "pri-192",
        "feb-30",
        "hour-25",
        "5424-nil-time",
        "5424-month-13",
        "5424-nil-host",
        "3164-no-host",
        "unterminated-sd",
        "sd-neither-nil-nor-bracket",
        "host-but-no-tag",
        "free-text",
        "empty",
    ],
)
def test_syslog_rejections(raw: bytes, overrides: dict[str, Any], reason: str) -> None:
    result = parse_syslog(raw, 1, make_ctx(**overrides))
    assert isinstance(result, Rejected)
    assert result.reason == reason, result.detail
