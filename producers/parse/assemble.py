"""Turn the fields a parser extracted into a validated ``WorkstationEvent``, or a rejection.

Every parser ends here, so the schema's verdict becomes a reason in one place: a missing host is
``missing_host``, a bad ``@timestamp`` is ``invalid_timestamp``, anything else ``invalid_field``
with pydantic's errors summarised.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any, Final

from deskwatch.producers.parse.contract import ParseResult, Rejected, SourceContext, quote
from deskwatch.producers.parse.parse_time import parse_iso
from deskwatch.producers.parse.reuse import reuse_host_and_log
from deskwatch.schemas.event import HostFields, NonEmpty, WorkstationEvent, compute_event_id
import orjson
from pydantic import TypeAdapter, ValidationError

MESSAGE_LIMIT: Final = 65_536  # the schema's cap; the full text stays in event.original
ERRORS_SHOWN: Final = 3
# host.name exactly as the schema validates it (stripped), for the id computed before validation
_HOST_NAME: Final[TypeAdapter[str]] = TypeAdapter(NonEmpty)
# The model's own validator: what ``model_validate`` calls, without its ~1.5 us of Python around it.
_VALIDATE: Final = WorkstationEvent.__pydantic_validator__.validate_python


def decode_text(raw: bytes) -> str:
    """Bytes as text; undecodable bytes become U+FFFD (the id still hashes the exact bytes)."""
    return raw.decode("utf-8", "replace")


def strip_terminator(raw: bytes) -> bytes:
    """Drop a trailing line end: it is framing, so CRLF and LF copies of a line share an id."""
    return raw.rstrip(b"\r\n")


def load_json_object(raw: bytes) -> dict[str, Any] | Rejected:
    """Decode one JSON object, or say why it is not one."""
    try:
        # orjson: ~3x json's speed on these lines; it refuses what json would also refuse, plus
        # NaN literals, integers beyond 64 bits and nesting past 1024 levels (all invalid_json).
        data = orjson.loads(raw)
    except (ValueError, RecursionError) as exc:  # orjson.JSONDecodeError is a ValueError
        return Rejected(
            "invalid_json", f"{exc.__class__.__name__}: {str(exc)[:120]} in {quote(raw)}"
        )
    if not isinstance(data, dict):
        return Rejected(
            "invalid_json", f"expected a JSON object, got {type(data).__name__}: {quote(raw)}"
        )
    return data


def clip_message(text: str) -> str:
    """Cut a message to the schema's limit."""
    return text[:MESSAGE_LIMIT]


def assemble_event(
    fields: dict[str, Any],
    *,
    raw: bytes,
    position: int | str,
    ctx: SourceContext,
    dataset: str,
    event_id: str | None = None,
) -> ParseResult:
    """Validate ``fields`` (ECS-nested, ``@timestamp`` spelled so), keep the original text, set
    the dataset and a deterministic id (``event_id`` when the source has its own stable one)."""
    event = dict(fields.get("event") or {})
    event["original"] = decode_text(raw)
    event["dataset"] = dataset
    if event_id is not None:
        event["id"] = event_id
    return validate_event({**fields, "event": event}, raw=raw, position=position, ctx=ctx)


def validate_event(
    fields: dict[str, Any], *, raw: bytes, position: int | str, ctx: SourceContext
) -> ParseResult:
    """Validate ``fields`` once, with the deterministic id already in ``fields["event"]``.

    Same result as validating and then ``with_id``, without its two model copies (~10 us of a
    ~20 us parse): the id hashes the host name as the schema validates it, so it is the same id.
    ``fields["event"]`` must be the caller's own dict: the id is written into it, and ``host`` and
    ``log`` may be replaced by already validated models (``reuse_host_and_log``).
    """
    reuse_host_and_log(fields)
    event = fields.get("event")
    if isinstance(event, dict) and event.get("id") is None:
        host = _validated_host_name(fields.get("host"))
        if host is not None:  # else the validation below rejects the record anyway
            event["id"] = compute_event_id(ctx.source, host, raw, position)
    try:
        event_model: WorkstationEvent = _VALIDATE(fields)
    except ValidationError as exc:
        return rejection_for(exc)
    return event_model


def _validated_host_name(host: object) -> str | None:
    if isinstance(host, HostFields):
        return host.name
    if not isinstance(host, dict):
        return None
    try:
        return _HOST_NAME.validate_python(host.get("name"))
    except ValidationError:
        return None


def rejection_for(exc: ValidationError) -> Rejected:
    """Name the first failing field's reason and summarise the errors, quoting their inputs."""
    errors = exc.errors(include_url=False)
    first = ".".join(str(part) for part in errors[0]["loc"]) if errors else ""
    if first.startswith("host") and errors[0]["type"] in ("missing", "string_too_short"):
        reason = "missing_host"
    elif first.startswith(("@timestamp", "timestamp")):
        reason = "invalid_timestamp"
    else:
        reason = "invalid_field"
    shown = [
        f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']} "
        f"(input {quote(err.get('input'), 60)})"
        for err in errors[:ERRORS_SHOWN]
    ]
    more = len(errors) - ERRORS_SHOWN
    return Rejected(reason, "; ".join(shown) + (f"; and {more} more" if more > 0 else ""))


def windows_event_id(ctx: SourceContext, host: str, channel: str, record_id: object) -> str | None:
    """A Windows record's own identity (host, channel, record number): a re-read, even one that
    renders the record differently, gets the same id. None when there is no record number."""
    if record_id is None or isinstance(record_id, bool) or str(record_id).strip() == "":
        return None
    event_id: str = compute_event_id(ctx.source, host, channel.encode(), str(record_id).strip())
    return event_id


def text_or_none(value: object) -> str | None:
    """A scalar as stripped text; None for missing, empty or structured values."""
    if value is None or isinstance(value, (dict, list, bool)):
        return None
    text = str(value).strip()
    return text or None


@dataclass(frozen=True)
class RecordHead:
    """The fields every event needs, found and checked."""

    host: str
    stamp: datetime
    code: str
    provider: str


def check_head(
    *,
    host: str | None,
    stamp_text: str | None,
    code: str | None,
    provider: str | None,
    ctx: SourceContext,
    spelled: tuple[str, str, str, str],
) -> RecordHead | Rejected:
    """The head of a record, or a rejection naming the first missing field as the format spells
    it (``spelled`` = the names of host, timestamp, code and provider in that format)."""
    host = host or ctx.default_host
    if host is None:
        return Rejected("missing_host", f"no {spelled[0]} and no default host")
    stamp = parse_iso(stamp_text, ctx.tz) if stamp_text else None
    if stamp is None:
        return Rejected("invalid_timestamp", f"{spelled[1]} {quote(stamp_text)} is not ISO 8601")
    if code is None or provider is None:
        return Rejected(
            "invalid_field", f"{spelled[2]} {quote(code)}, {spelled[3]} {quote(provider)}"
        )
    return RecordHead(host, stamp, code, provider)


def head_fields(
    head: RecordHead, *, level: str, message: str, labels: dict[str, str], severity: object = None
) -> dict[str, Any]:
    """The ECS-nested fields of an event from its head and body."""
    return {
        "@timestamp": head.stamp,
        "event": {"code": head.code, "provider": head.provider, "severity": severity},
        "host": {"name": head.host},
        "log": {"level": level},
        "message": clip_message(message),
        "labels": labels,
    }
