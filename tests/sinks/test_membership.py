"""The sink's watch over its consumer (pure): heartbeat lines and when a consumer is replaced."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import pytest

from deskwatch.sinks.membership import GroupWatch, Look, coordinator_state, look_at

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


@dataclass
class _Generation:
    generation_id: int = 3
    member_id: str = "m-1"


@dataclass
class _Coordinator:
    state: _State
    coordinator_id: int | None = 1
    _generation: _Generation = field(default_factory=_Generation)


@dataclass
class _Consumer:
    partitions: int
    _coordinator: Any

    def assignment(self) -> set[int]:
        return set(range(self.partitions))


@pytest.mark.parametrize(("consumer", "member"), [
    pytest.param(_Consumer(3, _Coordinator(_State.STABLE)), True, id="stable-with-partitions"),
    pytest.param(_Consumer(0, _Coordinator(_State.STABLE)), True, id="stable-without-partitions"),
    pytest.param(_Consumer(0, _Coordinator(_State.UNJOINED)), False, id="unjoined"),
    pytest.param(_Consumer(2, None), True, id="no-coordinator-attribute-but-partitions"),
    pytest.param(_Consumer(0, None), False, id="no-coordinator-attribute"),
])
def test_look_at(consumer: _Consumer, member: bool) -> None:
    assert look_at(consumer, 5) == Look(member, consumer.partitions, 5)


def test_coordinator_state_for_the_log() -> None:
    assert coordinator_state(_Consumer(0, _Coordinator(_State.UNJOINED))) == {
        "state": "UNJOINED", "coordinator_id": 1, "member_id": "m-1", "generation": 3}
    assert coordinator_state(object()) == {"state": None, "coordinator_id": None, "member_id": None,
                                           "generation": None}
