"""The event loop's longest delay: a blocked loop shows, and each look starts again from zero."""

from __future__ import annotations

import asyncio
import time

from deskwatch.processors.loop_watch import LoopWatch


def test_take_gives_the_longest_delay_since_the_last_take() -> None:
    watch = LoopWatch()
    for late in (0.01, 0.4, 0.02):
        watch.observe(late)
    assert watch.take() == 0.4
    assert watch.take() == 0.0


def test_a_callback_that_holds_the_loop_is_seen() -> None:
    watch = LoopWatch(period_s=0.02)

    async def scenario() -> tuple[float, float]:
        task = asyncio.create_task(watch.run())
        await asyncio.sleep(0.2)
        quiet = watch.take()
        time.sleep(0.3)  # a synchronous call on the loop: nothing else runs meanwhile
        await asyncio.sleep(0.1)
        blocked = watch.take()
        task.cancel()
        return quiet, blocked

    quiet, blocked = asyncio.run(scenario())
    assert blocked >= 0.25 > quiet
