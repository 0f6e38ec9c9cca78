"""The working copy of a host's state during one envelope: exact dedup and rule-hit bookkeeping."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from deskwatch.processors.rules import Rule
from deskwatch.processors.stage1.bound import bound_content, bound_hits, bound_ids, to_ms
from deskwatch.processors.stage1.construct import constructor
from deskwatch.processors.stage1.decision import DecisionKind, EventDecision
from deskwatch.processors.stage1.state import ContentWindow, HostState, RuleHit, StateLimits
from deskwatch.schemas.event import WorkstationEvent, compute_event_id

# The parts are typed already; validating up to 8000 ids per envelope would dominate.
_host_state = constructor(HostState)
_rule_hit = constructor(RuleHit)


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
    seen: dict[str, int]
    content: dict[str, ContentWindow]
    hits: dict[str, RuleHit]

    @classmethod
    def start(cls, host: str, state: HostState | None) -> Work:
        """Copy the parts of ``state`` (or start empty) for one envelope."""
        if state is None:
            return cls(host, None, 0, {}, {}, {})
        return cls(
            host,
            state.watermark,
            state.id_horizon_ms,
            dict(state.seen_ids),
            dict(state.content),
            dict(state.hits),
        )

    def admit(
        self, eid: str, when: datetime, now: datetime, limits: StateLimits
    ) -> EventDecision | None:
        """Exact dedup: a decision if the event is dropped, else None (and the id is remembered)."""
        when_ms = to_ms(when)
        if when_ms < self.horizon_ms:
            return EventDecision(eid, DecisionKind.TOO_OLD, "older than the exact-dedup horizon")
        if eid in self.seen:
            return EventDecision(eid, DecisionKind.DUPLICATE_ID, "event id already processed")
        self.seen[eid] = when_ms
        # A clock far in the future must not expire everything else: cap the watermark at now + skew.
        capped = min(when, now + limits.max_future_skew)
        if self.watermark is None or capped > self.watermark:
            self.watermark = capped
        return None

    def remember_hit(self, hit: RuleGroup, when: datetime) -> None:
        """Note a hit of a rule that can resolve, so its recovery event is recognised later."""
        if hit.rule.resolve_on is None:
            return
        old = self.hits.get(hit.key)
        if old is None:
            self.hits[hit.key] = _rule_hit(
                rule_id=hit.rule.id, first_seen=when, last_seen=when, count=1
            )
        else:
            self.hits[hit.key] = _rule_hit(
                rule_id=old.rule_id,
                first_seen=min(old.first_seen, when),
                last_seen=max(old.last_seen, when),
                count=old.count + 1,
            )

    def forget_hit(self, key: str) -> bool:
        """Close a hit on recovery; False when this host had no open hit for the group."""
        return self.hits.pop(key, None) is not None

    def finish(self, limits: StateLimits) -> HostState:
        """The bounded new state."""
        seen, horizon = bound_ids(self.seen, self.horizon_ms, self.watermark, limits)
        return _host_state(
            host=self.host,
            watermark=self.watermark,
            id_horizon_ms=horizon,
            seen_ids=seen,
            content=bound_content(self.content, self.watermark, limits),
            hits=bound_hits(self.hits, self.watermark, limits),
        )


def event_id_of(event: WorkstationEvent, source: str) -> str:
    """The event's id; an event that arrives without one gets a hash of its own content."""
    if event.event.id is not None:
        return event.event.id
    return compute_event_id(
        source, event.host.name, event.model_dump_json(by_alias=True).encode(), None
    )
