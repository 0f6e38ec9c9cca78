"""Pick a parser: by format name, or by sniffing a file's name and first bytes."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Final

from deskwatch.producers.parse.cbs import parse_cbs
from deskwatch.producers.parse.contract import (
    LineParser,
    ParseResult,
    SourceContext,
    UnknownFormatError,
    quote,
)
from deskwatch.producers.parse.ecs_json import parse_ecs_json
from deskwatch.producers.parse.evtx_record import parse_evtx_record
from deskwatch.producers.parse.frame import frame_records
from deskwatch.producers.parse.jsonl import parse_jsonl
from deskwatch.producers.parse.nxlog_json import parse_nxlog_json
from deskwatch.producers.parse.syslog import parse_syslog

PARSERS: Final[dict[str, LineParser]] = {
    "jsonl": parse_jsonl,
    "ecs_json": parse_ecs_json,
    "nxlog_json": parse_nxlog_json,
    "syslog": parse_syslog,
    "cbs": parse_cbs,
    "evtx": parse_evtx_record,  # one record's JSON; whole files go through read_evtx
}
EVTX_MAGIC: Final = b"ElfFile\x00"
SYSLOG_START: Final = re.compile(rb"<\d{1,3}>|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d ")
CBS_START: Final = re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, \w+")
# When the first JSON line is cut off by the sniffing window, look for the telling keys instead.
KEY_HINTS: Final = (
    ("ecs_json", (b'"winlog"',)),
    ("ecs_json", (b'"ecs"',)),
    ("nxlog_json", (b'"EventID"', b'"Hostname"')),
    ("jsonl", (b'"event"', b'"host"')),
)


def parser_for(fmt: str) -> LineParser:
    """The parser of a format name (one of ``PARSERS``)."""
    try:
        return PARSERS[fmt]
    except KeyError:
        raise UnknownFormatError(f"unknown format {fmt!r}; known: {', '.join(PARSERS)}") from None


def detect_format(path: Path, first_bytes: bytes) -> str:
    """The format of a file from its first bytes, then its extension; raises when neither tells."""
    if first_bytes.startswith(EVTX_MAGIC) or path.suffix.lower() == ".evtx":
        return "evtx"
    line = _first_line(first_bytes)
    if line.startswith(b"{"):
        found = _json_format(line)
        if found is not None:
            return found
    elif SYSLOG_START.match(line):
        return "syslog"
    elif CBS_START.match(line):
        return "cbs"
    if path.suffix.lower() in (".jsonl", ".ndjson") and line.startswith(b"{"):
        return "jsonl"
    raise UnknownFormatError(f"cannot tell the format of {str(path)!r} from {quote(line)}")


def parse_lines(
    lines: Iterable[tuple[int, bytes]], fmt: str, ctx: SourceContext
) -> Iterator[tuple[int, bytes, ParseResult]]:
    """Frame numbered lines into records and parse each: ``(position, record bytes, result)``."""
    parse = parser_for(fmt)
    for position, record in frame_records(lines, fmt):
        yield position, record, parse(record, position, ctx)


def _first_line(first_bytes: bytes) -> bytes:
    for line in first_bytes.removeprefix(b"\xef\xbb\xbf").splitlines():
        if line.strip():
            return line.strip()
    return b""


def _json_format(line: bytes) -> str | None:
    try:
        data = json.loads(line)
    except ValueError:
        data = None
    if isinstance(data, dict):
        if "winlog" in data or "ecs" in data:
            return "ecs_json"
        if "EventID" in data and "Hostname" in data:
            return "nxlog_json"
        if isinstance(data.get("event"), dict) and isinstance(data.get("host"), dict):
            return "jsonl"
        return None
    for fmt, keys in KEY_HINTS:
        if all(key in line for key in keys):
            return fmt
    return None
