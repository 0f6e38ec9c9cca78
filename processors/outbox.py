"""Outbox: the records one batch of input produces; its outputs first, then its state.

An agent processes a whole batch without awaiting (so no rebalance can cut between a record and
its state), stages each changed table key once, then sends the batch's outputs; when its staged
states are due (processors/state_writes.py, per interval), it flushes its table into an outbox,
which sends them after every output they imply. Faust acknowledges the batch's input only after
the agent body returns, and commits an offset only after the producer flushed (and, for input
whose state is not written yet, not past it: ``InOrderConsumer.hold``): a crash anywhere replays
the batch, which the idempotent cores absorb, as long as the state a crash leaves behind never
claims more than the log holds.

Decision: the state is sent only once the broker has every output, and each table key's records
(a host's header and parts) travel in one record batch, which Kafka appends whole or not at all.
A state record says what was processed, and a replay skips it (exact dedup, signals already
applied): a state written before the outputs it implies would lose them if a crash fell between,
and a host's parts written without its header made a replay count content repeats twice (seen in
CI). So a crash leaves, for each key, either the state before the batch (the batch is replayed in
full and its outputs sent again: downstream absorbs them) or the state after it, whole, with its
outputs in the log. The cost is one acknowledgement's wait per state write.

A table whose store keeps its records across restarts (processors/disk_store.py) is told each
state record batch as it is handed over, and writes it there once the broker acknowledged it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import structlog

from deskwatch.processors.disk_store import tracker
from deskwatch.processors.encode import encode
from deskwatch.processors.in_order import output_failed
from deskwatch.processors.produce import PartitionedBatches, Unit
from deskwatch.schemas import DeadLetter

log = structlog.get_logger(__name__)

Headers = list[tuple[str, bytes]] | None


@dataclass
class Outbox:
    """Records to send, in the order the batch made them."""

    dead_letters: Any  # the dead-letter topic
    stage: str
    records: list[tuple[Any, bytes, bytes | None, Headers, bytes | None]] = field(default_factory=list)
    units: list[tuple[Any, bytes, list[tuple[bytes, bytes | None]]]] = field(default_factory=list)  # (table, route, records)
    letters: int = 0

    def add(self, topic: Any, key: bytes, value: bytes | None, headers: Headers = None,
            route: bytes | None = None) -> None:
        """One record; ``value`` None is a tombstone, ``route`` the key whose partition it goes to
        (default: its own key's)."""
        self.records.append((topic, key, value, headers, route))

    def write_state(self, table: Any, route: bytes, records: list[tuple[bytes, bytes | None]]) -> None:
        """One table key's state records, (key, value or None for a tombstone), for the partition
        of ``route`` of ``table``'s changelog: sent after every output, all in one record batch."""
        self.units.append((table, route, records))

    def letter(self, event: Any, reason: str, detail: str, original: bytes | None = None, say: bool = True) -> None:
        """The record's original bytes (or ``original``, the part of it rejected) to the
        dead-letter topic, with why; logged unless the caller says it once for many (``say``)."""
        msg = event.message
        letter = DeadLetter.of(reason=reason, detail=detail, stage=self.stage, source=msg.topic,
                               position=f"{msg.partition}:{msg.offset}",
                               original=event.value if original is None else original)
        self.add(self.dead_letters, msg.topic.encode(), encode(letter))
        self.letters += 1
        if say:
            log.warning("dead-lettered", stage=self.stage, reason=reason, topic=msg.topic,
                        partition=msg.partition, offset=msg.offset)

    def failed(self, event: Any, exc: Exception) -> None:
        """A record the core could not process: dead-lettered, never acknowledged silently."""
        log.error("processing failed", stage=self.stage, error=type(exc).__name__, exc_info=exc)
        self.letter(event, "processing_error", f"{type(exc).__name__}: {exc}"[:500])

    async def send(self, producer: Any, earlier: Sequence[asyncio.Future[Any]] = ()) -> list[asyncio.Future[Any]]:
        """Hand the outputs to the app's producer, wait until the broker has them all (and the
        ``earlier`` outputs, sent by batches whose state these units carry), then hand it the
        state units; faust flushes the producer before it commits. Without state units nothing
        is awaited: returns the outputs' deliveries, which a later ``send`` must be given.

        Appended straight into aiokafka's record batches (``produce``), in order per partition:
        the topic layer and the per-record ``send`` add futures, sensor calls and a pure-Python
        hash per record, which a batch has no use for. An output the broker did not take stops
        the worker (``output_failed``) and no state of the batch is sent.
        """
        names: dict[int, str] = {}

        def name(topic: Any) -> str:
            return names.get(id(topic)) or names.setdefault(id(topic), topic.get_topic_name())

        batches = PartitionedBatches(producer._ensure_producer())
        records = [(name(t), key, value, headers, route) for t, key, value, headers, route in self.records]
        delivered = await batches.send(records)
        self.records.clear()
        for future in delivered:
            future.add_done_callback(partial(_check_delivery, producer.app))
        if not self.units:
            return delivered
        pending = [*earlier, *delivered]
        if pending:
            await asyncio.wait(pending)
            if not all(f.done() and not f.cancelled() and f.exception() is None for f in pending):
                raise OutputsNotDelivered(f"{self.stage}: an output batch was not delivered; its state is not written")
        units: list[Unit] = [(name(t.changelog_topic), route, unit) for t, route, unit in self.units]
        trackers = {name(t.changelog_topic): tracker(t) for t, _, _ in self.units}
        self.units.clear()

        def sent(topic: str, partition: int, records: list[tuple[bytes, bytes | None]], delivery: Any) -> None:
            delivery.add_done_callback(partial(_check_delivery, producer.app))
            if (track := trackers.get(topic)) is not None:
                track(partition, delivery, records)

        await batches.send_units(units, sent)
        return []


class OutputsNotDelivered(Exception):
    """A batch's outputs did not reach the broker: its state must not be written (the worker stops)."""


def _check_delivery(app: Any, future: Any) -> None:
    """A batch the broker did not take (expired, refused): no commit may pass its input again."""
    if future.cancelled() or future.exception() is None:
        return
    output_failed(app, future.exception())
