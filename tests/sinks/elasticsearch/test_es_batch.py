"""A batch is written when full by count or bytes, or when it has been open for the flush interval."""

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
    ("sizes", "now", "full", "due"),
    [([10], 0.1, False, False), ([10, 10, 10], 0.1, True, True), ([2048], 0.1, True, True),
     ([10], 0.5, False, True), ([], 0.6, False, True)],
    ids=["young-small", "count", "bytes", "age", "empty-but-old"],
)
def test_full_and_due(sizes: list[int], now: float, full: bool, due: bool) -> None:
    batch = Batch(LIMITS, opened_at=0.0)
    batch.add([Rec(b"x" * n) for n in sizes])
    assert (batch.full, batch.due(now)) == (full, due)
    assert batch.room() == max(1, 3 - len(sizes))
