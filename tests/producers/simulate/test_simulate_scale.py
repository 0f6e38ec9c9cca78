"""A 100k-host fleet streams: its first events come without generating the rest (memory, not time)."""

from __future__ import annotations

import tracemalloc
from itertools import islice

from deskwatch.producers.simulate import simulate_fleet

from .conftest import small_spec

STREAMED = 5_000


def test_hundred_thousand_hosts_stream_in_bounded_memory() -> None:
    sim = simulate_fleet(small_spec(1, hosts=100_000, sites=40, directorates=12))
    assert sum(h.device_class != "server" for h in sim.hosts) == 100_000
    assert sum(t.expected_event_count for t in sim.truth) > 100_000  # fleet-wide scenarios scale
    tracemalloc.start()
    try:
        lines = islice(sim.events.json_lines(), STREAMED)
        first_ten = [next(lines) for _ in range(10)]
        rest = sum(1 for _ in lines)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert len(first_ten) + rest == STREAMED
    # One heap entry per host (~100 B) plus the merge state; a materialised day would be GBs.
    assert peak < 64 * 1024 * 1024, f"streaming peaked at {peak / 1e6:.0f} MB"
