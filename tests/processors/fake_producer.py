"""A stand-in for aiokafka's producer: real record batches, metadata and submission in memory."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

from aiokafka import AIOKafkaProducer
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder
from aiokafka.record.default_records import DefaultRecordBatch

Sent = tuple[str, int, list[tuple[bytes | None, bytes, list[tuple[str, bytes]]]]]


class _Metadata:
    def __init__(self, partitions: dict[str, int]) -> None:
        self.partitions = partitions

    def partitions_for_topic(self, topic: str) -> set[int]:
        return set(range(self.partitions[topic]))

    def available_partitions_for_topic(self, topic: str) -> set[int]:
        return self.partitions_for_topic(topic)


class _Client:
    def __init__(self) -> None:
        self.metadata_waits: list[str] = []
        self._topics: set[str] = set()

    def set_topics(self, topics: list[str]) -> None:
        self._topics = set(topics)

    async def _wait_on_metadata(self, topic: str) -> None:
        self.metadata_waits.append(topic)


class FakeAIOKafkaProducer:
    """``create_batch`` gives aiokafka's own BatchBuilder (``batch_size`` small enough to fill);
    ``send_batch`` decodes the built batch into ``sent``; ``_partition`` is aiokafka's logic."""

    def __init__(self, partitions: dict[str, int], batch_size: int = 16384, partitioner: Any = None,
                 max_request_size: int = 1_048_576) -> None:
        self._metadata = _Metadata(partitions)
        self._partitioner = partitioner or DefaultPartitioner()
        self._key_serializer = self._value_serializer = None
        self.client = _Client()
        self._message_accumulator = SimpleNamespace(_batches={}, _batch_size=batch_size)
        self.batch_size = batch_size
        self.sent: list[Sent] = []
        self._max_request_size = max_request_size
        self.refuse: BaseException | None = None  # every batch fails with it, when set
        self.hold = False  # when set, batches stay undelivered (in ``pending``) until resolved
        self.pending: list[asyncio.Future[None]] = []
        self.ends: dict[tuple[str, int], int] = {}  # each partition's next offset

    def create_batch(self) -> BatchBuilder:
        return BatchBuilder(self.batch_size, 0)  # 0: no compression

    async def send_batch(self, batch: BatchBuilder, topic: str, *, partition: int) -> asyncio.Future[Any]:
        """The batch's delivery future: done at once with its metadata (its first record's offset;
        failed with ``refuse`` when it is set), or pending when ``hold`` is set."""
        records = [(r.key, r.value, list(r.headers)) for r in DefaultRecordBatch(bytes(batch._build()))]
        self.sent.append((topic, partition, records))
        delivered: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self.hold:
            self.pending.append(delivered)
        elif self.refuse is not None:
            delivered.set_exception(self.refuse)
        else:
            base = self.ends.get((topic, partition), 0)
            self.ends[(topic, partition)] = base + len(records)
            delivered.set_result(SimpleNamespace(topic=topic, partition=partition, offset=base))
        return delivered

    def _serialize(self, key: bytes | None, value: bytes, headers: list[tuple[str, bytes]]) -> tuple[Any, Any]:
        """aiokafka's own check (this method is AIOKafkaProducer's, on this object)."""
        return AIOKafkaProducer._serialize(self, key, value, headers)  # type: ignore[no-any-return]  # aiokafka is untyped

    def _partition(self, topic: str, partition: int | None, key: Any, value: Any, key_bytes: bytes | None,
                   value_bytes: bytes | None) -> int:
        everything = list(self._metadata.partitions_for_topic(topic))
        return int(self._partitioner(key_bytes, everything, everything))


class FakeFaustProducer:
    """faust's Producer as the outbox uses it: the aiokafka producer behind it."""

    def __init__(self, producer: FakeAIOKafkaProducer, app: Any = None) -> None:
        self.producer = producer
        self.app = app if app is not None else FakeApp()

    def _ensure_producer(self) -> FakeAIOKafkaProducer:
        return self.producer


class FakeApp:
    """An app without the processor's consumer: a lost output batch crashes it."""

    consumer = None

    def __init__(self) -> None:
        self.crashed: list[BaseException] = []

    async def crash(self, reason: BaseException) -> None:
        self.crashed.append(reason)
