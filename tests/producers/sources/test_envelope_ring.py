"""The envelope ring returns every value intact across wraps, never overwriting unreleased ones."""

from __future__ import annotations

import random

import pytest
from deskwatch.producers.sources.envelope_ring import EnvelopeRing, EnvelopeRingError

# (id, ring size, value lengths put and taken one after the other)
ROUND_TRIPS = [
    ("one small value", 64, [5]),
    ("exactly the room left at the end", 64, [16, 16, 16, 16, 16]),
    ("a value that would wrap starts over at 0", 64, [16, 10, 16, 16, 9]),
    ("many laps", 100, [25, 7, 13, 25, 1, 24, 25] * 20),
]


@pytest.mark.parametrize(("size", "lengths"), [c[1:] for c in ROUND_TRIPS], ids=[c[0] for c in ROUND_TRIPS])
def test_values_come_back_intact(size: int, lengths: list[int]) -> None:
    ring, rng = EnvelopeRing(size), random.Random(size)
    try:
        for length in lengths:
            value = rng.randbytes(length)
            start, end = ring.put(value, lambda: True)
            assert end - start == length
            assert ring.take(start, end) == value
            ring.release(end)
    finally:
        ring.close()


def test_a_full_ring_waits_for_release_and_gives_up_when_its_reader_is_gone() -> None:
    ring = EnvelopeRing(64)
    try:
        first = ring.put(b"a" * 16, lambda: True)
        ring.put(b"b" * 16, lambda: True)
        ring.put(b"c" * 16, lambda: True)
        checks = iter([True, True, False])  # still waiting after two looks: the reader is gone
        with pytest.raises(EnvelopeRingError):
            ring.put(b"d" * 32, lambda: next(checks))
        ring.release(first[1])  # the first value copied out: 16 bytes fit at the end again
        start, end = ring.put(b"d" * 16, lambda: False)  # room now: no wait, no check
        assert ring.take(start, end) == b"d" * 16
    finally:
        ring.close()


@pytest.mark.parametrize(("size", "length", "fits"), [(64, 16, True), (64, 17, False)],
                         ids=["a quarter fits", "more goes through the pipe"])
def test_fits_a_quarter_of_the_ring(size: int, length: int, fits: bool) -> None:
    ring = EnvelopeRing(size)
    assert ring.fits(length) is fits
    ring.close()
