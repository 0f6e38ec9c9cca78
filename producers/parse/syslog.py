"""Syslog: RFC 3164 (BSD, year-less, as in /var/log/messages) and RFC 5424 (structured data).

event.provider is the tag / APP-NAME; event.code is a stable code for rules: the tag, or for
RFC 5424 the MSGID when the sender gives one. The PRI's severity becomes log.level and
event.severity; lines without a PRI (files written by syslogd) are ``info``, severity unset.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from typing import Any, Final

from deskwatch.producers.parse.assemble import (
    assemble_event,
    clip_message,
    decode_text,
    strip_terminator,
)
from deskwatch.producers.parse.contract import ParseResult, Rejected, SourceContext, quote
from deskwatch.producers.parse.levels import SYSLOG_SEVERITIES
from deskwatch.producers.parse.parse_time import MONTHS, parse_iso, place_in_year
from deskwatch.producers.parse.structured_data import parse_structured_data

DATASET_3164 = "syslog.rfc3164"
DATASET_5424 = "syslog.rfc5424"
NIL = "-"
PRI = r"(?:<(?P<pri>\d{1,3})>)"
RFC5424: Final = re.compile(
    PRI + r"1 (?P<ts>\S+) (?P<host>\S+) (?P<app>\S+) (?P<procid>\S+) (?P<msgid>\S+) (?P<rest>.*)",
    re.DOTALL,
)
RFC3164: Final = re.compile(
    PRI + r"?(?P<mon>[A-Z][a-z]{2}) (?P<day>[ \d]\d) (?P<clock>\d\d:\d\d:\d\d) (?P<rest>.*)",
    re.DOTALL,
)
# RFC 3164 leaves the tag loose; in practice it runs to "[", ":" or a blank ("sshd(pam_unix)[1]:").
TAG: Final = re.compile(
    r"(?P<tag>[^\s\[:]{1,64})(?:\[(?P<pid>[^\]]*)\])?:?[ \t]?(?P<msg>.*)", re.DOTALL
)
# A first word that is a tag ("sshd[12]:", "kernel:") means the sender wrote no host name.
TAG_WITHOUT_HOST: Final = re.compile(r"[^\s\[:]+(?:\[[^\]]*\])?:")


def parse_syslog(raw: bytes, position: int, ctx: SourceContext) -> ParseResult:
    """One event from an RFC 5424 or RFC 3164 syslog record."""
    raw = strip_terminator(raw)
    text = decode_text(raw)
    if (match := RFC5424.match(text)) is not None:
        return _from_5424(match, raw, position, ctx)
    if (match := RFC3164.match(text)) is not None:
        return _from_3164(match, raw, position, ctx)
    return Rejected("unparseable_line", f"neither RFC 5424 nor RFC 3164: {quote(raw)}")


def _from_3164(match: re.Match[str], raw: bytes, position: int, ctx: SourceContext) -> ParseResult:
    pri = _pri(match)
    if isinstance(pri, Rejected):
        return pri
    stamp = _stamp_3164(match, ctx)
    if isinstance(stamp, Rejected):
        return stamp
    host, rest = _split_host(match["rest"], ctx)
    if host is None:
        return Rejected("missing_host", f"no host in the line and none configured: {quote(raw)}")
    tag = TAG.match(rest)
    if tag is None:
        return Rejected("unparseable_line", f"no tag after the host: {quote(raw)}")
    fields = _fields(stamp, host, tag["tag"], tag["tag"], pri, tag["msg"])
    if tag["pid"]:
        fields["labels"]["pid"] = tag["pid"]
    return assemble_event(fields, raw=raw, position=position, ctx=ctx, dataset=DATASET_3164)


def _stamp_3164(match: re.Match[str], ctx: SourceContext) -> datetime | Rejected:
    hh, mm, ss = (int(part) for part in match["clock"].split(":"))
    if hh > 23 or mm > 59 or ss > 60:
        return Rejected("invalid_timestamp", f"clock {quote(match['clock'])} out of range")
    # A leap second (:60) is kept inside its minute: datetime has no 60th second.
    clock = time(hh, mm, min(ss, 59))
    month, day = MONTHS.get(match["mon"], 0), int(match["day"])
    stamp = place_in_year(month, day, clock, tz=ctx.tz, year=ctx.year, reference=ctx.reference_time)
    if stamp is None:
        return Rejected("invalid_timestamp", f"no such date {quote(match['mon'] + match['day'])}")
    return stamp


def _from_5424(match: re.Match[str], raw: bytes, position: int, ctx: SourceContext) -> ParseResult:
    pri = _pri(match)
    if isinstance(pri, Rejected):
        return pri
    stamp = parse_iso(match["ts"], ctx.tz) if match["ts"] != NIL else None
    if stamp is None:
        return Rejected("invalid_timestamp", f"TIMESTAMP {quote(match['ts'])} is not RFC 3339")
    host = match["host"] if match["host"] != NIL else ctx.default_host
    if host is None:
        return Rejected("missing_host", f"HOSTNAME is nil and none configured: {quote(raw)}")
    sd = parse_structured_data(match["rest"])
    if isinstance(sd, str):
        return Rejected("invalid_field", f"STRUCTURED-DATA: {sd} in {quote(match['rest'])}")
    labels, message = sd
    app = match["app"] if match["app"] != NIL else "syslog"
    code = match["msgid"] if match["msgid"] != NIL else app
    fields = _fields(stamp, host, app, code, pri, message.removeprefix("\ufeff"))
    fields["labels"].update(labels)
    if match["procid"] != NIL:
        fields["labels"]["pid"] = match["procid"]
    return assemble_event(fields, raw=raw, position=position, ctx=ctx, dataset=DATASET_5424)


def _pri(match: re.Match[str]) -> int | None | Rejected:
    if match["pri"] is None:
        return None
    value = int(match["pri"])
    # 23 facilities x 8 severities: anything above 191 is not a PRI.
    return value if value <= 191 else Rejected("invalid_field", f"PRI {quote(value)} above 191")


def _split_host(rest: str, ctx: SourceContext) -> tuple[str | None, str]:
    if TAG_WITHOUT_HOST.match(rest):
        return ctx.default_host, rest
    host, _, tail = rest.partition(" ")
    return (host or ctx.default_host), tail.lstrip(" ")


def _fields(
    stamp: Any, host: str, provider: str, code: str, pri: int | None, msg: str
) -> dict[str, Any]:
    labels: dict[str, str] = {}
    if pri is not None:
        labels["facility"] = str(pri // 8)
    return {
        "@timestamp": stamp,
        "event": {"code": code, "provider": provider, "severity": None if pri is None else pri % 8},
        "host": {"name": host},
        "log": {"level": "info" if pri is None else SYSLOG_SEVERITIES[pri % 8]},
        "message": clip_message(msg),
        "labels": labels,
    }
