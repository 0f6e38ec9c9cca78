"""The sink's watch over its consumer (pure): heartbeat lines and when a consumer is replaced."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pytest

from deskwatch.sinks.membership import GroupKeeper, GroupWatch, Look, coordinator_state, look_at

# (seconds since start, member, assigned, consumed): one row per loop turn
Turn = tuple[float, bool, int, int]


def _run(turns: list[Turn], beat_s: float = 10.0, rejoin_s: float = 30.0) -> list[tuple[Any, bool]]:
    watch = GroupWatch(beat_s, rejoin_s)
    out = []
    for now, member, assigned, consumed in turns:
        v = watch.observe(Look(member, assigned, consumed), now)
        out.append((v.beat and v.beat["phase"], v.rebuild))
    return out


@pytest.mark.parametrize(("turns", "expected"), [
    pytest.param([(0, True, 4, 0), (5, True, 4, 10), (10, True, 4, 30), (20, True, 4, 30)],
                 [(None, False), (None, False), ("consuming", False), ("idle", False)], id="member-beats"),
    pytest.param([(0, False, 0, 0), (10, False, 0, 0), (29, False, 0, 0), (30, False, 0, 0)],
                 [(None, False), ("joining", False), ("joining", False), (None, True)], id="never-joins-rebuilt"),
    pytest.param([(0, False, 0, 0), (25, True, 4, 0), (50, False, 0, 0), (79, False, 0, 0)],
                 [(None, False), ("idle", False), ("joining", False), ("joining", False)], id="joined-in-time-resets"),
    pytest.param([(0, True, 0, 0), (100, True, 0, 0)],
                 [(None, False), ("unassigned", False)], id="member-without-partitions-kept"),
    pytest.param([(0, False, 0, 0), (30, False, 0, 0), (45, False, 0, 0), (60, False, 0, 0)],
                 [(None, False), ("joining", True), ("joining", False), ("joining", True)], id="new-consumer-own-allowance"),
])
def test_watch(turns: list[Turn], expected: list[tuple[Any, bool]]) -> None:
    assert _run(turns) == expected


# (seconds since start, member, assigned, orphaned join): one row per loop turn; rejoin_after_s = 30
OrphanTurn = tuple[float, bool, int, bool]


@pytest.mark.parametrize(("turns", "expected"), [
    pytest.param([(0, False, 0, True)], [(False, True)], id="orphaned-without-partitions-rejoins"),
    pytest.param([(0, True, 2, True)], [(False, True)], id="orphaned-with-some-partitions-rejoins"),
    pytest.param([(0, False, 0, False), (1, False, 0, True), (2, True, 6, False)],
                 [(False, False), (False, True), (False, False)], id="mended-then-member"),
    pytest.param([(0, False, 0, False), (30, False, 0, True)], [(False, False), (True, False)],
                 id="rebuild-supersedes-rejoin"),
    pytest.param([(0, True, 6, False), (5, False, 0, False)], [(False, False), (False, False)],
                 id="plain-rebalance-left-alone"),
])
def test_orphaned_join_verdicts(turns: list[OrphanTurn], expected: list[tuple[bool, bool]]) -> None:
    watch = GroupWatch(10.0, 30.0)
    verdicts = [watch.observe(Look(member, assigned, 0, orphaned), now) for now, member, assigned, orphaned in turns]
    assert [(v.rebuild, v.rejoin) for v in verdicts] == expected
    assert watch.rejoins == sum(orphaned for *_, orphaned in turns)


def test_beat_counts_since_the_last_line() -> None:
    watch = GroupWatch(10, 60)
    watch.observe(Look(True, 2, 0), 0)
    beat = watch.observe(Look(True, 2, 7), 10).beat
    assert beat is not None and (beat["consumed"], beat["consumed_since_last"]) == (7, 7)
    beat = watch.observe(Look(True, 2, 9), 20).beat
    assert beat is not None and (beat["consumed"], beat["consumed_since_last"]) == (9, 2)


class _State(Enum):
    STABLE = 1
    UNJOINED = 2
    REBALANCING = 3


@dataclass
class _Generation:
    generation_id: int = 3
    member_id: str = "m-1"


@dataclass
class _Coordinator:
    state: Any
    coordinator_id: int | None = 1
    _generation: _Generation = field(default_factory=_Generation)
    rejoin_wanted: bool = True
    rejoins_requested: int = 0

    def need_rejoin(self) -> bool:
        return self.rejoin_wanted

    def request_rejoin(self) -> None:
        self.rejoins_requested += 1


@dataclass
class _BareCoordinator:  # no need_rejoin: an unknown library version
    state: Any


@dataclass
class _Consumer:
    partitions: int
    _coordinator: Any

    def assignment(self) -> set[int]:
        return set(range(self.partitions))


@pytest.mark.parametrize(("consumer", "member", "orphaned"), [
    pytest.param(_Consumer(3, _Coordinator(_State.STABLE)), True, False, id="stable-with-partitions"),
    pytest.param(_Consumer(0, _Coordinator(_State.STABLE)), True, False, id="stable-without-partitions"),
    pytest.param(_Consumer(0, _Coordinator("<stable>")), True, False, id="kafka-python-3-stable-string"),
    pytest.param(_Consumer(0, _Coordinator(_State.UNJOINED)), False, False, id="unjoined"),
    pytest.param(_Consumer(0, _Coordinator("<rebalancing>")), False, False, id="joining"),
    pytest.param(_Consumer(0, _Coordinator("<rebalancing>", rejoin_wanted=False)), False, True,
                 id="rebalancing-without-wanting-to-join-is-orphaned"),
    pytest.param(_Consumer(4, _Coordinator(_State.REBALANCING, rejoin_wanted=False)), True, True,
                 id="orphaned-with-partitions"),
    pytest.param(_Consumer(0, _Coordinator("<stable>", rejoin_wanted=False)), True, False, id="stable-not-orphaned"),
    pytest.param(_Consumer(0, _BareCoordinator("<rebalancing>")), False, False, id="no-need-rejoin-method"),
    pytest.param(_Consumer(2, None), True, False, id="no-coordinator-attribute-but-partitions"),
    pytest.param(_Consumer(0, None), False, False, id="no-coordinator-attribute"),
])
def test_look_at(consumer: _Consumer, member: bool, orphaned: bool) -> None:
    assert look_at(consumer, 5) == Look(member, consumer.partitions, 5, orphaned)


@pytest.mark.parametrize(("state", "rejoin_wanted", "requested"), [
    pytest.param("<rebalancing>", False, 1, id="orphaned-join-rejoined-in-place"),
    pytest.param("<rebalancing>", True, 0, id="join-in-progress-left-alone"),
    pytest.param("<stable>", False, 0, id="stable-left-alone"),
])
def test_keeper_requests_a_rejoin_for_an_orphaned_join(state: str, rejoin_wanted: bool, requested: int) -> None:
    coordinator = _Coordinator(state, rejoin_wanted=rejoin_wanted)
    consumer = _Consumer(0, coordinator)
    keeper = GroupKeeper("test", lambda: pytest.fail("no rebuild expected"), 60.0, 60.0)
    assert keeper.check(consumer, 0) is consumer
    assert (coordinator.rejoins_requested, keeper.watch.rejoins) == (requested, requested)


def test_coordinator_state_for_the_log() -> None:
    assert coordinator_state(_Consumer(0, _Coordinator(_State.UNJOINED))) == {
        "state": "UNJOINED", "coordinator_id": 1, "member_id": "m-1", "generation": 3}
    assert coordinator_state(_Consumer(0, _Coordinator("<rebalancing>")))["state"] == "REBALANCING"
    assert coordinator_state(object()) == {"state": None, "coordinator_id": None, "member_id": None,
                                           "generation": None}
