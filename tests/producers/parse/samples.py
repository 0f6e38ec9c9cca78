"""Helpers of the parse tests: a context with a fixed reference time, line reading, tallies."""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from collections.abc import Iterable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from deskwatch.producers.parse import Rejected, SourceContext, parse_jsonl
from pydantic import BaseModel, ConfigDict, field_validator

# A fixed reference time: year inference must not depend on when the tests run.
REFERENCE = datetime(2026, 1, 1, tzinfo=UTC)


# One deskwatch JSON line that every parser of that format accepts; tests vary its fields.
GOOD_JSONL: dict[str, Any] = {
    "@timestamp": "2024-03-04T08:15:02Z",
    "event": {"code": "1014", "provider": "Microsoft-Windows-DNS-Client"},
    "host": {"name": "pc-0042"},
    "log": {"level": "warning"},
    "message": "Name resolution timed out",
}


def jsonl_line(**top: Any) -> bytes:
    """``GOOD_JSONL`` with some top-level fields replaced, as one JSON line."""
    return json.dumps({**GOOD_JSONL, **top}).encode()


def through_models(raw: bytes, position: int | str, ctx: SourceContext) -> tuple[str, bytes] | Rejected:
    """The reference of the jsonl encoders: parse_jsonl, then the model's own serialiser."""
    result = parse_jsonl(raw, position, ctx)
    if isinstance(result, Rejected):
        return result
    return result.host.name, result.__pydantic_serializer__.to_json(result, by_alias=True, exclude_none=True)


def make_ctx(source: str = "test", **overrides: Any) -> SourceContext:
    """A SourceContext with the fixed reference time unless overridden."""
    reference = overrides.pop("reference_time", REFERENCE)
    return SourceContext(source=source, reference_time=reference, **overrides)


def numbered_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """A file's lines numbered from 1, terminators kept (framing strips them)."""
    with open(path, "rb") as handle:
        yield from enumerate(handle, 1)


def tally(
    results: Iterable[tuple[object, bytes, object]],
) -> tuple[int, int, Counter[str], dict[Any, Any]]:
    """(read, parsed, rejections by reason, results by position) of a parse run."""
    read, parsed, reasons, by_position = 0, 0, Counter[str](), {}
    for position, _raw, result in results:
        read += 1
        by_position[position] = result
        if isinstance(result, Rejected):
            reasons[result.reason] += 1
        else:
            parsed += 1
    return read, parsed, reasons, by_position


def zip_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """Numbered lines of a zip's JSON-lines members, streamed (macOS resource forks skipped)."""
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if info.filename.startswith("__MACOSX/") or info.is_dir():
                continue
            with archive.open(info) as member:
                yield from enumerate(member, 1)


class ValidatedName(BaseModel):
    """A model with a field validator: no schema mirror (typed dict or msgspec) may reproduce it."""

    model_config = ConfigDict(extra="forbid")
    name: str

    @field_validator("name")
    @classmethod
    def _upper(cls, value: str) -> str:
        return value.upper()
