"""Framing: join continuation lines (a stack trace, a wrapped message) to the record they belong to.

Pure over an iterable of ``(position, line)``; a record's position is its first line's. Blank
lines are skipped: they carry no event, and appending them would make a record's bytes (and so its
id) depend on spacing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Final

from deskwatch.producers.parse.contract import UnknownFormatError

# Where a record starts, per format whose records may span lines.
RECORD_STARTS: Final[dict[str, re.Pattern[bytes]]] = {
    "syslog": re.compile(rb"<\d{1,3}>|[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d "),
    "cbs": re.compile(rb"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d, "),
}
ONE_LINE_FORMATS: Final = frozenset({"jsonl", "ecs_json", "nxlog_json"})
# A record that keeps growing is cut here: a file of continuation lines must not fill memory.
MAX_RECORD_BYTES: Final = 256 * 1024


def frame_records(
    lines: Iterable[tuple[int, bytes]], fmt: str, max_bytes: int = MAX_RECORD_BYTES
) -> Iterator[tuple[int, bytes]]:
    """Records of ``fmt`` from numbered lines, continuation lines joined with ``\\n``."""
    if fmt in ONE_LINE_FORMATS:
        # not line.isspace(), not line.strip(): the same test without copying every line
        yield from ((pos, line.rstrip(b"\r\n")) for pos, line in lines if line and not line.isspace())
        return
    if fmt not in RECORD_STARTS:
        raise UnknownFormatError(f"no framing for format {fmt!r}")
    starts = RECORD_STARTS[fmt]
    first: int | None = None
    parts: list[bytes] = []
    size = 0
    for pos, line in lines:
        line = line.rstrip(b"\r\n")
        if not line.strip():
            continue
        if first is not None and (starts.match(line) or size + len(line) > max_bytes):
            yield first, b"\n".join(parts)
            first = None
        if first is None:
            first, parts, size = pos, [], 0
        parts.append(line)
        size += len(line) + 1
    if first is not None:
        yield first, b"\n".join(parts)
