"""NXLog-style flat Windows JSON (as in the OTRF Security-Datasets): ``Hostname``,
``SourceName``, ``EventID``, ``Level``, ``Message``, ``TimeCreated``/``@timestamp``, ``Channel``."""

from __future__ import annotations

from typing import Final

from deskwatch.producers.parse.assemble import (
    assemble_event,
    check_head,
    head_fields,
    load_json_object,
    strip_terminator,
    text_or_none,
    windows_event_id,
)
from deskwatch.producers.parse.contract import ParseResult, Rejected, SourceContext
from deskwatch.producers.parse.levels import resolve_level

DATASET = "nxlog.json"
# TimeCreated is when Windows wrote the event; @timestamp may be when a shipper saw it.
TIME_KEYS: Final = ("TimeCreated", "EventTime", "@timestamp")
HOST_KEYS: Final = ("Hostname", "Computer")
PROVIDER_KEYS: Final = ("SourceName", "ProviderName")
RECORD_KEYS: Final = ("RecordNumber", "EventRecordID")


def parse_nxlog_json(raw: bytes, position: int, ctx: SourceContext) -> ParseResult:
    """One event from a flat NXLog-style JSON line."""
    raw = strip_terminator(raw)
    data = load_json_object(raw)
    if isinstance(data, Rejected):
        return data
    head = check_head(
        host=_first(data, HOST_KEYS),
        stamp_text=_first(data, TIME_KEYS),
        code=text_or_none(data.get("EventID")),
        provider=_first(data, PROVIDER_KEYS),
        ctx=ctx,
        spelled=("Hostname", "TimeCreated", "EventID", "SourceName"),
    )
    if isinstance(head, Rejected):
        return head
    # NXLog's own "Severity" word is the fallback when the Windows Level number is absent.
    level, labels = resolve_level(data.get("Level", data.get("Severity")))
    channel = text_or_none(data.get("Channel")) or ""
    if channel:
        labels["channel"] = channel
    message = text_or_none(data.get("Message")) or ""
    fields = head_fields(head, level=level, message=message, labels=labels)
    own_id = windows_event_id(ctx, head.host, channel, _first(data, RECORD_KEYS))
    return assemble_event(
        fields, raw=raw, position=position, ctx=ctx, dataset=DATASET, event_id=own_id
    )


def _first(data: dict[str, object], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        text: str | None = text_or_none(data.get(key))
        if text is not None:
            return text
    return None
