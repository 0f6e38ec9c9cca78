"""Input positions after a rebalance: partitions with nothing (or 0) committed start at their beginning."""

from __future__ import annotations

import asyncio
from typing import Any

from faust.types import TP

from deskwatch.processors.positions import seek_uncommitted


class FakeConsumer:
    """faust's consumer as the seek uses it: assignment, committed offsets, earliest offsets, seek."""

    def __init__(self, assigned: set[TP], committed: dict[TP, int | None], earliest: dict[TP, int]) -> None:
        self.assigned, self.committed, self.earliest = assigned, committed, earliest
        self.seeks: list[tuple[TP, int]] = []

    def assignment(self) -> set[TP]:
        return self.assigned

    async def seek_to_committed(self) -> dict[TP, int | None]:
        return {tp: self.committed.get(tp) for tp in self.assigned}

    async def earliest_offsets(self, *tps: TP) -> dict[TP, int]:
        return {tp: self.earliest[tp] for tp in tps}

    async def seek(self, tp: TP, offset: int) -> None:
        self.seeks.append((tp, offset))


def test_uncommitted_and_zero_committed_inputs_go_to_their_beginning() -> None:
    never, zero, some, changelog = TP("events", 0), TP("events", 1), TP("signals", 0), TP("app-hosts-changelog", 0)
    consumer = FakeConsumer({never, zero, some, changelog}, committed={zero: 0, some: 12, changelog: None},
                            earliest={never: 5, zero: 0})
    fresh: Any = asyncio.run(seek_uncommitted(consumer, frozenset({"events", "signals"})))
    assert fresh == [never, zero]
    assert consumer.seeks == [(never, 5), (zero, 0)], "committed > 0 is faust's own seek; changelogs untouched"


def test_nothing_assigned_asks_nothing() -> None:
    consumer = FakeConsumer({TP("app-hosts-changelog", 0)}, committed={}, earliest={})
    assert asyncio.run(seek_uncommitted(consumer, frozenset({"events"}))) == [] and consumer.seeks == []
