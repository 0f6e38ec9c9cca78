"""A shared-memory ring carrying envelope bytes from the tail's reader process to the tail.

Through the pipe alone an envelope was copied four times (pickled, into the socket, out of it,
unpickled), and the kernel's share of that was most of the reader's system time; through the ring
it is copied twice, into the mapping by the reader and out of it by the tail, and the pipe carries
(start, end) in its place. One writer, one reader; positions are byte counts since the start. The
tail publishes in the mapping's first bytes how far it has copied out (``release``), and the
writer waits while a value would overwrite bytes not released yet. A value never wraps: when it
does not fit before the end, the writer skips to the start.
"""

from __future__ import annotations

import mmap
import struct
import time
from collections.abc import Callable
from typing import Final

_HEADER: Final = 64  # the released counter, alone on its cache line
_COUNTER: Final = struct.Struct("<Q")
_WAIT_S: Final = 0.0002


class EnvelopeRingError(Exception):
    """The ring's reader went away while the writer waited for room."""


class EnvelopeRing:
    """``put`` in the writing process, ``take`` then ``release`` in the reading one (a fork)."""

    def __init__(self, size: int) -> None:
        # Anonymous and shared: a forked child writes the very pages the parent reads.
        self._map = mmap.mmap(-1, _HEADER + size)
        self._size = size
        self._written = 0

    def fits(self, length: int) -> bool:
        """Small enough to go through the ring (larger ones go through the pipe)."""
        return length <= self._size // 4

    def put(self, value: bytes, alive: Callable[[], bool]) -> tuple[int, int]:
        """Copy ``value`` in, waiting for room while ``alive()``; its (start, end) positions."""
        size, length = self._size, len(value)
        start = self._written
        offset = start % size
        if offset + length > size:
            start, offset = start + size - offset, 0
        end = start + length
        while end - self._released() > size:
            if not alive():
                raise EnvelopeRingError("the ring's reader is gone")
            time.sleep(_WAIT_S)
        self._map[_HEADER + offset:_HEADER + offset + length] = value
        self._written = end
        return start, end

    def take(self, start: int, end: int) -> bytes:
        """A copy of the value written at (start, end)."""
        offset = _HEADER + start % self._size
        return self._map[offset:offset + end - start]

    def release(self, end: int) -> None:
        """Every value up to ``end`` is copied out: the writer may reuse its room."""
        _COUNTER.pack_into(self._map, 0, end)

    def close(self) -> None:
        self._map.close()

    def _released(self) -> int:
        # An aligned 8-byte load or store is one instruction on x86-64 and arm64: never torn.
        released: int = _COUNTER.unpack_from(self._map, 0)[0]
        return released
