"""HostState: what stage 1 remembers about one host, bounded by caps and by event-time expiry.

One value per host, made once per envelope. Event times are epoch milliseconds where there are
thousands of them (seen ids), and datetimes elsewhere; the whole value round-trips through JSON.

Decision: the seen ids are kept in buckets of event time (``StateLimits.id_bucket``), each its
own :class:`IdBucket` object. A busy workstation sends thousands of events a day, mostly one or
two per envelope: with every id in one document, each envelope re-wrote the host's whole id set
(254 KiB of JSON and ~1 ms to encode after 4,952 events of one simulated day). An envelope only
makes new the buckets it added to, so the table (processors/host_table.py) writes those and a
header, and an exact duplicate's bucket is found from its event time: the same event has the
same time.

Decision: a bucket is itself kept in *parts* of at most ``StateLimits.ids_per_part`` ids, under
the keys ``start``, ``start + 1``, ... (a part number is far below a bucket's width in ms, so
``key - key % width`` is still the bucket's start). An envelope adds to the newest part only, and
opens the next when it is full. Without parts, a host sending a few events a second (a crash loop)
re-wrote its whole ten-minute bucket per envelope: 83,503 bytes and 170 us per one-event envelope
over an hour of 20,000 events (bench/state_write.py --events-per-hour 20000 --hours 1).
Buckets still expire and are capped whole (bound.py).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from hashlib import blake2b as _blake2b
from typing import Protocol

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field


EarlierWindow = tuple[int, int, int, int]  # an older window: start, count, first seen, last seen, epoch microseconds


class ContentWindow(BaseModel):
    """One fingerprint's newest dedup window on this host, and the older ones it remembers.

    Decision: windows are aligned to the epoch (a window of 10 minutes starts at :00, :10, ...),
    not opened by a fingerprint's first event. Which window an event falls in then depends on its
    own time only, so a late event (an envelope read again after its host's later ones, a file
    read late) counts as the same repeat or first as in event-time order, as long as its window is
    remembered. Greedy windows from the first event changed ``deduplicated_count`` in 12 of 323
    moves of one-event envelopes on the recovery tests' fleet (2026-12-04, ARCHITECTURE.md). A
    burst across a window's edge sends two firsts instead of one.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    window_start: AwareDatetime = Field(description="a multiple of window_s since the epoch (older states: "
                                                    "the first event's time)")
    window_s: int = Field(ge=1, description="length of this window, fixed when it opened")
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    count: int = Field(ge=1)
    rule_ids: tuple[str, ...] = ()
    group_keys: tuple[str, ...] = ()
    earlier: tuple[EarlierWindow, ...] = Field(
        default=(),
        description="older windows of this fingerprint, newest first: [start, count, first seen, last seen], "
                    "times in epoch microseconds (at most deduplicate.EARLIER_MAX)",
    )

    def holds(self, when: datetime) -> bool:
        """Whether an event at ``when`` falls in this window as an older state opened it (from its
        first event): before its end, and, when late, less than its length before its start."""
        length = timedelta(seconds=self.window_s)
        return self.window_start - length < when < self.window_start + length


class RuleHit(BaseModel):
    """A rule group this host hit, kept so a later recovery event can be told apart from noise.

    Decision: a recovery closes the hit (``recovered_at``) instead of forgetting it. A recovery
    that arrives late, earlier than the one that closed the hit (an envelope read again after its
    host's later ones), is still the first after the hit in event time, and is recognised; it was
    dropped as noise, and the incident resolved at the later one. A recovery read *before* the
    hit it ends is still dropped: holding every recovery no known hit preceded, for a late hit,
    cost stage 1's core ~10 % and doubled the host header written per envelope, even with only
    their times kept for an hour (a fifth of the core bench's events are successes a rule
    resolves on; 2026-12-04, ARCHITECTURE.md).
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    rule_id: str
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    count: int = Field(ge=1)
    recovered_at: AwareDatetime | None = Field(
        default=None, description="the recovery recognised after last_seen (the earliest read); None: open"
    )


def dedup_key(event_id: str) -> str:
    """What exact dedup remembers of an event id: 64 bits of its BLAKE2b, as 16 hex digits.

    Decision: a key, not the id. An id of deskwatch's own is 32 hex digits (compute_event_id); the
    state at the id cap was nearly all ids, 23.5 bytes an id as stored (bench/state_write.py,
    7,986 ids of one host: 183 of 202 KiB). A key of 16 digits stores in ~15. Hashed, not cut
    short: a sender may bring its own ids (a counter, a prefix shared by thousands), which a cut
    would make equal. Two different ids of one host share a key with a chance of ~n/2**64 for each
    new one among n kept (8,000: ~4e-16, an event dropped as a replay); a forged line cannot aim at
    the key of an event it does not write without ~2**64 tries.
    """
    return _blake2b(event_id.encode(), digest_size=8).hexdigest()


class IdBucket(BaseModel):
    """The ids of a host's events whose event time falls in one bucket (a new object when it grows)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    ids: dict[str, int] = Field(default_factory=dict, description="dedup key of an event id -> event time, epoch ms")
    hashed: bool = Field(default=False, description="the keys are dedup_key()s; False: the event ids themselves, "
                                                    "as written before 2026-12-04 (re-keyed when read: keyed())")

    def keyed(self) -> IdBucket:
        """This part with dedup keys: itself, or, written before keys, its ids re-keyed."""
        if self.hashed:
            return self
        return IdBucket(ids={dedup_key(eid): ms for eid, ms in self.ids.items()}, hashed=True)


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
    id_buckets: dict[int, IdBucket] = Field(
        default_factory=dict,
        description="bucket start (epoch ms) + part number -> the ids of that part of the bucket",
    )
    content: dict[str, ContentWindow] = Field(
        default_factory=dict, description="fingerprint -> window"
    )
    hits: dict[str, RuleHit] = Field(
        default_factory=dict, description="group key -> hit, rules with resolve_on"
    )

    @property
    def seen_ids(self) -> dict[str, int]:
        """Every remembered id's dedup key with its event time (epoch ms), oldest bucket first."""
        return {eid: ms for start in sorted(self.id_buckets) for eid, ms in self.id_buckets[start].ids.items()}


class StateLimits(BaseModel):
    """Caps and retention that keep a HostState small; time is event time, not wall time.

    The defaults keep a host's header record (its content windows and hits) and each of its id
    buckets well under Kafka's default 1 MB record limit. Raise them only with the changelog
    topic's ``max.message.bytes``.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    max_ids: int = Field(default=8_000, ge=10)
    id_retention: timedelta = timedelta(hours=24)
    # 144 buckets a day: a write carries a few minutes of a host's ids, a header lists 144 starts.
    id_bucket: timedelta = Field(default=timedelta(minutes=10), gt=timedelta(0))
    # A part of a bucket holds at most this many ids: an envelope re-writes at most ~3 KiB of ids
    # (256 until 2026-12-01: a chatty host's one-event envelope re-wrote 3,123 bytes, now 1,220).
    ids_per_part: int = Field(default=64, ge=1)
    max_fingerprints: int = Field(default=1_000, ge=1)
    fingerprint_retention: timedelta = timedelta(hours=24)
    max_hits: int = Field(default=128, ge=1)
    hit_retention: timedelta = timedelta(days=7)
    max_future_skew: timedelta = timedelta(minutes=5)
    default_dedup_window: timedelta = timedelta(minutes=10)


class HostStateStore(Protocol):
    """Where host states live: processors/host_table.HostStateTable in production, a dict in tests."""

    def get(self, key: str, /) -> HostState | None: ...

    def __setitem__(self, key: str, value: HostState, /) -> None: ...
