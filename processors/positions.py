"""Input positions after every rebalance: a partition without a committed offset starts at its beginning.

faust, when a rebalance or a table recovery completes, seeks its partitions to their committed
offsets through aiokafka's ``seek_to_committed``, which seeks only offsets > 0. A partition of a
fresh group (nothing committed yet) keeps whatever position the client reached meanwhile, and
faust's fetch loop drops records it already took from the client's buffer when the flow stops or
the generation changes mid-iteration. Records produced while a worker recovered its tables were so
never read (a memory-bench worker, 10 minutes idle with its sentinel waiting; three silent starts
of the day fit the same picture). Seeking those partitions to their beginning, the position that
``auto_offset_reset=earliest`` promises, before faust resumes the flow closes that gap; records
read twice are idempotent downstream.
"""

from __future__ import annotations

from typing import Any

import faust
import structlog

log = structlog.get_logger(__name__)


def seek_fresh_inputs_to_beginning(app: faust.App, inputs: frozenset[str]) -> None:
    """Connect the seek to ``app.on_rebalance_complete`` (sent before faust seeks and resumes)."""

    # mode calls a receiver as receiver(sender, *args, signal=..., **kwargs)
    @app.on_rebalance_complete.connect
    async def _on_rebalance_complete(sender: Any, /, *args: Any, **kwargs: Any) -> None:
        await seek_uncommitted(app.consumer, inputs)


async def seek_uncommitted(consumer: Any, inputs: frozenset[str]) -> list[Any]:
    """Seek every assigned input partition whose committed offset is none or 0 to its beginning;
    return them."""
    tps = [tp for tp in consumer.assignment() if tp.topic in inputs]
    if not tps:
        return []
    committed = await consumer.seek_to_committed()
    fresh = sorted(tp for tp in tps if not committed.get(tp))
    if fresh:
        beginnings = await consumer.earliest_offsets(*fresh)
        for tp in fresh:
            await consumer.seek(tp, beginnings[tp])
        log.info("input partitions without a committed offset start at their beginning", partitions=len(fresh))
    return fresh
