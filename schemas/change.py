"""IncidentChange: one transition of one incident, for the history index, webhooks and tickets.

The ``incidents`` topic keeps only the latest revision per id; ``incident-changes`` keeps every
transition, each with its reason, so an incident's whole story can be replayed and explained.
"""

from __future__ import annotations

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from deskwatch.schemas.event import SCHEMA_VERSION
from deskwatch.schemas.incident import ChangeReason, IncidentStatus, Severity


class IncidentChange(BaseModel):
    """One transition: ``from_status`` is None when the incident did not exist before."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    incident_id: str
    revision: int = Field(ge=1, description="the incident's revision this change produced")
    rule_id: str
    rule_version: int
    group_key: str = Field(description="the owner's key: commands about this incident use it")
    from_status: IncidentStatus | None
    to_status: IncidentStatus
    reason: ChangeReason
    severity: Severity
    at: AwareDatetime = Field(description="event, tick or command time that caused it")
    actor: str | None = Field(default=None, description="operator or system behind a command")
    detail: str = ""
    notify: bool = Field(default=True, description="False while silenced, absorbed or flapping, "
                                                    "and for a parent's links (child_absorbed, child_released)")

    @property
    def change_id(self) -> str:
        """Deterministic history-index id: a replay overwrites, never duplicates."""
        return f"{self.incident_id}:{self.revision}"
