"""What travels on the ``events`` topic: host envelopes of events, and ticks.

Faust pays a fixed cost per Kafka record and per table write, so events travel in envelopes of
one host's events (the record key is that host) and the processor writes its state once per
envelope. Ticks carry wall time to every partition so time-based transitions fire on idle ones.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from deskwatch.schemas.event import SCHEMA_VERSION, WorkstationEvent


class EventBatch(BaseModel):
    """A host envelope: one host's events, in the order they were read."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["events"] = "events"
    schema_version: int = SCHEMA_VERSION
    host: str = Field(min_length=1, max_length=255)
    source: str = Field(default="unknown", max_length=512)
    events: list[WorkstationEvent] = Field(min_length=1)


class Tick(BaseModel):
    """A periodic wall-time marker sent to every partition by the ticker."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["tick"] = "tick"
    schema_version: int = SCHEMA_VERSION
    wall_time: AwareDatetime
    partition: int = Field(ge=0)


EventsRecord = Annotated[EventBatch | Tick, Field(discriminator="kind")]
_EVENTS_RECORD: TypeAdapter[EventBatch | Tick] = TypeAdapter(EventsRecord)


def decode_events_record(raw: bytes) -> EventBatch | Tick:
    """Validate one record of the ``events`` topic; raises pydantic.ValidationError."""
    return _EVENTS_RECORD.validate_json(raw)
