"""Bulk requests in flight while the next batch is polled: batches settle in the order they were
polled, and a commit never passes a batch not yet written.

A scripted consumer and a gated bulk stand in for the clients here, to hold one request while
another finishes (this is neither Kafka nor Elasticsearch: they check only the sink's ordering of
writes and commits; the real engines run the same loop in test_sink_batching.py, test_sink_refresh.py
and tests/integration/test_sink_*.py)."""

from __future__ import annotations

import threading
import time
from collections import deque
from typing import Any

import orjson
import pytest
import structlog
from elastic_transport import ConnectionError as TransportConnectionError
from kafka.consumer.fetcher import ConsumerRecord
from kafka.structs import OffsetAndMetadata, TopicPartition

from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch import write
from deskwatch.sinks.elasticsearch.consume import Sink, SinkStoppedError, next_offsets
from deskwatch.topology import INCIDENTS
from tests.sinks.elasticsearch.sink_feed import incident

WAIT_S = 10.0


def record(topic: str, partition: int, offset: int, value: bytes = b"", leader_epoch: int | None = 3) -> ConsumerRecord:
    return ConsumerRecord(topic, partition, leader_epoch, offset, 0, 0, None, value, [], None, 0, len(value), 0)


def test_next_offsets_are_one_past_each_partitions_last_record() -> None:
    records = [record("t", 0, 5), record("t", 1, 9, leader_epoch=None), record("t", 0, 7), record("t", 0, 6)]
    assert next_offsets(records) == {TopicPartition("t", 0): OffsetAndMetadata(8, "", 3),
                                     TopicPartition("t", 1): OffsetAndMetadata(10, "", -1)}


class ScriptedConsumer:
    """Hands out the scripted polls one per call, each followed by an empty one (the input drained:
    the batch is ready), then nothing; owns ``owned``; records commits."""

    def __init__(self, polls: list[list[ConsumerRecord]], owned: set[TopicPartition]) -> None:
        self.polls = deque(step for records in polls for step in (records, []))
        self.owned = owned
        self.commits: list[dict[TopicPartition, int]] = []

    def poll(self, timeout_ms: int = 0, max_records: int | None = None) -> dict[TopicPartition, list[ConsumerRecord]]:
        if not self.polls:
            return {}
        records = self.polls.popleft()
        return {TopicPartition(records[0].topic, records[0].partition): records} if records else {}

    def assignment(self) -> set[TopicPartition]:
        return set(self.owned)

    def commit(self, offsets: dict[TopicPartition, OffsetAndMetadata]) -> None:
        self.commits.append({tp: meta.offset for tp, meta in offsets.items()})

    def close(self) -> None:
        pass


class GatedBulk:
    """Each bulk request waits for its gate (in call order); a gate may carry an error to raise."""

    def __init__(self, gates: int) -> None:
        self.gates = [threading.Event() for _ in range(gates)]
        self.errors: dict[int, Exception] = {}
        self.calls = 0
        self._lock = threading.Lock()

    def bulk(self, operations: bytes, refresh: bool = False, filter_path: str | None = None) -> dict[str, Any]:
        with self._lock:
            n, self.calls = self.calls, self.calls + 1
        assert self.gates[n].wait(WAIT_S), f"bulk request {n} never released"
        if n in self.errors:
            raise self.errors[n]
        docs = operations.strip().split(b"\n")[::2]
        assert all(orjson.loads(action)["index"]["version_type"] == "external" for action in docs)
        return {"items": [{"index": {"status": 201}} for _ in docs]}

    def close(self) -> None:
        pass


def sink_over(settings: Settings, consumer: ScriptedConsumer, bulk: GatedBulk, in_flight: int) -> Sink:
    s = settings.model_copy(update={"sink": settings.sink.model_copy(update={"bulk_in_flight": in_flight})})
    sink = Sink(s, threading.Event())
    sink._consumer, sink._es = consumer, bulk  # noqa: SLF001 - the clients' stand-ins
    sink.keep_in_group = lambda: None  # type: ignore[method-assign]  # no group to keep
    return sink


@pytest.fixture
def settings() -> Settings:  # no engine: this file's clients are stand-ins
    return Settings()


def batches(s: Settings, sizes: list[int], partition: int = 0) -> list[list[ConsumerRecord]]:
    topic, offset, out = INCIDENTS.name(s.kafka), 0, []
    for size in sizes:
        out.append([record(topic, partition, offset + i, incident(offset + i)) for i in range(size)])
        offset += size
    return out


def test_a_later_batch_written_first_is_committed_only_after_the_earlier_one(settings: Settings) -> None:
    tp = TopicPartition(INCIDENTS.name(settings.kafka), 0)
    consumer, bulk = ScriptedConsumer(batches(settings, [3, 2]), {tp}), GatedBulk(2)
    sink = sink_over(settings, consumer, bulk, in_flight=2)
    try:
        assert sink.step() == 3 and sink.step() == 2  # both requests out, neither answered
        bulk.gates[1].set()  # the second answers first
        threading.Timer(0.2, bulk.gates[0].set).start()
        assert consumer.commits == []
        sink.step()  # an idle poll settles every batch, oldest first
        assert consumer.commits == [{tp: 3}, {tp: 5}]
        assert (sink.counts.consumed, sink.counts.indexed, sink.counts.batches) == (5, 5, 2)
    finally:
        sink.close()


def test_one_request_in_flight_settles_each_batch_before_the_next_is_sent(settings: Settings) -> None:
    tp = TopicPartition(INCIDENTS.name(settings.kafka), 0)
    consumer, bulk = ScriptedConsumer(batches(settings, [2, 2, 2]), {tp}), GatedBulk(3)
    for gate in bulk.gates:
        gate.set()
    sink = sink_over(settings, consumer, bulk, in_flight=1)
    try:
        sink.step()
        assert consumer.commits == []  # its request is out; it is settled by the next step
        sink.step()
        assert consumer.commits == [{tp: 2}]
        sink.step()
        sink.step()
        assert consumer.commits == [{tp: 2}, {tp: 4}, {tp: 6}]
    finally:
        sink.close()


def test_a_failed_write_leaves_it_and_every_later_batch_uncommitted(settings: Settings) -> None:
    tp = TopicPartition(INCIDENTS.name(settings.kafka), 0)
    consumer, bulk = ScriptedConsumer(batches(settings, [3, 2]), {tp}), GatedBulk(2)
    bulk.errors[0] = SinkStoppedError()  # as a stop during an outage's backoff raises it
    sink = sink_over(settings, consumer, bulk, in_flight=2)
    try:
        sink.step()
        sink.step()
        for gate in bulk.gates:
            gate.set()
        with pytest.raises(SinkStoppedError):
            sink.settle()
        sink.settle()  # the second batch, written, must not be committed past the first
        assert consumer.commits == [] and sink.counts.consumed == 0
    finally:
        sink.close()


def test_partitions_revoked_meanwhile_and_a_replaced_consumer_commit_nothing(settings: Settings) -> None:
    topic = INCIDENTS.name(settings.kafka)
    p0, p1 = TopicPartition(topic, 0), TopicPartition(topic, 1)
    polls = [*batches(settings, [2], partition=0), [record(topic, 1, i, incident(100 + i)) for i in range(2)],
             [record(topic, 1, i, incident(100 + i)) for i in range(2, 4)]]
    consumer, bulk = ScriptedConsumer(polls, {p0, p1}), GatedBulk(3)
    sink = sink_over(settings, consumer, bulk, in_flight=2)
    try:
        sink.step()
        sink.step()
        consumer.owned.discard(p0)  # revoked while its batch was written
        bulk.gates[0].set()
        bulk.gates[1].set()
        sink.settle()
        assert consumer.commits == [{p1: 2}]
        sink.step()  # polled by this consumer…
        replacement = ScriptedConsumer([], {p0, p1})
        sink._consumer = replacement  # noqa: SLF001 - …which is replaced (membership.py) while it is written
        bulk.gates[2].set()
        sink.settle()
        assert replacement.commits == [] and consumer.commits == [{p1: 2}]
        assert sink.counts.consumed == 6  # written, counted, left for the partitions' next owner to replay
    finally:
        sink.close()


class AbsentServer:
    """Every bulk call fails as an unreachable server does."""

    def __init__(self) -> None:
        self.calls = 0

    def bulk(self, operations: bytes, refresh: bool = False, filter_path: str | None = None) -> dict[str, Any]:
        self.calls += 1
        raise TransportConnectionError("connection refused")

    def close(self) -> None:
        pass


def test_close_during_an_outage_ends_the_writers_backoff_and_commits_nothing(
        settings: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    # The outage is logged from write.py's module logger, which structlog caches at its first use
    # (deskwatch/logs.py): a logger of this test's own keeps that first use for test_write.py.
    monkeypatch.setattr(write, "log", structlog.get_logger("test-outage"))
    tp = TopicPartition(INCIDENTS.name(settings.kafka), 0)
    consumer, server = ScriptedConsumer(batches(settings, [2]), {tp}), AbsentServer()
    sink = sink_over(settings, consumer, server, in_flight=2)  # type: ignore[arg-type]
    sink.step()
    deadline = time.monotonic() + WAIT_S
    while server.calls < 2 and time.monotonic() < deadline:  # backing off between its tries
        time.sleep(0.05)
    closing = threading.Thread(target=sink.close, daemon=True)
    closing.start()
    closing.join(5.0)
    stuck = closing.is_alive()
    sink._stop.set()  # noqa: SLF001 - lets a stuck close end after the verdict
    assert not stuck, "close waited for the outage to end"
    assert consumer.commits == [] and sink.counts.consumed == 0
