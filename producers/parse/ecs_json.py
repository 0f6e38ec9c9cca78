"""Winlogbeat / Elastic Agent ECS JSON: ``@timestamp``, ``event.*``, ``winlog.*``, ``host.*``."""

from __future__ import annotations

from typing import Any

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

DATASET = "ecs.json"


def parse_ecs_json(raw: bytes, position: int, ctx: SourceContext) -> ParseResult:
    """One event from an ECS JSON document (dotted or nested keys both accepted)."""
    raw = strip_terminator(raw)
    data = load_json_object(raw)
    if isinstance(data, Rejected):
        return data
    head = check_head(
        host=_first(data, "host.name", "host.hostname", "winlog.computer_name"),
        stamp_text=_first(data, "@timestamp"),
        code=_first(data, "event.code", "winlog.event_id"),
        provider=_first(data, "event.provider", "winlog.provider_name"),
        ctx=ctx,
        spelled=("host.name/host.hostname", "@timestamp", "event.code", "event.provider"),
    )
    if isinstance(head, Rejected):
        return head
    level, labels = resolve_level(_first(data, "log.level"))
    channel = _first(data, "winlog.channel") or ""
    if channel:
        labels["channel"] = channel
    message = _first(data, "message") or ""
    severity = _lookup(data, "event.severity")
    fields = head_fields(head, level=level, message=message, labels=labels, severity=severity)
    own_id = windows_event_id(ctx, head.host, channel, _lookup(data, "winlog.record_id"))
    return assemble_event(
        fields, raw=raw, position=position, ctx=ctx, dataset=DATASET, event_id=own_id
    )


def _first(data: dict[str, Any], *paths: str) -> str | None:
    """The first of ``paths`` that holds a non-empty scalar, as text."""
    for path in paths:
        text: str | None = text_or_none(_lookup(data, path))
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
