"""Outbox: the records one batch of input produces, sent in order after the batch's state is staged.

An agent processes a whole batch without awaiting (so no rebalance can cut between a record and
its state), stages each changed table key once, flushes the tables, then sends the outbox. Faust
acknowledges the batch's input only after the agent body returns, and commits an offset only
after the producer flushed: a crash anywhere replays the batch, which the idempotent cores absorb.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import structlog

from deskwatch.processors.encode import encode
from deskwatch.processors.in_order import output_failed
from deskwatch.processors.produce import PartitionedBatches
from deskwatch.schemas import DeadLetter

log = structlog.get_logger(__name__)

Headers = list[tuple[str, bytes]] | None


@dataclass
class Outbox:
    """Records to send, in the order the batch made them."""

    dead_letters: Any  # the dead-letter topic
    stage: str
    records: list[tuple[Any, bytes, bytes | None, Headers, bytes | None]] = field(default_factory=list)
    letters: int = 0

    def add(self, topic: Any, key: bytes, value: bytes | None, headers: Headers = None,
            route: bytes | None = None) -> None:
        """One record; ``value`` None is a tombstone, ``route`` the key whose partition it goes to
        (default: its own key's)."""
        self.records.append((topic, key, value, headers, route))

    def letter(self, event: Any, reason: str, detail: str) -> None:
        """The record's original bytes to the dead-letter topic, with why."""
        msg = event.message
        letter = DeadLetter.of(reason=reason, detail=detail, stage=self.stage, source=msg.topic,
                               position=f"{msg.partition}:{msg.offset}", original=event.value)
        self.add(self.dead_letters, msg.topic.encode(), encode(letter))
        self.letters += 1
        log.warning("dead-lettered", stage=self.stage, reason=reason, topic=msg.topic,
                    partition=msg.partition, offset=msg.offset)

    def failed(self, event: Any, exc: Exception) -> None:
        """A record the core could not process: dead-lettered, never acknowledged silently."""
        log.error("processing failed", stage=self.stage, error=type(exc).__name__, exc_info=exc)
        self.letter(event, "processing_error", f"{type(exc).__name__}: {exc}"[:500])

    async def send(self, producer: Any) -> None:
        """Hand every record to the app's producer; faust flushes it before it commits.

        Appended straight into aiokafka's record batches (``produce``), in order per partition:
        the topic layer and the per-record ``send`` add futures, sensor calls and a pure-Python
        hash per record, which a batch has no use for.
        """
        names: dict[int, str] = {}
        records = [(names.get(id(t)) or names.setdefault(id(t), t.get_topic_name()), key, value, headers, route)
                   for t, key, value, headers, route in self.records]
        delivered = await PartitionedBatches(producer._ensure_producer()).send(records)
        self.records.clear()
        for future in delivered:
            future.add_done_callback(lambda f, app=producer.app: _check_delivery(app, f))


def _check_delivery(app: Any, future: Any) -> None:
    """A batch the broker did not take (expired, refused): no commit may pass its input again."""
    if future.cancelled() or future.exception() is None:
        return
    output_failed(app, future.exception())
