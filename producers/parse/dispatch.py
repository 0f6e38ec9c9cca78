"""Pick a parser: by format name, or by sniffing a file's name and first bytes."""

from __future__ import annotations

import io
import json
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from functools import partial
from pathlib import Path
from typing import Any, Final, TypeAlias, TypeVar, cast

from deskwatch.producers.parse.cbs import parse_cbs
from deskwatch.producers.parse.contract import (
    LineParser,
    ParseResult,
    SourceContext,
    UnknownFormatError,
    quote,
)
from deskwatch.producers.parse.ecs_json import parse_ecs_json
from deskwatch.producers.parse.evtx_file import read_evtx, read_evtx_stream
from deskwatch.producers.parse.evtx_record import parse_evtx_record
from deskwatch.producers.parse.frame import frame_records
from deskwatch.producers.parse.jsonl import parse_jsonl
from deskwatch.producers.parse.nxlog_json import parse_nxlog_json
from deskwatch.producers.parse.syslog import parse_syslog

R = TypeVar("R")  # what a line reader gives per record: a parse result, or an encoded event
# parse_lines, or parse.encode.encode_lines: numbered lines, a format, a context -> (position, record, R)
LineReader: TypeAlias = Callable[[Iterable[tuple[int, bytes]], str, SourceContext], Iterator[tuple[int, bytes, R]]]

PARSERS: Final[dict[str, LineParser]] = {
    "jsonl": parse_jsonl,
    "ecs_json": parse_ecs_json,
    "nxlog_json": parse_nxlog_json,
    "syslog": parse_syslog,
    "cbs": parse_cbs,
    "evtx": parse_evtx_record,  # one record's JSON; whole files go through read_evtx
}
EVTX_MAGIC: Final = b"ElfFile\x00"
SNIFF_LINES: Final = 10
SNIFF_BYTES: Final = 65_536  # the head of an input that ``detect_format`` reads
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
    """The format of a file from its first bytes, then its extension; raises when neither tells.

    The first of its first ``SNIFF_LINES`` non-blank lines that tells decides: one damaged or
    foreign line at the top of a file (a banner, a cut record) no longer refuses the whole file;
    it is parsed with the rest, rejected, and sent to the dead-letter topic like any bad line.
    """
    if first_bytes.startswith(EVTX_MAGIC) or path.suffix.lower() == ".evtx":
        return "evtx"
    lines = _first_lines(first_bytes)
    for line in lines:
        found = _line_format(path, line)
        if found is not None:
            return found
    after = f" or the {len(lines) - 1} lines after it" if len(lines) > 1 else ""
    raise UnknownFormatError(f"cannot tell the format of {str(path)!r} from {quote(lines[0] if lines else b'')}{after}")


def choose_format(fmt: str, name: Path, head: bytes) -> str:
    """The format a whole input is read in: ``fmt`` when named, else ``detect_format``'s from its
    ``name`` and ``head`` (its first bytes). An empty input holds no record in any format, so it
    reads as none (as ``jsonl``) rather than as unknown. (A followed file may still grow: the tail
    sniffs with ``detect_format`` alone.)"""
    if fmt != "auto":
        return fmt
    return detect_format(name, head) if head else "jsonl"


def sniff_head(stream: io.BufferedReader, fmt: str) -> bytes:
    """The first ``SNIFF_BYTES`` of ``stream``, left unread, when its format is to be detected."""
    return stream.peek(SNIFF_BYTES)[:SNIFF_BYTES] if fmt == "auto" else b""


def member_name(path: Path, source: str) -> Path:
    """The name a source of ``path`` is sniffed by: its own for an archive's member
    (``archive.zip!member``, ``zip_members``), else ``path``'s."""
    return Path(source.removeprefix(f"{path}!"))


def _line_format(path: Path, line: bytes) -> str | None:
    if line.startswith(b"{"):
        found = _json_format(line)
        if found is not None:
            return found
        return "jsonl" if path.suffix.lower() in (".jsonl", ".ndjson") else None
    if SYSLOG_START.match(line):
        return "syslog"
    if CBS_START.match(line):
        return "cbs"
    return None


def parse_file(path: Path, context: SourceContext, fmt: str = "auto") -> Iterator[tuple[int | str, bytes, ParseResult]]:
    """Every record of one file, parsed: ``(position, original bytes, result)``; the format is
    sniffed (``detect_format``) unless named. A damaged evtx chunk is one rejected result. A zip
    archive's files are parsed in turn, each as its own source (``archive.zip!member``), as
    ``deskwatch produce`` reads them (the OTRF captures come zipped; an evtx member is copied to a
    temporary file first, ``read_evtx_stream``)."""
    return read_file(path, context, fmt, parse_lines)


def read_file(path: Path, context: SourceContext, fmt: str,
              read_lines: LineReader[R]) -> Iterator[tuple[int | str, bytes, R | ParseResult]]:
    """``parse_file`` with the lines of line formats read by ``read_lines`` (``parse_lines``, or
    ``parse.encode.encode_lines`` for a publishing source: each event's host and JSON bytes); an
    evtx file's records are parsed as ``parse_file`` parses them."""
    if path.suffix.lower() == ".zip":
        yield from _read_zip(path, context, fmt, read_lines)
        return
    if fmt == "auto":
        with path.open("rb") as head:
            fmt = choose_format(fmt, path, head.read(SNIFF_BYTES))
    if fmt == "evtx":
        yield from read_evtx(path, context)
        return
    with path.open("rb") as stream:
        yield from read_lines(enumerate(stream, start=1), fmt, context)


def parse_lines(
    lines: Iterable[tuple[int, bytes]], fmt: str, ctx: SourceContext
) -> Iterator[tuple[int, bytes, ParseResult]]:
    """Frame numbered lines into records and parse each: ``(position, record bytes, result)``."""
    parse = parser_for(fmt)
    for position, record in frame_records(lines, fmt):
        yield position, record, parse(record, position, ctx)


def zip_members(path: Path, archive: zipfile.ZipFile) -> Iterator[tuple[str, Callable[[], io.BufferedReader[Any]], int]]:
    """``(source name, opener, size)`` of each file of ``archive`` (opened from ``path``) that may
    hold logs: not folders, not macOS resource forks. The source is ``archive.zip!member``."""
    for info in archive.infolist():
        if not info.is_dir() and not info.filename.startswith("__MACOSX/"):
            yield f"{path}!{info.filename}", partial(_open_member, archive, info), info.file_size


def _open_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo) -> io.BufferedReader[zipfile.ZipExtFile]:
    # ZipFile.open reads a member as a ZipExtFile (typeshed says IO[bytes]); buffered for peek()
    return io.BufferedReader(cast(zipfile.ZipExtFile, archive.open(info)))


def _read_zip(path: Path, context: SourceContext, fmt: str,
              read_lines: LineReader[R]) -> Iterator[tuple[int | str, bytes, R | ParseResult]]:
    with zipfile.ZipFile(path) as archive:
        for source, opener, _ in zip_members(path, archive):
            member = replace(context, source=source)
            with opener() as stream:
                chosen = choose_format(fmt, member_name(path, source), sniff_head(stream, fmt))
                if chosen == "evtx":
                    yield from read_evtx_stream(stream, member)
                else:
                    yield from read_lines(enumerate(stream, start=1), chosen, member)


def _first_lines(first_bytes: bytes) -> list[bytes]:
    lines = (line.strip() for line in first_bytes.removeprefix(b"\xef\xbb\xbf").splitlines())
    return [line for line in lines if line][:SNIFF_LINES]


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
