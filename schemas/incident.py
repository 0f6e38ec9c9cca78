"""Incident: a problem deskwatch found, latest revision; one document per incident id."""

from __future__ import annotations

import hashlib
from datetime import datetime
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from deskwatch.schemas.event import SCHEMA_VERSION


class IncidentStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Incident(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    id: str = Field(description="hash of rule id, group key and opening time")
    rule_id: str
    rule_version: int = 1
    group_key: str = Field(description="the values of the rule's group_by fields, joined")
    title: str
    status: IncidentStatus = IncidentStatus.OPEN
    severity: Severity = Severity.MEDIUM
    hosts: list[str] = Field(default_factory=list)
    host_count: int = 0
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    event_count: int = Field(ge=0, description="events counted, repeats included")
    revision: int = Field(ge=1, description="incremented by every change; the ES external version")
    event_codes: list[str] = Field(default_factory=list)
    providers: list[str] = Field(default_factory=list)
    sample_message: str = ""


def incident_id(rule_id: str, group_key: str, opened_at: datetime) -> str:
    """Deterministic incident id: the same rule, group and opening time give the same id."""
    h = hashlib.blake2b(digest_size=12)
    h.update(f"{rule_id}\x1f{group_key}\x1f{opened_at.isoformat()}".encode())
    return h.hexdigest()
