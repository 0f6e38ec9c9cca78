"""Hand a batch's output records to aiokafka as whole record batches, one per topic partition.

faust's ``Producer.send`` → aiokafka's ``send`` costs, per record, a metadata wait, a faust
signal, a partitioner call (murmur2 in pure Python) and two futures that nobody awaits (the
worker waits for the producer's ``flush`` before it commits, never for one record): ~23 us per
record measured alone against the local broker, 5.8 us through here. Stage 1 makes ~4.7 output
records per envelope on the processor bench (signals, a digest per fingerprint, the host's
changelog record): the worker's CPU to drain it fell ~10 % (bench/processor.py's input, 20,000
hosts). Here the records are appended to aiokafka's own ``BatchBuilder`` per topic partition
(``create_batch``/``send_batch``, aiokafka's public batch API): the same record batches on the
wire, the same partition for every key (Kafka's default partitioner, with each key's hash
remembered), the record's timestamp taken at append time as ``send`` takes it, and the
producer's ``flush`` still covers every batch before faust commits.

Decision: every topic written here is tracked by name in the producer client's metadata
(``_track``). aiokafka's client starts tracking no topic by name, which means all of them, and
its ``_wait_on_metadata`` adds a topic only when the metadata does not know it yet; the first
topic that is added (a changelog created while the worker started) narrows every later metadata
request to the tracked set. A batch already handed over for a topic outside it then has no
leader, and aiokafka's sender asks for metadata in a loop that never names that topic: the
processor bench hung 30 minutes that way with the worker's first batches unsent (stage 2's
first write to its new changelog narrowed the set while stage 1's batches waited).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Sequence
from functools import lru_cache
from typing import Any

import structlog
from aiokafka.partitioner import DefaultPartitioner, murmur2

log = structlog.get_logger(__name__)

# (topic, key, value or None for a tombstone, headers, the key whose partition it goes to or None)
Record = tuple[str, bytes | None, bytes | None, "list[tuple[str, bytes]] | None", bytes | None]
# (topic, the key whose partition they go to, [(key, value or None), ...]): records that must land
# in the log together (one table key's state records)
Unit = tuple[str, bytes, "list[tuple[bytes, bytes | None]]"]

# sent(topic, partition, the records of one record batch of state units, its delivery)
SentBatch = Callable[[str, int, "list[tuple[bytes, bytes | None]]", "asyncio.Future[Any]"], None]

# The most a v2 record adds to its key and value: length, attributes, timestamp and offset deltas,
# key and value lengths (varints, at their widest) and the header count.
RECORD_OVERHEAD = 32

# Hosts and group keys recur batch after batch (and within a batch: a host's digests and its
# changelog record share the key): remember each key's hash. 262,144 keys of < 100 bytes.
HASHES_CACHED = 262_144


@lru_cache(maxsize=HASHES_CACHED)
def key_hash(key: bytes) -> int:
    """Kafka's default partitioner hash of ``key`` (murmur2, sign bit cleared)."""
    return int(murmur2(key)) & 0x7FFFFFFF


class PartitionedBatches:
    """Append records into one aiokafka ``BatchBuilder`` per topic partition, then submit them."""

    def __init__(self, producer: Any) -> None:
        """``producer``: an ``AIOKafkaProducer`` (faust's ``Producer._ensure_producer()``)."""
        self._producer = producer
        self._default = type(producer._partitioner) is DefaultPartitioner
        self._partitions: dict[str, list[int]] = {}
        self._open: dict[tuple[str, int], Any] = {}
        # send() refuses a record above max_request_size (the broker would reject its batch, and
        # no one awaits a batch's future): the same check, made where it can apply at all.
        self._check_above = producer._max_request_size // 2

    async def send(self, records: Sequence[Record]) -> list[asyncio.Future[Any]]:
        """Append every record, in order per partition; submit each full and each last batch.

        Returns each batch's delivery future: the caller must see a failed one (the producer's
        ``flush`` waits for them all but raises nothing).
        """
        delivered: list[asyncio.Future[Any]] = []
        await self._prepare(r[0] for r in records)
        for topic, key, value, headers, route in records:
            partition = self._partition(topic, key if route is None else route)
            if (full := self._append(topic, partition, key, value, headers or [])) is not None:
                delivered.append(await self._producer.send_batch(full, topic, partition=partition))
        return delivered + await self._submit_open()

    async def send_units(self, units: Sequence[Unit], sent: SentBatch | None = None) -> list[asyncio.Future[Any]]:
        """Append each unit's records to one record batch of its partition, in order; submit each
        batch a unit would overflow, and each last one. Returns each batch's delivery future, and
        tells ``sent`` each batch's records with it, in the order submitted.

        Kafka appends a record batch to the log whole or not at all, so a crash of this process
        never leaves a unit half written. A unit larger than a whole batch (the producer's
        ``max_batch_size``: 1 MiB in the processor, far above a host's state) cannot be: it is
        split across batches, and said so in the log.
        """
        delivered: list[asyncio.Future[Any]] = []
        appended: dict[tuple[str, int], list[tuple[bytes, bytes | None]]] = {}  # each open batch's records

        async def submit(builder: Any, topic: str, partition: int) -> None:
            delivery = await self._producer.send_batch(builder, topic, partition=partition)
            delivered.append(delivery)
            if sent is not None:
                sent(topic, partition, appended.pop((topic, partition), []), delivery)

        await self._prepare(u[0] for u in units)
        batch_size = self._producer._message_accumulator._batch_size
        for topic, route, records in units:
            partition = self._partition(topic, route)
            size = sum(len(key) + (0 if value is None else len(value)) + RECORD_OVERHEAD for key, value in records)
            builder = self._open.get((topic, partition))
            if builder is not None and builder.size() + size > batch_size:
                del self._open[(topic, partition)]  # the unit starts a batch of its own
                await submit(builder, topic, partition)
            split = False
            for key, value in records:
                if (full := self._append(topic, partition, key, value, [])) is not None:
                    split = True
                    await submit(full, topic, partition)
                appended.setdefault((topic, partition), []).append((key, value))
            if split:
                log.warning("a state write larger than a record batch was split: not atomic", topic=topic,
                            partition=partition, records=len(records), bytes=size, batch_bytes=batch_size)
        open_batches, self._open = self._open, {}
        for (topic, partition), builder in open_batches.items():
            await submit(builder, topic, partition)
        return delivered

    def _append(self, topic: str, partition: int, key: bytes | None, value: bytes | None,
                headers: list[tuple[str, bytes]]) -> Any | None:
        """Append one record to its partition's open batch (opening one if none is). When that
        batch is full, the record opens the next one (a batch's first record always fits) and the
        full batch is returned for the caller to submit; else None."""
        if value is not None and len(value) > self._check_above:
            self._producer._serialize(key, value, headers)  # raises MessageSizeTooLargeError
        builder = self._open.get((topic, partition))
        if builder is None:
            builder = self._open[(topic, partition)] = self._producer.create_batch()
        if builder.append(timestamp=None, key=key, value=value, headers=headers) is not None:
            return None
        self._open[(topic, partition)] = fresh = self._producer.create_batch()
        fresh.append(timestamp=None, key=key, value=value, headers=headers)
        return builder

    async def _prepare(self, names: Iterable[str]) -> None:
        """Have every topic tracked and its partitions known before appending to it."""
        topics = list(dict.fromkeys(names))
        self._track(topics)
        for topic in topics:
            await self._learn(topic)

    async def _submit_open(self) -> list[asyncio.Future[Any]]:
        """Submit every batch still open."""
        open_batches, self._open = self._open, {}
        return [await self._producer.send_batch(builder, topic, partition=partition)
                for (topic, partition), builder in open_batches.items()]

    def _track(self, topics: list[str]) -> None:
        """Have the client's metadata name these topics, and every topic with a batch waiting.

        The tracked set only grows here: no topic written before can fall out of the metadata.
        """
        client = self._producer.client
        tracked = client._topics
        if all(topic in tracked for topic in topics):
            return
        waiting = {tp.topic for tp in self._producer._message_accumulator._batches}
        client.set_topics([*tracked, *waiting, *topics])

    async def _learn(self, topic: str) -> None:
        """The topic's partitions, sorted (as the partitioner sees them), once metadata has them."""
        if topic not in self._partitions:
            await self._producer.client._wait_on_metadata(topic)
            self._partitions[topic] = sorted(self._producer._metadata.partitions_for_topic(topic))

    def _partition(self, topic: str, key: bytes | None) -> int:
        if not self._default or key is None:
            return int(self._producer._partition(topic, None, key, None, key, None))
        partitions = self._partitions[topic]
        return partitions[key_hash(key) % len(partitions)]
