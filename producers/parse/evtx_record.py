"""One Windows event record, as the ``evtx`` package renders it to JSON, into an event.

Pure: ``evtx_file`` reads the file and hands each record's JSON here. No message templates are
available offline, so the message is the EventData (or UserData) rendered as ``k=v`` pairs.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any, Final

from deskwatch.producers.parse.assemble import (
    assemble_event,
    check_head,
    head_fields,
    load_json_object,
    text_or_none,
    windows_event_id,
)
from deskwatch.producers.parse.contract import ParseResult, Rejected, SourceContext, quote
from deskwatch.producers.parse.levels import resolve_level

DATASET = "windows.evtx"
ATTRS: Final = "#attributes"
TEXT: Final = "#text"


def parse_evtx_record(raw: bytes, position: int | str, ctx: SourceContext) -> ParseResult:
    """One event from a record's JSON (``{"Event": {"System": ..., "EventData": ...}}``)."""
    data = load_json_object(raw)
    if isinstance(data, Rejected):
        return data
    event = data.get("Event")
    system = event.get("System") if isinstance(event, dict) else None
    if not isinstance(event, dict) or not isinstance(system, dict):
        return Rejected("invalid_field", f"no Event/System in {quote(raw)}")
    provider = system.get("Provider")
    head = check_head(
        host=text_or_none(system.get("Computer")),
        stamp_text=text_or_none(_attr(system.get("TimeCreated"), "SystemTime")),
        code=text_or_none(_text(system.get("EventID"))),
        provider=text_or_none(_attr(provider, "Name") or _attr(provider, "EventSourceName")),
        ctx=ctx,
        spelled=("System/Computer", "TimeCreated/SystemTime", "EventID", "Provider Name"),
    )
    if isinstance(head, Rejected):
        return head
    level, labels = resolve_level(_text(system.get("Level")))
    channel = text_or_none(system.get("Channel")) or ""
    record_id = text_or_none(system.get("EventRecordID"))
    labels.update({k: v for k, v in (("channel", channel), ("record_id", record_id)) if v})
    message = render_fields(event.get("EventData") or event.get("UserData"))
    fields = head_fields(head, level=level, message=message, labels=labels)
    own_id = windows_event_id(ctx, head.host, channel, record_id)
    return assemble_event(
        fields, raw=raw, position=position, ctx=ctx, dataset=DATASET, event_id=own_id
    )


def render_fields(node: Any) -> str:
    """EventData as compact ``k=v`` pairs; values with blanks, quotes or ``=`` JSON-quoted."""
    return " ".join(f"{key}={_show(value)}" for key, value in _flatten(node, ""))


def _flatten(node: Any, prefix: str) -> Iterator[tuple[str, str]]:
    if isinstance(node, dict):
        for key, value in node.items():
            if key == ATTRS:
                continue
            name = prefix if key == TEXT else (f"{prefix}.{key}" if prefix else key)
            yield from _flatten(value, name)
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _flatten(value, f"{prefix or 'Data'}[{index}]")
    elif node is not None and node != "":
        yield prefix or "Data", str(node)


def _show(value: str) -> str:
    if value and not any(ch.isspace() or ch in '="' for ch in value):
        return value
    return json.dumps(value, ensure_ascii=False)


def _attr(node: Any, name: str) -> Any:
    return node.get(ATTRS, {}).get(name) if isinstance(node, dict) else None


def _text(node: Any) -> Any:
    # {"#attributes": {"Qualifiers": ...}, "#text": 6009} or a bare 6009
    return node.get(TEXT) if isinstance(node, dict) else node
