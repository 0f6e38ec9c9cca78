"""What stage 1 decided about each event, and the result of one envelope."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from deskwatch.processors.stage1.state import HostState
from deskwatch.schemas.digest import EventDigest
from deskwatch.schemas.signal import Signal


class DecisionKind(StrEnum):
    NEW = "new"  # content not seen in its window, matched at least one rule
    NO_RULE = "no_rule"  # content not seen in its window, matched no rule
    WINDOW_EXPIRED = "window_expired"  # content seen before, its window had ended: a new window
    DUPLICATE_CONTENT = "duplicate_content"  # same content within its window: counted, folded
    DUPLICATE_ID = "duplicate_id"  # this event id was already processed: dropped, counted
    TOO_OLD = (
        "too_old"  # older than the exact-dedup horizon: cannot tell a replay, dropped, counted
    )


DROPPED = frozenset({DecisionKind.DUPLICATE_ID, DecisionKind.TOO_OLD})
_FIELD_OF = {kind: kind.value for kind in DecisionKind}  # each kind's Stage1Counters field


class EventDecision(NamedTuple):
    """One event's outcome, with the reason in words and the rule groups it counted in.

    A named tuple, not a frozen dataclass: one is made per event, and a frozen dataclass sets each
    of its seven fields through ``object.__setattr__`` (generated ``__init__`` methods, this one
    the most called, were 2.7 % of a py-spy profile of stage 1's core).
    """

    event_id: str
    kind: DecisionKind
    reason: str
    fingerprint: str | None = None
    rule_ids: tuple[str, ...] = ()
    group_keys: tuple[str, ...] = ()
    recovered: tuple[str, ...] = ()  # group keys this event resolved


@dataclass(slots=True)
class Stage1Counters:
    """Per-envelope counts, the source of the stage's metrics."""

    events: int = 0
    new: int = 0
    no_rule: int = 0
    window_expired: int = 0
    duplicate_content: int = 0
    duplicate_id: int = 0
    too_old: int = 0
    matched: int = 0
    recoveries: int = 0
    signals: int = 0
    digests: int = 0

    def count(self, decision: EventDecision) -> None:
        """Add one decision."""
        self.events += 1
        name = _FIELD_OF[decision.kind]  # a dict, not the enum's slow ``.value`` descriptor
        setattr(self, name, getattr(self, name) + 1)
        self.matched += bool(decision.rule_ids)
        self.recoveries += bool(decision.recovered)


@dataclass(frozen=True, slots=True)
class Stage1Result:
    """Everything one envelope produced: write ``new_state`` once, send signals and digests."""

    new_state: HostState
    decisions: list[EventDecision]
    signals: list[Signal]
    digests: list[EventDigest]
    counters: Stage1Counters = field(default_factory=Stage1Counters)
