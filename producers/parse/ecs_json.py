"""Winlogbeat / Elastic Agent ECS JSON: ``@timestamp``, ``event.*``, ``winlog.*``, ``host.*``."""

from __future__ import annotations

from typing import Any

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

DATASET = "ecs.json"


def parse_ecs_json(raw: bytes, position: int, ctx: SourceContext) -> ParseResult:
    """One event from an ECS JSON document (dotted or nested keys both accepted)."""
    raw = strip_terminator(raw)
    data = load_json_object(raw)
    if isinstance(data, Rejected):
        return data
    host = _first(data, "host.name", "host.hostname", "winlog.computer_name") or ctx.default_host
    if host is None:
        return Rejected("missing_host", f"no host.name, host.hostname or winlog.computer_name in {quote(raw)}")
    stamp_text = _first(data, "@timestamp")
    stamp = parse_iso(stamp_text, ctx.tz) if stamp_text else None
    if stamp is None:
        return Rejected("invalid_timestamp", f"@timestamp {quote(stamp_text)} is not ISO 8601")
    code = _first(data, "event.code", "winlog.event_id")
    provider = _first(data, "event.provider", "winlog.provider_name")
    if code is None or provider is None:
        return Rejected("invalid_field", f"no event.code/winlog.event_id or event.provider in {quote(raw)}")
    level, labels = resolve_level(_first(data, "log.level"))
    channel = _first(data, "winlog.channel") or ""
    if channel:
        labels["channel"] = channel
    fields = {
        "@timestamp": stamp,
        "event": {"code": code, "provider": provider, "severity": _lookup(data, "event.severity")},
        "host": {"name": host},
        "log": {"level": level},
        "message": clip_message(_first(data, "message") or ""),
        "labels": labels,
    }
    own_id = windows_event_id(ctx, host, channel, _lookup(data, "winlog.record_id"))
    return assemble_event(fields, raw=raw, position=position, ctx=ctx, dataset=DATASET, event_id=own_id)


def _first(data: dict[str, Any], *paths: str) -> str | None:
    """The first of ``paths`` that holds a non-empty scalar, as text."""
    for path in paths:
        text = text_or_none(_lookup(data, path))
        if text is not None:
            return text
    return None


def _lookup(data: dict[str, Any], path: str) -> Any:
    # Beats write nested objects; some shippers flatten to dotted keys. Accept both.
    if path in data:
        return data[path]
    node: Any = data
    for part in path.split("."):
        if not isinstance(node, dict) or part not in node:
            return None
        node = node[part]
    return node
