"""WorkstationEvent: one endpoint log record, with ECS-aligned field names.

On the wire and in Elasticsearch the fields nest as ECS does (``{"event": {"code": ...}}``);
``@timestamp`` keeps its ECS spelling through an alias.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Literal, Protocol

import msgspec
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from deskwatch.schemas.identity import parts_digest

# 2 (2026-12-01): ChangeReason gained "ack_expired" (a rule's ack_timeout lapsed an acknowledgement).
# Payloads of version 1 read unchanged.
# 3 (2026-12-07): Command gained "kind" ("command", its default), as it travels on signals beside
# Signal and Tick (schemas/command.py). Payloads of versions 1 and 2 read unchanged.
SCHEMA_VERSION = 3

NonEmpty = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
LogLevel = Literal["trace", "debug", "info", "notice", "warning", "error", "critical", "alert", "emergency"]


class _Model(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class EventFields(_Model):
    """ECS ``event.*``."""

    id: str | None = Field(default=None, max_length=128, description="deterministic id; set by the producer when absent")
    code: str = Field(min_length=1, max_length=64, description="the source's event code, e.g. Windows EventID")
    provider: NonEmpty = Field(description="the source that wrote it, e.g. Microsoft-Windows-GroupPolicy")
    severity: int | None = Field(default=None, ge=0, le=1000)
    original: str | None = Field(default=None, description="the original text, when kept")
    dataset: str | None = Field(default=None, max_length=128, description="source format, e.g. windows.evtx")
    created: AwareDatetime | None = None


class HostFields(_Model):
    """ECS ``host.*``."""

    name: NonEmpty
    id: str | None = Field(default=None, max_length=128)


class LogFields(_Model):
    """ECS ``log.*``."""

    level: LogLevel = "info"
    file_path: str | None = Field(default=None, max_length=4096)
    offset: int | None = Field(default=None, ge=0)


class WorkstationEvent(_Model):
    """One validated endpoint event."""

    schema_version: int = SCHEMA_VERSION
    timestamp: AwareDatetime = Field(alias="@timestamp")
    event: EventFields
    host: HostFields
    log: LogFields = LogFields()
    message: str = Field(default="", max_length=65_536)
    labels: dict[str, str] = Field(default_factory=dict)

    @property
    def event_id(self) -> str:
        """The event's id; producers always set it before publishing."""
        if self.event.id is None:
            raise ValueError("event.id is unset: the producer assigns it before publishing")
        return self.event.id

    def with_id(self, source: str, position: str | int | None, original: bytes) -> WorkstationEvent:
        """Return this event with ``event.id`` set, keeping an id the source already gave."""
        if self.event.id is not None:
            return self
        eid = compute_event_id(source, self.host.name, original, position)
        return self.model_copy(update={"event": self.event.model_copy(update={"id": eid})})


class EventFieldsView(Protocol):
    """What reading ``event.*`` needs: an ``EventFields`` or its msgspec mirror (``envelope``)."""

    @property
    def id(self) -> str | None: ...
    @property
    def code(self) -> str: ...
    @property
    def provider(self) -> str: ...
    @property
    def severity(self) -> int | None: ...
    @property
    def dataset(self) -> str | None: ...


class HostFieldsView(Protocol):
    @property
    def name(self) -> str: ...
    @property
    def id(self) -> str | None: ...


class LogFieldsView(Protocol):
    @property
    def level(self) -> str: ...
    @property
    def file_path(self) -> str | None: ...


class EventView(Protocol):
    """A validated event as stage 1 reads it: by attribute, never by a model method.

    A ``WorkstationEvent`` is one; so is the msgspec mirror ``read_events_record`` decodes, whose
    values are those pydantic would have read (``schemas/struct_mirror.py``).
    """

    @property
    def timestamp(self) -> datetime: ...
    @property
    def event(self) -> EventFieldsView: ...
    @property
    def host(self) -> HostFieldsView: ...
    @property
    def log(self) -> LogFieldsView: ...
    @property
    def message(self) -> str: ...
    @property
    def labels(self) -> Mapping[str, str]: ...


def event_json(event: EventView) -> bytes:
    """One event as JSON, the form it has in an envelope: a ``WorkstationEvent`` or the msgspec
    mirror stage 1 reads (the same fields and aliases, so the same bytes)."""
    if isinstance(event, BaseModel):
        return event.model_dump_json(by_alias=True, exclude_none=True).encode()
    return msgspec.json.encode(event)


def compute_event_id(source: str, host: str, original: bytes, position: str | int | None) -> str:
    """Hash of (source, host, original bytes, position): a re-read of the same line has the same id."""
    return parts_digest((source.encode(), host.encode(), original, str(position).encode() if position is not None else b""))


def as_utc(ts: datetime) -> datetime:
    """Normalise an aware datetime to UTC."""
    from datetime import timezone

    return ts.astimezone(timezone.utc)
