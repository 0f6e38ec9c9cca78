"""EventDigest: one deduplicated event of the ``event-digests`` topic and ``deskwatch-events-*``.

Stage 1 folds repeats of the same content (same fingerprint) within a dedup window into one
digest that carries the repeat count. ``digest_id`` (fingerprint + window start) is the
Elasticsearch ``_id`` and ``repeat_count`` its external version: a growing count updates the
document and a replay never lowers it. Route it to a time-based index by ``window_start``, which
never changes for a given id (``last_seen`` does).
"""

from __future__ import annotations

from datetime import datetime

from deskwatch.schemas.event import SCHEMA_VERSION, LogLevel
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class EventDigest(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    digest_id: str = Field(description="fingerprint + window start; the Elasticsearch _id")
    fingerprint: str
    window_start: AwareDatetime = Field(
        description="start of this dedup window, a multiple of its length since the epoch (UTC)"
    )
    repeat_count: int = Field(
        ge=1, description="events with this content in the window, first included"
    )
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    host: str
    provider: str
    event_code: str
    template: str
    sample_message: str = ""
    sample_event_id: str | None = None
    level: LogLevel = "info"
    site: str | None = None
    directorate: str | None = None
    os_build: str | None = None
    device_class: str | None = None
    rule_ids: list[str] = Field(default_factory=list, description="rules this content matched")
    group_keys: list[str] = Field(
        default_factory=list, description="the rule groups it was counted in"
    )


def digest_id(fingerprint: str, window_start: datetime) -> str:
    """``<fingerprint>-<window start in epoch milliseconds>``: stable for one window."""
    return f"{fingerprint}-{round(window_start.timestamp() * 1000)}"
