"""A sink's watch over its own group consumer: a heartbeat line, and a consumer rebuilt when it never joins.

A fault-campaign run (Kafka killed and restarted) left a restarted sink polling for four minutes
without ever joining its group: no partition, no record, and not one line in its log. The loop's
polls return every few hundred milliseconds, so the sink can see that itself. Every
``heartbeat_interval_s`` it logs what it is doing; when its consumer has not been a member of the
group for ``rejoin_after_s`` it logs why (the coordinator's state) and builds a new consumer,
which looks the coordinator up and joins afresh. Nothing is lost: the old consumer owned no
partitions, so it had nothing uncommitted. The Elasticsearch sink and the webhook relay both
keep their consumers this way (``GroupKeeper``).

A second stall is kafka-python 3.0.12's own, and is mended in place: an *orphaned join*. When the
group leader assigned while some subscribed topics were not yet in its metadata (topics created a
moment before), the next metadata update makes ``need_rejoin()`` true through the leader's
assignment snapshot only (``rejoin_needed`` stays false). ``poll`` starts the JoinGroup/SyncGroup
task and, when its timeout ends first, leaves the task in flight for the next poll to await. But
the task's own assignment step refreshes the snapshot, so ``need_rejoin()`` turns false, no later
poll awaits the task, and its result is never applied: the coordinator stays ``REBALANCING`` with
heartbeats disabled and the partitions of the unseen topics unassigned, for good. Seen in a sink
test (no partition for 30 s); 3 of 15 starts on just-created topics under CPU load. The sink
sees it between polls (state ``REBALANCING`` while ``need_rejoin()`` is false) and calls
``request_rejoin()``, so the next poll awaits the task or joins afresh.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import structlog

log = structlog.get_logger(__name__)


class Phase(str, Enum):
    """What the sink was doing over the last interval."""

    JOINING = "joining"  # not a member of its group yet (or any more)
    CONSUMING = "consuming"
    IDLE = "idle"  # a member, nothing arrived
    UNASSIGNED = "unassigned"  # a member with no partitions (more sinks than partitions)


@dataclass(frozen=True)
class Look:
    """The consumer at one instant."""

    member: bool  # the group coordinator counts it as a stable member
    assigned: int  # partitions assigned to it
    consumed: int  # records handled since the sink started
    orphaned_join: bool = False  # mid-rebalance, yet no poll will ever finish it (see module doc)


@dataclass(frozen=True)
class Verdict:
    """What the watch decided at one instant."""

    beat: dict[str, Any] | None  # the heartbeat line's fields, when one is due
    rebuild: bool  # the consumer has been out of its group too long: replace it
    outside_s: float  # how long it has been out of its group (0 while a member)
    rejoin: bool = False  # its join was orphaned: ask the coordinator to rejoin (in place, no rebuild)


@dataclass
class GroupWatch:
    """Pure: fed a ``Look`` and the time, says when to log and when to rebuild the consumer."""

    heartbeat_interval_s: float
    rejoin_after_s: float
    _outside_since: float | None = None
    _last_beat: float | None = None
    _consumed_at_beat: int = 0
    rebuilds: int = field(default=0)
    rejoins: int = field(default=0)  # orphaned joins mended

    def observe(self, look: Look, now: float) -> Verdict:
        """The verdict for ``look`` seen at ``now`` (monotonic seconds)."""
        if look.orphaned_join:
            self.rejoins += 1
        if look.member:
            self._outside_since = None
        elif self._outside_since is None:
            self._outside_since = now
        outside = 0.0 if self._outside_since is None else now - self._outside_since
        rebuild = outside >= self.rejoin_after_s
        if rebuild:
            self._outside_since = now  # the new consumer gets its own full allowance
            self.rebuilds += 1
        # A rebuild also ends an orphaned join: the new consumer joins afresh.
        return Verdict(self._beat(look, now, outside), rebuild, outside, look.orphaned_join and not rebuild)

    def _beat(self, look: Look, now: float, outside: float) -> dict[str, Any] | None:
        if self._last_beat is None:
            self._last_beat = now  # the first line comes one interval after the start
            return None
        if now - self._last_beat < self.heartbeat_interval_s:
            return None
        since = look.consumed - self._consumed_at_beat
        self._last_beat, self._consumed_at_beat = now, look.consumed
        return {"phase": _phase(look, since).value, "assigned": look.assigned, "consumed": look.consumed,
                "consumed_since_last": since, "outside_group_s": round(outside, 1), "rebuilds": self.rebuilds,
                "rejoins": self.rejoins}


def _phase(look: Look, since: int) -> Phase:
    if not look.member:
        return Phase.JOINING
    if not look.assigned:
        return Phase.UNASSIGNED
    return Phase.CONSUMING if since else Phase.IDLE


def look_at(consumer: Any, consumed: int) -> Look:
    """Read a kafka-python consumer's membership (attribute reads, no request)."""
    assigned = len(consumer.assignment())
    state = coordinator_state(consumer).get("state")
    # A consumer with partitions is a member whatever the name of its state; without any, only the
    # coordinator's STABLE state says it joined (a group can have more members than partitions).
    return Look(member=assigned > 0 or state == "STABLE", assigned=assigned, consumed=consumed,
                orphaned_join=state == "REBALANCING" and not _wants_join(consumer))


def _wants_join(consumer: Any) -> bool:
    """kafka-python's ``need_rejoin()``: whether its next poll will drive (or await) a join. Read
    between polls, a rebalancing coordinator that does not want to join has orphaned its join.
    Unknown (no such method) counts as wanting: then nothing is mended."""
    need_rejoin = getattr(getattr(consumer, "_coordinator", None), "need_rejoin", None)
    return True if need_rejoin is None else bool(need_rejoin())


def coordinator_state(consumer: Any) -> dict[str, Any]:
    """The group coordinator's state as kafka-python keeps it, for the log (best effort: private
    attributes, so an absent one is reported as absent rather than failing the sink)."""
    coordinator = getattr(consumer, "_coordinator", None)
    state = getattr(coordinator, "state", None)
    generation = getattr(coordinator, "_generation", None)
    return {
        "state": _state_name(state),
        "coordinator_id": getattr(coordinator, "coordinator_id", None),
        "member_id": getattr(generation, "member_id", None),
        "generation": getattr(generation, "generation_id", None),
    }


def _state_name(state: Any) -> str | None:
    """``STABLE``, ``REBALANCING``, ``UNJOINED``: kafka-python 3.0.12's ``MemberState`` values are
    plain strings such as ``'<stable>'``, not enum members (an enum's ``name`` is used as is)."""
    if state is None:
        return None
    return str(getattr(state, "name", str(state))).strip("<>").upper()


class GroupKeeper:
    """Logs a component's heartbeat and replaces its consumer when the watch says so."""

    def __init__(self, component: str, build: Callable[[], Any], heartbeat_interval_s: float,
                 rejoin_after_s: float) -> None:
        self._component, self._build = component, build
        self.watch = GroupWatch(heartbeat_interval_s, rejoin_after_s)

    def check(self, consumer: Any, consumed: int, **extra: Any) -> Any:
        """The consumer to keep using: ``consumer`` itself, or its replacement."""
        verdict = self.watch.observe(look_at(consumer, consumed), time.monotonic())
        if verdict.beat is not None:
            log.info(f"{self._component} heartbeat", **extra, **verdict.beat)
        if verdict.rejoin:
            log.warning(f"{self._component} consumer's join was left unfinished by kafka-python: rejoining",
                        assigned=len(consumer.assignment()), **coordinator_state(consumer))
            consumer._coordinator.request_rejoin()  # noqa: SLF001 - the library's own remedy, see module doc
        if not verdict.rebuild:
            return consumer
        log.warning(f"{self._component} consumer not in its group: replacing it",
                    outside_s=round(verdict.outside_s, 1), **coordinator_state(consumer))
        replacement = self._build()
        try:
            consumer.close(autocommit=False, timeout_ms=5_000)
        except Exception as err:  # noqa: BLE001 - it owned no partition: nothing to lose
            log.warning(f"old {self._component} consumer did not close cleanly", error=type(err).__name__)
        return replacement
