"""How long the worker's event loop was kept from running: the longest delay since the last look.

A faust worker runs everything on one event loop: its agents, its tables' recovery, its ticker,
and aiokafka's group heartbeat. A callback that holds the loop holds that heartbeat too, and a
loop held past the group's session timeout (``processor.session_timeout_s``, 60 s) has the
coordinator evict the worker and rebalance the group. A task sleeps ``period_s`` again and again
and notes by how much each wake-up came late; the processor's heartbeat line reports the longest
since the line before (``loop_delay_ms``). So a blocked loop shows in the log as it happens, and a
shorter session timeout, which would let the group take a lost worker's partitions over sooner,
can be weighed against the delays measured instead of guessed.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable


class LoopWatch:
    """The longest wake-up delay of a task on the loop; read from another thread with ``take``."""

    def __init__(self, period_s: float = 0.1, clock: Callable[[], float] = time.monotonic) -> None:
        self._period, self._clock = period_s, clock
        self._worst = 0.0
        self._lock = threading.Lock()  # written on the loop, read by the heartbeat's thread

    def observe(self, late_s: float) -> None:
        with self._lock:
            self._worst = max(self._worst, late_s)

    def take(self) -> float:
        """The longest delay in seconds since the previous ``take``, and start again from zero."""
        with self._lock:
            worst, self._worst = self._worst, 0.0
        return worst

    async def run(self) -> None:
        """Sleep ``period_s`` forever, noting each wake-up's delay (run it as a task on the loop)."""
        while True:
            due = self._clock() + self._period
            await asyncio.sleep(self._period)
            self.observe(max(0.0, self._clock() - due))
