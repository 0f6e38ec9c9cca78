"""The sink's loop on the real engines: a lone record is written as soon as the input is drained (not
after the flush interval), a backlog still goes out in large bulk requests, and a consumer that
never joins its group is replaced."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaProducer
from kafka.future import Future

from deskwatch.connect import elasticsearch_client, kafka_python_options
from deskwatch.schemas.incident import ChangeReason, Incident
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.consume import Sink
from deskwatch.sinks.elasticsearch.templates import incidents_alias
from deskwatch.topics import ensure_topics
from deskwatch.topology import INCIDENTS
from tests.prefixed import prefixed

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)
CEILING_S = 30.0  # the flush interval: a fixed-interval sink would hold a lone record this long


@pytest.fixture
def sink_settings(settings: Settings) -> Settings:
    """The session's settings with this test's own topics, indices and group, and a long ceiling."""
    s = prefixed(settings, 2, sink={"group_id": lambda tag: f"test-sink-{tag}", "flush_interval_s": CEILING_S,
                                    "bulk_max_docs": 1000})
    ensure_topics(s.kafka)
    return s


@pytest.fixture
def running_sink(sink_settings: Settings) -> Iterator[Sink]:
    """A started sink looping in a thread; stopped and closed at the end."""
    stop = threading.Event()
    sink = Sink(sink_settings, stop)
    sink.start()
    worker = threading.Thread(target=sink.run, daemon=True)
    worker.start()
    yield sink
    stop.set()
    worker.join(30)
    sink.close()


def _incident(i: int) -> bytes:
    at = T0 + timedelta(seconds=i)
    return Incident(id=f"inc-{i:05d}", rule_id="rule-1", group_key=f"PC-{i:05d}", title="disk", hosts=[f"PC-{i:05d}"],
                    host_count=1, first_seen=at, last_seen=at, event_count=1, revision=1, opened_at=at,
                    reason=ChangeReason.OPENED).model_dump_json().encode()


def _send(s: Settings, numbers: range) -> None:
    producer = KafkaProducer(acks="all", linger_ms=5, **kafka_python_options(s.kafka))
    try:
        for i in numbers:
            producer.send(INCIDENTS.name(s.kafka), key=f"inc-{i:05d}".encode(), value=_incident(i))
        producer.flush()
    finally:
        producer.close()


def _until(check: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``check()`` held; fails after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.01)
    pytest.fail(f"not within {timeout} s")


def test_lone_record_is_written_without_waiting_for_the_interval(sink_settings: Settings,
                                                                  running_sink: Sink) -> None:
    es = elasticsearch_client(sink_settings.elasticsearch)
    alias = incidents_alias(sink_settings.elasticsearch)
    _send(sink_settings, range(1))  # the first also waits for the group to assign the partitions
    _until(lambda: es.exists(index=alias, id="inc-00000", realtime=True).body, CEILING_S)
    _send(sink_settings, range(1, 2))
    waited = _until(lambda: es.exists(index=alias, id="inc-00001", realtime=True).body, CEILING_S)
    assert waited < 2.0, f"a lone record waited {waited:.2f} s for its bulk request"
    _until(lambda: running_sink.counts.batches == 2, 5)  # counted once committed, after the write


def test_backlog_goes_out_in_large_batches(sink_settings: Settings) -> None:
    _send(sink_settings, range(3000))
    sink = Sink(sink_settings, threading.Event())
    sink.start()
    deadline = time.monotonic() + 60
    try:
        while sink.counts.consumed < 3000 and time.monotonic() < deadline:
            sink.step()
    finally:
        sink.close()
    assert (sink.counts.consumed, sink.counts.indexed) == (3000, 3000)
    assert sink.counts.batches <= 6, f"3000 records in {sink.counts.batches} bulk requests (at most 1000 each)"


def test_consumer_that_never_finds_its_coordinator_is_replaced(sink_settings: Settings) -> None:
    """The stall a fault-campaign run showed (a restarted sink polling for minutes, never in its group),
    injected: the first consumer's coordinator lookup never completes."""
    s = sink_settings.model_copy(update={"sink": sink_settings.sink.model_copy(
        update={"rejoin_after_s": 4.0, "heartbeat_interval_s": 1.0})})
    _send(s, range(5))
    stop = threading.Event()
    sink = Sink(s, stop)
    sink.start()
    stuck = sink._consumer  # noqa: SLF001 - the fault is injected into this very consumer
    stuck._coordinator.lookup_coordinator = Future  # noqa: SLF001 - a lookup that never answers
    worker = threading.Thread(target=sink.run, daemon=True)
    worker.start()
    try:
        time.sleep(3.0)
        assert (sink.counts.consumed, sink.keeper.watch.rebuilds) == (0, 0), "the injected stall did not hold"
        _until(lambda: sink.counts.indexed == 5, 60)
        assert sink.keeper.watch.rebuilds == 1 and sink._consumer is not stuck  # noqa: SLF001
    finally:
        stop.set()
        worker.join(30)
        sink.close()
