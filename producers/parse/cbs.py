"""Windows CBS / servicing log lines (CBS.log, behind Windows Update):
``2016-09-28 04:30:30, Info                  CBS    Loaded Servicing Stack ...``.

The lines carry no host, so the host comes from the source's context. event.provider and, by
default, event.code are the component column (CBS, CSI, ...); a line that reports an HRESULT takes
the HRESULT as its code, because that, not the free text, is what identifies a servicing failure.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Final

from deskwatch.producers.parse.assemble import (
    assemble_event,
    clip_message,
    decode_text,
    strip_terminator,
)
from deskwatch.producers.parse.contract import ParseResult, Rejected, SourceContext, quote
from deskwatch.producers.parse.levels import resolve_level

DATASET = "windows.cbs"
RECORD_START: Final = re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, ")
LINE: Final = re.compile(
    r"(?P<ts>\d{4}-\d\d-\d\d \d\d:\d\d:\d\d), (?P<level>\w+)\s+(?P<component>[^\s]+)"
    r"(?:\s+(?P<msg>.*))?",
    re.DOTALL,
)
HRESULT: Final = re.compile(r"HRESULT = (?P<code>0x[0-9a-fA-F]{8})(?: - (?P<name>\w+))?")


def parse_cbs(raw: bytes, position: int, ctx: SourceContext) -> ParseResult:
    """One event from a CBS record (a line plus any continuation lines)."""
    raw = strip_terminator(raw)
    match = LINE.match(decode_text(raw))
    if match is None:
        return Rejected("unparseable_line", f"not a CBS line: {quote(raw)}")
    if ctx.default_host is None:
        return Rejected("missing_host", "CBS lines carry no host and the source configures none")
    try:
        # CBS writes local wall-clock time without a zone: the context says which zone.
        stamp = datetime.strptime(match["ts"], "%Y-%m-%d %H:%M:%S").replace(tzinfo=ctx.tz)
    except ValueError:
        return Rejected("invalid_timestamp", f"no such time {quote(match['ts'])}")
    level, labels = resolve_level(match["level"])
    message = match["msg"] or ""
    code = match["component"]
    if (hresult := HRESULT.search(message)) is not None:
        code = hresult["code"].lower()
        if hresult["name"]:
            labels["hresult_name"] = hresult["name"]
    fields = {
        "@timestamp": stamp,
        "event": {"code": code, "provider": match["component"]},
        "host": {"name": ctx.default_host},
        "log": {"level": level},
        "message": clip_message(message),
        "labels": labels,
    }
    return assemble_event(fields, raw=raw, position=position, ctx=ctx, dataset=DATASET)
