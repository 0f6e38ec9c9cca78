"""deskwatch's own JSON lines: one ``WorkstationEvent`` per line, validated by the schema."""

from __future__ import annotations

from deskwatch.producers.parse.assemble import load_json_object, strip_terminator, validate_event
from deskwatch.producers.parse.contract import ParseResult, Rejected, SourceContext, quote

DATASET = "deskwatch.jsonl"


def parse_jsonl(raw: bytes, position: int | str, ctx: SourceContext) -> ParseResult:
    """One deskwatch event from its JSON line.

    A sender's own ``event.original``, ``event.dataset`` and ``event.id`` are kept: they describe
    the record the sender read, which is more original than this JSON re-encoding of it.
    """
    raw = strip_terminator(raw)
    data = load_json_object(raw)
    if isinstance(data, Rejected):
        return data
    host = data.get("host")
    if not isinstance(host, dict) or not str(host.get("name") or "").strip():
        return Rejected("missing_host", f"no host.name in {quote(raw)}")
    event = data.get("event")
    if isinstance(event, dict):
        if None in event.values():  # an explicit null must not override the defaults set here
            event = {key: value for key, value in event.items() if value is not None}
        data["event"] = {"original": raw.decode("utf-8", "replace"), "dataset": DATASET, **event}
    return validate_event(data, raw=raw, position=position, ctx=ctx)
