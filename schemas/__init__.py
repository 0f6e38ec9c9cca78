"""The contracts: every payload that crosses a topic or reaches Elasticsearch is one of these."""

from deskwatch.schemas.event import (
    SCHEMA_VERSION,
    EventFields,
    HostFields,
    LogFields,
    WorkstationEvent,
    compute_event_id,
)
from deskwatch.schemas.envelope import EnvelopeView, EventBatch, Tick, decode_events_record, read_events_record
from deskwatch.schemas.incident import Incident, IncidentStatus, Severity
from deskwatch.schemas.dead_letter import DeadLetter

__all__ = [
    "SCHEMA_VERSION",
    "DeadLetter",
    "EnvelopeView",
    "EventBatch",
    "EventFields",
    "HostFields",
    "Incident",
    "IncidentStatus",
    "LogFields",
    "Severity",
    "Tick",
    "WorkstationEvent",
    "compute_event_id",
    "decode_events_record",
    "read_events_record",
]
