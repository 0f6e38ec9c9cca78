"""Records straight to the bytes an envelope carries: (host name, event JSON) or a rejection.

A file source only needs each event's host and JSON; deskwatch's own JSON lines get them from one
typed-dict pass (``encode_jsonl``) instead of a model built to be serialised again, and every
other format from its parser's model and the model's own serializer.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import Final, TypeAlias

from deskwatch.producers.parse.contract import LineParser, Rejected, SourceContext
from deskwatch.producers.parse.dispatch import parser_for
from deskwatch.producers.parse.encode_jsonl import encode_jsonl
from deskwatch.producers.parse.frame import frame_records
from deskwatch.schemas.event import WorkstationEvent

# The model's own serializer: the bytes EventBatch.model_dump_json(by_alias=True, exclude_none=True)
# writes for each of its events.
_EVENT_JSON: Final = WorkstationEvent.__pydantic_serializer__.to_json

Encoded: TypeAlias = tuple[str, bytes]  # (host name, the event's JSON)
EncodeResult: TypeAlias = Encoded | Rejected
RecordEncoder: TypeAlias = Callable[[bytes, "int | str", SourceContext], EncodeResult]


def encode_event(event: WorkstationEvent) -> Encoded:
    """An event's host and its JSON as ``EventBatch`` carries it."""
    return event.host.name, _EVENT_JSON(event, by_alias=True, exclude_none=True)


def encoder_for(fmt: str) -> RecordEncoder:
    """The encoder of a format name: ``encode_jsonl`` for jsonl, else its parser then ``encode_event``."""
    if fmt == "jsonl":
        return encode_jsonl
    return _through_model(parser_for(fmt))


def encode_lines(lines: Iterable[tuple[int, bytes]], fmt: str, ctx: SourceContext) -> Iterator[tuple[int, bytes, EncodeResult]]:
    """Frame numbered lines into records and encode each: ``(position, record bytes, result)``."""
    encode = encoder_for(fmt)
    for position, record in frame_records(lines, fmt):
        yield position, record, encode(record, position, ctx)


def _through_model(parse: LineParser) -> RecordEncoder:
    def encode(raw: bytes, position: int | str, ctx: SourceContext) -> EncodeResult:
        result = parse(raw, position, ctx)  # type: ignore[arg-type]  # the tail's positions are "inode:offset"
        return result if isinstance(result, Rejected) else encode_event(result)
    return encode
