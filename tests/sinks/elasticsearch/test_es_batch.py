"""A batch is written when full by count or bytes, when the input is drained, or at the linger ceiling."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from deskwatch.settings import SinkSettings
from deskwatch.sinks.elasticsearch.batch import Batch

LIMITS = SinkSettings(bulk_max_docs=3, bulk_max_bytes=2048, flush_interval_s=0.5)


@dataclass
class Rec:
    value: bytes


@pytest.mark.parametrize(
    ("sizes", "now", "drained", "full", "ready"),
    [([10], 0.1, False, False, False), ([10], 0.1, True, False, True), ([10, 10, 10], 0.1, False, True, True),
     ([2048], 0.1, False, True, True), ([10], 0.5, False, False, True), ([], 0.6, True, False, False),
     ([], 0.6, False, False, False)],
    ids=["young-small-more-coming", "drained", "count", "bytes", "age-ceiling", "empty-drained", "empty-old"],
)
def test_full_and_ready(sizes: list[int], now: float, drained: bool, full: bool, ready: bool) -> None:
    batch = Batch(LIMITS)
    batch.add([Rec(b"x" * n) for n in sizes], now=0.0)
    assert (batch.full, batch.ready(now, drained)) == (full, ready)
    assert batch.room() == max(1, 3 - len(sizes))


def test_age_counts_from_the_first_record() -> None:
    batch = Batch(LIMITS)
    batch.add([], now=0.0)
    batch.add([Rec(b"x")], now=1.0)
    batch.add([Rec(b"y")], now=1.2)
    assert (batch.opened_at, batch.ready(1.4, drained=False), batch.ready(1.5, drained=False)) == (1.0, False, True)
