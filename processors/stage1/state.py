"""HostState: what stage 1 remembers about one host, bounded by caps and by event-time expiry.

One value per host in a table (a faust Table in production, a dict in tests), written once per
envelope. Event times are epoch milliseconds where there are thousands of them (seen ids), and
datetimes elsewhere; the whole value round-trips through JSON.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


class ContentWindow(BaseModel):
    """One fingerprint's open dedup window on this host."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_start: AwareDatetime
    window_s: int = Field(ge=1, description="length of this window, fixed when it opened")
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    count: int = Field(ge=1)
    rule_ids: tuple[str, ...] = ()
    group_keys: tuple[str, ...] = ()

    def holds(self, when: datetime) -> bool:
        """Whether an event at ``when`` falls in this window (late events count into it)."""
        return when < self.window_start + timedelta(seconds=self.window_s)


class RuleHit(BaseModel):
    """A rule group this host hit, kept so a later recovery event can be told apart from noise."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    count: int = Field(ge=1)


class HostState(BaseModel):
    """Stage 1's memory of one host."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str
    watermark: AwareDatetime | None = Field(
        default=None, description="newest event time seen (skew-capped)"
    )
    id_horizon_ms: int = Field(
        default=0, description="events older than this cannot be checked for exact duplicates"
    )
    seen_ids: dict[str, int] = Field(
        default_factory=dict, description="event id -> event time, epoch ms"
    )
    content: dict[str, ContentWindow] = Field(
        default_factory=dict, description="fingerprint -> window"
    )
    hits: dict[str, RuleHit] = Field(
        default_factory=dict, description="group key -> hit, rules with resolve_on"
    )


class StateLimits(BaseModel):
    """Caps and retention that keep a HostState small; time is event time, not wall time.

    The defaults keep a full state's JSON near 0.75 MB, under Kafka's default 1 MB record limit:
    the state is one changelog record per host and write. Raise them only with the changelog
    topic's ``max.message.bytes``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_ids: int = Field(default=8_000, ge=10)
    id_retention: timedelta = timedelta(hours=24)
    max_fingerprints: int = Field(default=1_000, ge=1)
    fingerprint_retention: timedelta = timedelta(hours=24)
    max_hits: int = Field(default=128, ge=1)
    hit_retention: timedelta = timedelta(days=7)
    max_future_skew: timedelta = timedelta(minutes=5)
    default_dedup_window: timedelta = timedelta(minutes=10)


class HostStateStore(Protocol):
    """Where host states live: a faust Table in production, a dict in tests."""

    def get(self, key: str, default: HostState | None = None, /) -> HostState | None: ...

    def __setitem__(self, key: str, value: HostState, /) -> None: ...
