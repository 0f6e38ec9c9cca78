"""The working copy of a host's state during one envelope: exact dedup and rule-hit bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from operator import attrgetter

from deskwatch.processors.rules import Rule
from deskwatch.processors.stage1.bound import bound_content, bound_hits, bound_id_buckets, bucket_start, to_ms
from deskwatch.processors.construct import constructor
from deskwatch.processors.stage1.decision import DecisionKind, EventDecision
from deskwatch.processors.stage1.state import ContentWindow, HostState, IdBucket, RuleHit, StateLimits, dedup_key
from deskwatch.schemas.event import EventView, WorkstationEvent, compute_event_id

# The parts are typed already; validating up to 8000 ids per envelope would dominate.
_host_state = constructor(HostState)
_rule_hit = constructor(RuleHit)
_id_bucket = constructor(IdBucket)
_LAST_SEEN = attrgetter("last_seen")


@dataclass(slots=True)
class Floors:
    """Lower bounds on the times a host's state holds (None: it holds none); see bound.py."""

    content: datetime | None
    hits: datetime | None

    @classmethod
    def of(cls, state: HostState) -> Floors:
        """The exact floors of a state: one pass over it."""
        return cls(
            min(map(_LAST_SEEN, state.content.values()), default=None),
            min(map(_LAST_SEEN, state.hits.values()), default=None),
        )


@dataclass(frozen=True, slots=True)
class RuleGroup:
    """A rule and the group an event falls in for it."""

    rule: Rule
    group: dict[str, str]
    key: str
    distinct_value: str | None = None


@dataclass(slots=True)
class Work:
    """Mutable copies of a HostState's parts; the input state is never touched."""

    host: str
    watermark: datetime | None
    horizon_ms: int
    width_ms: int  # of an id bucket
    buckets: dict[int, IdBucket]  # the state's parts of buckets, as they were
    grown: dict[int, dict[str, int]]  # copies of the parts this envelope adds ids to
    content: dict[str, ContentWindow]
    hits: dict[str, RuleHit]
    floors: Floors

    @classmethod
    def start(cls, host: str, state: HostState | None, width_ms: int, floors: Floors | None = None) -> Work:
        """Copy the parts of ``state`` (or start empty) for one envelope; ``width_ms``: an id
        bucket's. ``floors`` are the state's, when the caller kept them from the envelope that made it.
        """
        if state is None:
            return cls(host, None, 0, width_ms, {}, {}, {}, {}, Floors(None, None))
        return cls(
            host,
            state.watermark,
            state.id_horizon_ms,
            width_ms,
            state.id_buckets,  # read only: a bucket that grows is copied into ``grown``
            {},
            dict(state.content),
            dict(state.hits),
            Floors(floors.content, floors.hits) if floors else Floors.of(state),
        )

    def admit(
        self, eid: str, when: datetime, now: datetime, limits: StateLimits
    ) -> EventDecision | None:
        """Exact dedup: a decision if the event is dropped, else None (and the id is remembered)."""
        when_ms = to_ms(when)
        if when_ms < self.horizon_ms:
            horizon = datetime.fromtimestamp(self.horizon_ms / 1000, timezone.utc).isoformat()
            return EventDecision(eid, DecisionKind.TOO_OLD, f"{when.isoformat()} is older than {self.host}'s "
                                 f"exact-dedup horizon {horizon}: it cannot be told from a replay")
        key = dedup_key(eid)
        start = bucket_start(when_ms, self.width_ms)  # the same event has the same time: one bucket
        # The bucket's parts are the keys start, start + 1, ... up to the first one missing.
        end, part_key, last, size = start + self.width_ms, start, None, 0
        while part_key < end:
            ids = self.grown.get(part_key)
            if ids is None:
                part = self.buckets.get(part_key)
                if part is None:
                    break
                ids = part.ids
            if key in ids:
                return EventDecision(eid, DecisionKind.DUPLICATE_ID, "event id already processed")
            last, size = part_key, len(ids)
            part_key += 1
        if last is None or (size >= limits.ids_per_part and part_key < end):
            last = part_key  # the bucket's first part, or the next one: the newest is full
        grown = self.grown.get(last)
        if grown is None:  # the part's first new id this envelope: copy it, the state's stays
            part = self.buckets.get(last)
            grown = self.grown[last] = dict(part.ids) if part is not None else {}
        grown[key] = when_ms
        # A clock far in the future must not expire everything else: cap the watermark at now + skew.
        capped = min(when, now + limits.max_future_skew)
        if self.watermark is None or capped > self.watermark:
            self.watermark = capped
        return None

    def count(self, fp: str, window: ContentWindow) -> None:
        """Store a fingerprint's window after one more event."""
        self.content[fp] = window
        floors = self.floors
        if floors.content is None or window.last_seen < floors.content:
            floors.content = window.last_seen

    def remember_hit(self, hit: RuleGroup, when: datetime) -> None:
        """Note a hit of a rule that can resolve, so its recovery event is recognised later; a hit
        at or after the recovery that closed the group opens it again."""
        if hit.rule.resolve_on is None:
            return
        old = self.hits.get(hit.key)
        if old is None:
            floors = self.floors  # an existing hit only gets newer: the floor holds
            if floors.hits is None or when < floors.hits:
                floors.hits = when
            self.hits[hit.key] = _rule_hit(
                rule_id=hit.rule.id, first_seen=when, last_seen=when, count=1, recovered_at=None
            )
        else:
            recovered = old.recovered_at
            self.hits[hit.key] = _rule_hit(
                rule_id=old.rule_id,
                first_seen=min(old.first_seen, when),
                last_seen=max(old.last_seen, when),
                count=old.count + 1,
                recovered_at=None if recovered is not None and when >= recovered else recovered,
            )

    def may_hold_hit(self, rule_id: str) -> bool:
        """Whether this host has a hit of ``rule_id``, open or closed (group keys start with the rule id)."""
        prefix = f"{rule_id}|"
        return any(key.startswith(prefix) for key in self.hits)

    def recover(self, key: str, when: datetime) -> bool:
        """Whether a recovery at ``when`` ends a hit of group ``key``: one at or after the group's
        first hit and before the recovery that closed it, if any (an earlier recovery read late is
        still the first after the hit). One at or after the last hit closes the group; one between
        two hits (read late) is sent and closes nothing: stage 2 takes a host's first recovery
        after its last hit, so a recovery too many changes nothing there."""
        old = self.hits.get(key)
        if old is None or when < old.first_seen:
            return False
        recovered = old.recovered_at
        if recovered is not None and when >= recovered:
            return False  # the group was closed by then: a repeat, noise
        if when >= old.last_seen:
            self.hits[key] = _rule_hit(rule_id=old.rule_id, first_seen=old.first_seen, last_seen=old.last_seen,
                                       count=old.count, recovered_at=when)
        return True

    def finish(self, limits: StateLimits) -> tuple[HostState, Floors]:
        """The bounded new state, and its floors."""
        mark, floors = self.watermark, self.floors
        buckets = self.buckets
        if self.grown:
            buckets = buckets | {key: _id_bucket(ids=ids, hashed=True) for key, ids in self.grown.items()}
        buckets, horizon = bound_id_buckets(buckets, self.horizon_ms, mark, limits, self.width_ms)
        content, content_floor = bound_content(self.content, mark, limits, floors.content)
        hits, hits_floor = bound_hits(self.hits, mark, limits, floors.hits)
        state = _host_state(
            host=self.host,
            watermark=mark,
            id_horizon_ms=horizon,
            id_buckets=buckets,
            content=content,
            hits=hits,
        )
        return state, Floors(content_floor, hits_floor)


def event_id_of(event: EventView, source: str) -> str:
    """The event's id; an event that arrives without one gets a hash of its own content."""
    if event.event.id is not None:
        return event.event.id
    if not isinstance(event, WorkstationEvent):  # read_events_record gives models for these
        raise TypeError("an event without an id must be a WorkstationEvent: its id hashes the model's JSON")
    return compute_event_id(
        source, event.host.name, event.model_dump_json(by_alias=True).encode(), None
    )
