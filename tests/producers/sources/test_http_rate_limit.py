"""The HTTP ingest's token bucket per client address (pure: time is passed in)."""

from __future__ import annotations

import pytest
from deskwatch.producers.sources.http_ingest import RateLimiter

CASES = [
    # (rate/s, burst, [(client, now)], expected waits)
    ("burst-then-wait", 1.0, 3, [("a", 0.0)] * 4, [0.0, 0.0, 0.0, 1.0]),
    ("refills-at-rate", 2.0, 1, [("a", 0.0), ("a", 0.0), ("a", 0.5)], [0.0, 0.5, 0.0]),
    ("partial-refill-waits-the-rest", 1.0, 1, [("a", 0.0), ("a", 0.25)], [0.0, 0.75]),
    ("refill-capped-at-burst", 10.0, 2, [("a", 0.0), ("a", 100.0), ("a", 100.0), ("a", 100.0)],
     [0.0, 0.0, 0.0, 0.1]),
    ("clients-are-independent", 1.0, 1, [("a", 0.0), ("b", 0.0), ("a", 0.0), ("b", 0.0)],
     [0.0, 0.0, 1.0, 1.0]),
    ("a-refusal-spends-nothing", 1.0, 1, [("a", 0.0), ("a", 0.5), ("a", 0.5), ("a", 1.0)],
     [0.0, 0.5, 0.5, 0.0]),
]


@pytest.mark.parametrize(("rate", "burst", "calls", "waits"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_admit_returns_the_wait_or_zero(rate: float, burst: int, calls: list[tuple[str, float]],
                                        waits: list[float]) -> None:
    limiter = RateLimiter(rate, burst)
    assert [limiter.admit(client, now) for client, now in calls] == pytest.approx(waits)


def test_memory_stays_bounded_under_a_flood_of_addresses() -> None:
    limiter = RateLimiter(1.0, 1, max_clients=100)
    for i in range(10_000):
        limiter.admit(f"10.0.{i // 256}.{i % 256}", 0.0)
    assert len(limiter) == 100
    assert limiter.admit("10.0.39.15", 0.0) == pytest.approx(1.0), "the most recent are remembered"
