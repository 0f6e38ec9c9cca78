"""Record batches per topic partition: the partition Kafka's default partitioner picks, order kept."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable, Sequence

import pytest
import structlog
from aiokafka import AIOKafkaProducer
from aiokafka.errors import MessageSizeTooLargeError
from aiokafka.partitioner import DefaultPartitioner
from hypothesis import given
from hypothesis import strategies as st

from kafka.admin import KafkaAdminClient, NewTopic

from deskwatch.connect import kafka_python_options
from deskwatch.processors.produce import PartitionedBatches, Record, Unit, key_hash
from deskwatch.settings import Settings
from tests.processors.fake_producer import FakeAIOKafkaProducer
from tests.records import read_topic


@given(key=st.binary(min_size=0, max_size=64), partitions=st.integers(min_value=1, max_value=64))
def test_key_hash_picks_the_default_partitioners_partition(key: bytes, partitions: int) -> None:
    everything = list(range(partitions))
    assert key_hash(key) % partitions == DefaultPartitioner()(key, everything, everything)


class FirstPartition:
    """A partitioner that is not the default one: its choice must be asked for every record."""

    def __call__(self, key: bytes | None, everything: list[int], available: list[int]) -> int:
        return everything[0]


def _send(records: Sequence[Record], producer: FakeAIOKafkaProducer) -> FakeAIOKafkaProducer:
    asyncio.run(PartitionedBatches(producer).send(records))
    return producer


Partitioner = Callable[[bytes | None, list[int], list[int]], int]
BatchRecord = tuple[bytes | None, bytes | None, list[tuple[str, bytes]]]  # key, value, headers


def _expected(records: Sequence[Record], partitioner: Partitioner, partitions: dict[str, int]
              ) -> dict[tuple[str, int], list[BatchRecord]]:
    """Per (topic, partition), the records in the order they were given."""
    out: dict[tuple[str, int], list[BatchRecord]] = {}
    for topic, key, value, headers, route in records:
        everything = list(range(partitions[topic]))
        partition = partitioner(key if route is None else route, everything, everything)
        out.setdefault((topic, partition), []).append((key, value, headers or []))
    return out


RECORDS = [("p.digests", f"PC-{i % 7}".encode(), f"d{i}".encode(), None, None) for i in range(40)] + [
    ("p.signals", b"r1|site=A", b"s1", None, None),
    ("p.changes", b"inc-1", b"c1", [("ce_type", b"deskwatch.incident.opened")], None),
    ("p.digests", b"PC-3", b"last", None, None),
    # Routed by another key (a host's id bucket goes to its host's partition), and a tombstone.
    *[("p.host-ids", f"{n}@PC-{n % 5}".encode(), b"ids", None, f"PC-{n % 5}".encode()) for n in range(20)],
    ("p.host-ids", b"7@PC-2", None, None, b"PC-2"),
]
PARTITIONS = {"p.digests": 8, "p.signals": 3, "p.changes": 1, "p.host-ids": 8}


@pytest.mark.parametrize(
    ("batch_size", "partitioner", "min_batches"),
    [
        pytest.param(16384, None, 3, id="one-batch-per-partition"),
        pytest.param(120, None, 9, id="full-batches-submitted-and-reopened"),
        pytest.param(16384, FirstPartition(), 3, id="custom-partitioner-asked"),
    ],
)
def test_every_record_reaches_its_partition_in_order(batch_size: int, partitioner: Partitioner | None,
                                                     min_batches: int) -> None:
    producer = _send(RECORDS, FakeAIOKafkaProducer(PARTITIONS, batch_size, partitioner))
    got: dict[tuple[str, int], list[BatchRecord]] = {}
    for topic, partition, records in producer.sent:
        got.setdefault((topic, partition), []).extend(records)
    assert got == _expected(RECORDS, partitioner or DefaultPartitioner(), PARTITIONS)
    assert len(producer.sent) >= min_batches
    if batch_size < 1000:
        assert len(producer.sent) > len(got), "a full batch was submitted and the next one opened"
    assert sorted(producer.client.metadata_waits) == sorted(PARTITIONS), "metadata asked once per topic"


def test_a_record_larger_than_a_batch_travels_alone() -> None:
    big = ("p.signals", b"k", b"x" * 500, None, None)
    producer = _send([("p.signals", b"k", b"a", None, None), big, ("p.signals", b"k", b"b", None, None)],
                     FakeAIOKafkaProducer({"p.signals": 1}, batch_size=100))
    assert [[v for _, v, _ in records] for _, _, records in producer.sent] == [[b"a"], [b"x" * 500], [b"b"]]


def test_a_keyless_record_gets_a_partition_from_the_producer() -> None:
    producer = _send([("p.signals", None, b"v", None, None)], FakeAIOKafkaProducer({"p.signals": 4}))
    [(topic, partition, [(key, value, _)])] = producer.sent
    assert (topic, key, value) == ("p.signals", None, b"v") and 0 <= partition < 4


@pytest.mark.parametrize(
    ("size", "refused"),
    [
        pytest.param(900, False, id="under-max-request-size"),
        pytest.param(1100, True, id="over-max-request-size"),
    ],
)
def test_a_record_over_the_max_request_size_is_refused_as_send_refuses_it(size: int, refused: bool) -> None:
    producer = FakeAIOKafkaProducer({"p.signals": 1}, batch_size=100, max_request_size=1000)
    records = [("p.signals", b"k", b"x" * size, None, None)]
    if refused:
        with pytest.raises(MessageSizeTooLargeError):
            _send(records, producer)
        assert producer.sent == []
    else:
        assert _send(records, producer).sent == [("p.signals", 0, [(b"k", b"x" * size, [])])]


def test_a_routed_record_shares_its_route_keys_partition() -> None:
    """A host's id bucket lands on the partition of the host's own records (faust recovers a
    changelog partition for the input partition of the same number)."""
    records = [("p.host-ids", b"PC-9", b"header", None, None),
               ("p.host-ids", b"1795@PC-9", b"bucket", None, b"PC-9"),
               ("p.host-ids", b"1796@PC-9", None, None, b"PC-9")]
    producer = _send(records, FakeAIOKafkaProducer({"p.host-ids": 16}))
    [(_, partition, got)] = producer.sent
    assert partition == key_hash(b"PC-9") % 16
    assert [(k, v) for k, v, _ in got] == [(b"PC-9", b"header"), (b"1795@PC-9", b"bucket"), (b"1796@PC-9", None)]
    assert key_hash(b"1795@PC-9") % 16 != partition or key_hash(b"1796@PC-9") % 16 != partition, \
        "the bucket keys' own partitions differ from the host's, so the route is what placed them"


def _create_topic(settings: Settings, name: str) -> None:
    admin = KafkaAdminClient(**kafka_python_options(settings.kafka))
    try:
        admin.create_topics([NewTopic(name, 2, 1)])
        admin.wait_for_topics([name], timeout_ms=30_000)
    finally:
        admin.close()


@pytest.mark.integration
def test_a_topic_created_after_start_does_not_strand_batches_waiting_for_known_topics(settings: Settings) -> None:
    """On the real broker: the producer learned every topic at start (its client tracked none by
    name); a batch of a known topic waits in its linger; then the first write to a topic created
    since. aiokafka narrows its metadata to the topics tracked by name: without ``_track`` the
    waiting batch lost its leader and ``flush`` never returned (the processor bench's 30-minute hang)."""
    known, new = (f"{settings.kafka.topic_prefix}strand-{uuid.uuid4().hex[:6]}-{n}" for n in ("known", "new"))
    _create_topic(settings, known)

    async def scenario() -> None:
        # The linger outlasts creating the new topic: the known batch is still waiting when the
        # metadata narrows (a batch without a leader fails only after request_timeout_ms).
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka.bootstrap_servers, linger_ms=6000,
                                    request_timeout_ms=40_000)
        await producer.start()
        try:
            await producer.client.force_metadata_update()  # as the worker's did: every topic known
            assert not producer.client._topics, "aiokafka starts tracking no topic by name (all of them)"
            assert known in producer.client.cluster.topics()
            await PartitionedBatches(producer).send([(known, b"k", b"waiting", None, None)])
            _create_topic(settings, new)
            await PartitionedBatches(producer).send([(new, b"k", b"first", None, None)])
            await asyncio.wait_for(producer.flush(), timeout=25)
        finally:
            await producer.stop()

    asyncio.run(scenario())
    for topic, value in ((known, b"waiting"), (new, b"first")):
        assert [r.value for r in read_topic(settings, topic)] == [value]


unit_records = st.lists(st.tuples(st.binary(min_size=1, max_size=12), st.one_of(st.none(), st.binary(max_size=60))),
                        min_size=1, max_size=5)


@given(units=st.lists(st.tuples(st.sampled_from([b"PC-1", b"PC-2", b"PC-3", b"PC-4"]), unit_records), max_size=30),
       batch_size=st.integers(min_value=400, max_value=2000))
def test_a_units_records_land_together_in_one_batch_in_order(
    units: list[tuple[bytes, list[tuple[bytes, bytes | None]]]], batch_size: int
) -> None:
    """Every unit fits a batch here (at most 5 x (12 + 60 + overhead) bytes): none is ever split.
    Each batch's records are told with its delivery, as submitted (what a disk store writes)."""
    producer = FakeAIOKafkaProducer({"p.state": 4}, batch_size)
    told: list[tuple[str, int, list[tuple[bytes, bytes | None]]]] = []
    asyncio.run(PartitionedBatches(producer).send_units([("p.state", route, records) for route, records in units],
                                                        lambda t, p, records, _delivery: told.append((t, p, records))))
    assert told == [(t, p, [(k, v) for k, v, _ in sent]) for t, p, sent in producer.sent]
    where: dict[int, list[tuple[bytes | None, bytes]]] = {}  # (route, the unit's records) -> the batch index they were found in
    got: dict[int, list[tuple[bytes | None, bytes]]] = {}
    for index, (_, partition, sent) in enumerate(producer.sent):
        got.setdefault(partition, []).extend((k, v) for k, v, _ in sent)
        where[index] = [(k, v) for k, v, _ in sent]
    expected: dict[int, list[tuple[bytes, bytes | None]]] = {}
    for route, records in units:
        expected.setdefault(key_hash(route) % 4, []).extend(records)
    assert got == expected, "every record on its route's partition, in order"
    for route, records in units:
        partition = key_hash(route) % 4
        assert any(_contains(batch, records) for index, batch in where.items()
                   if producer.sent[index][1] == partition), "a unit's records are in one batch, together"


def _contains(batch: Sequence[tuple[bytes | None, bytes | None]], records: Sequence[tuple[bytes, bytes | None]]) -> bool:
    n = len(records)
    return any(batch[i:i + n] == records for i in range(len(batch) - n + 1))


def test_a_unit_that_would_overflow_the_open_batch_starts_the_next() -> None:
    producer = FakeAIOKafkaProducer({"p.state": 1}, batch_size=300)
    units: list[Unit] = [("p.state", b"PC-1", [(b"a", b"x" * 100)]), ("p.state", b"PC-2", [(b"b", b"y" * 80), (b"c", b"z" * 80)])]
    asyncio.run(PartitionedBatches(producer).send_units(units))
    assert [[k for k, _, _ in records] for _, _, records in producer.sent] == [[b"a"], [b"b", b"c"]]


def test_a_unit_larger_than_a_batch_is_split_and_said_so() -> None:
    producer = FakeAIOKafkaProducer({"p.state": 1}, batch_size=200)
    unit: list[tuple[bytes, bytes | None]] = [(f"k{n}".encode(), b"v" * 90) for n in range(4)]
    told: list[list[tuple[bytes, bytes | None]]] = []
    with structlog.testing.capture_logs() as logs:
        asyncio.run(PartitionedBatches(producer).send_units([("p.state", b"PC-1", unit)],
                                                            lambda _t, _p, records, _d: told.append(records)))
    assert [(k, v) for _, _, records in producer.sent for k, v, _ in records] == unit
    assert told == [[(k, v) for k, v, _ in records] for _, _, records in producer.sent]
    assert len(producer.sent) > 1
    assert [entry["event"] for entry in logs] == ["a state write larger than a record batch was split: not atomic"]
