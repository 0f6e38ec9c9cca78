"""Stage 2's agent helpers: a tick advances only the groups its partition owns."""

from __future__ import annotations

import pytest
from aiokafka.partitioner import DefaultPartitioner

from deskwatch.processors.run_stage2 import partition_of

KEYS = ["disk-full|site=paris", "gpo-failure|asset.site=S001", "é|ü", "", "x" * 300]


@pytest.mark.parametrize("partitions", [1, 3, 8], ids=["one", "three", "eight"])
@pytest.mark.parametrize("key", KEYS, ids=["plain", "asset", "unicode", "empty", "long"])
def test_partition_of_is_the_producers_partition(key: str, partitions: int) -> None:
    expected = DefaultPartitioner()(key.encode(), list(range(partitions)), list(range(partitions)))
    assert partition_of(key, partitions) == expected
    assert partition_of(key, partitions) == expected  # remembered: the same answer again
