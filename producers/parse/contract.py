"""The contract every parser follows: a source's context in, an event or a rejection out.

Parsers are pure: they take the raw bytes of one record, its position in the source and the
source's context, and never raise on bad input. Every failure is a ``Rejected`` whose ``reason``
is machine-readable, so the caller can route it to the dead-letter topic with the original bytes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from typing import TypeAlias

from deskwatch.schemas.event import WorkstationEvent

DETAIL_LIMIT = 160  # a quoted value in a rejection's detail is cut to this many characters


class ParseError(Exception):
    """Root of the parse package's errors (raised only for caller mistakes, never for bad input)."""


class UnknownFormatError(ParseError):
    """A format name no parser handles."""


@dataclass(frozen=True, kw_only=True)
class SourceContext:
    """What a parser knows about the source beyond the record's own bytes.

    ``reference_time`` has no default on purpose: a hidden wall-clock read would make year
    inference depend on when a test or a replay runs.
    """

    source: str  # e.g. file path or "syslog-udp"; part of event.id
    default_host: str | None = None  # for sources whose lines carry no host (CBS)
    year: int | None = None  # for formats without a year (RFC 3164); None: infer it
    tz: tzinfo = UTC  # zone for naive timestamps
    # e.g. the file's mtime: year inference picks the year that puts the timestamp not after
    # reference_time + 1 day
    reference_time: datetime

    def __post_init__(self) -> None:
        # Comparing a naive reference with aware timestamps would raise inside a parser.
        if self.reference_time.tzinfo is None:
            raise ParseError(
                f"reference_time must be aware, got {self.reference_time.isoformat()!r}"
            )


@dataclass(frozen=True)
class Rejected:
    """Why a record could not become an event."""

    reason: str  # machine-readable: invalid_json, missing_host, invalid_timestamp, ...
    detail: str  # human-readable, quotes the offending value (truncated)


ParseResult: TypeAlias = WorkstationEvent | Rejected
LineParser: TypeAlias = Callable[[bytes, int, SourceContext], ParseResult]


def quote(value: object, limit: int = DETAIL_LIMIT) -> str:
    """Quote a value for a rejection's detail, cut to ``limit`` characters."""
    text = value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)
    return repr(text[:limit] + ("…" if len(text) > limit else ""))
