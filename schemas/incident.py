"""Incident: a problem deskwatch found, latest revision; one document per incident id."""

from __future__ import annotations

import hashlib
from enum import StrEnum

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from deskwatch.schemas.event import SCHEMA_VERSION


class IncidentStatus(StrEnum):
    """Lifecycle position; silenced, absorbed and flapping are flags beside it."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class ChangeReason(StrEnum):
    """Why an incident changed: every transition, and so every ``IncidentChange``, carries one."""

    OPENED = "opened"
    THRESHOLD_REACHED = "threshold_reached"
    ESCALATED = "escalated"
    ACKNOWLEDGED = "acknowledged"
    ACK_EXPIRED = "ack_expired"  # the rule's ack_timeout passed: open again
    ASSIGNED = "assigned"
    RECOVERY_EVENT = "recovery_event"
    QUIET_TIMEOUT = "quiet_timeout"
    MAX_LIFETIME = "max_lifetime"
    OPERATOR_RESOLVED = "operator_resolved"
    REOPENED = "reopened"
    FLAPPING = "flapping"
    SILENCED = "silenced"
    UNSILENCED = "unsilenced"
    ABSORBED = "absorbed"
    RELEASED = "released"
    CHILD_ABSORBED = "child_absorbed"
    CHILD_RELEASED = "child_released"


class Severity(StrEnum):
    INFO = "info"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"
    CRITICAL = "critical"


class Incident(BaseModel):
    """One incident at one revision; stage 2 emits a new revision on every change."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    id: str = Field(description="hash of rule id, group key and the group's episode number (its how-many-th incident)")
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
    # Explanation: everything below lets an incident say why it exists and what it stands for.
    remediation: str = ""
    group: dict[str, str] = Field(default_factory=dict, description="group_by field -> value")
    window_seconds: int = Field(default=0, ge=0, description="the rule's counting window")
    opened_at: AwareDatetime | None = Field(default=None, description="event time it opened")
    resolved_at: AwareDatetime | None = None
    updated_at: AwareDatetime | None = Field(
        default=None, description="log time of the last revision"
    )
    deduplicated_count: int = Field(
        default=0, ge=0, description="content repeats folded by stage 1"
    )
    absorbed_count: int = Field(default=0, ge=0, description="child incidents this one absorbs")
    children: list[str] = Field(default_factory=list, description="absorbed child ids (capped)")
    parent_id: str | None = Field(default=None, description="set while a parent absorbs this one")
    reason: ChangeReason | None = Field(default=None, description="reason of the last transition")
    silenced_by: str | None = Field(default=None, description="id of the silence that mutes it")
    flapping: bool = False
    reopen_count: int = Field(default=0, ge=0)
    acknowledged_by: str | None = None
    acknowledged_at: AwareDatetime | None = None
    assignee: str | None = None
    device_classes: list[str] = Field(default_factory=list)

    @property
    def suppressed(self) -> bool:
        """Whether notifications about it should stay quiet (silenced, absorbed or flapping)."""
        return self.silenced_by is not None or self.parent_id is not None or self.flapping

    @property
    def active(self) -> bool:
        """Open or acknowledged: still a live problem."""
        return self.status is not IncidentStatus.RESOLVED


def episode_incident_id(rule_id: str, group_key: str, episode: int) -> str:
    """Deterministic incident id of a group's ``episode``-th incident (0 for the first).

    Independent of arrival order across stage 1's partitions, unlike the opening time.
    """
    h = hashlib.blake2b(digest_size=12)
    h.update(f"{rule_id}\x1f{group_key}\x1f#{episode}".encode())
    return h.hexdigest()
