"""NXLog-style flat Windows JSON (as in the OTRF Security-Datasets): ``Hostname``,
``SourceName``, ``EventID``, ``Level``, ``Message``, ``TimeCreated``/``@timestamp``, ``Channel``."""

from __future__ import annotations

from typing import Final

from deskwatch.producers.parse.assemble import (
    assemble_event,
    clip_message,
    load_json_object,
    strip_terminator,
    text_or_none,
    windows_event_id,
)
from deskwatch.producers.parse.contract import ParseResult, Rejected, SourceContext, quote
from deskwatch.producers.parse.levels import resolve_level
from deskwatch.producers.parse.parse_time import parse_iso

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
    host = _first(data, HOST_KEYS) or ctx.default_host
    if host is None:
        return Rejected("missing_host", f"no Hostname in {quote(raw)}")
    stamp_text = _first(data, TIME_KEYS)
    stamp = parse_iso(stamp_text, ctx.tz) if stamp_text else None
    if stamp is None:
        return Rejected("invalid_timestamp", f"TimeCreated {quote(stamp_text)} is not ISO 8601")
    code, provider = text_or_none(data.get("EventID")), _first(data, PROVIDER_KEYS)
    if code is None or provider is None:
        return Rejected("invalid_field", f"EventID {quote(code)} or SourceName {quote(provider)} missing")
    # NXLog's own "Severity" word is the fallback when the Windows Level number is absent.
    level, labels = resolve_level(data.get("Level", data.get("Severity")))
    channel = text_or_none(data.get("Channel")) or ""
    if channel:
        labels["channel"] = channel
    fields = {
        "@timestamp": stamp,
        "event": {"code": code, "provider": provider},
        "host": {"name": host},
        "log": {"level": level},
        "message": clip_message(text_or_none(data.get("Message")) or ""),
        "labels": labels,
    }
    own_id = windows_event_id(ctx, host, channel, _first(data, RECORD_KEYS))
    return assemble_event(fields, raw=raw, position=position, ctx=ctx, dataset=DATASET, event_id=own_id)


def _first(data: dict[str, object], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        text = text_or_none(data.get(key))
        if text is not None:
            return text
    return None
