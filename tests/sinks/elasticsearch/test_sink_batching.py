"""The sink's loop on the real engines: a lone record is written as soon as the input is drained (not
after the flush interval), a backlog still goes out in large bulk requests, and a consumer that
never joins its group is replaced."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest
from kafka.future import Future

from deskwatch.connect import elasticsearch_client
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.consume import Sink
from deskwatch.sinks.elasticsearch.templates import incidents_alias
from deskwatch.topics import ensure_topics
from tests.prefixed import prefixed
from tests.sinks.elasticsearch.sink_feed import running_sink, send_incidents, until

pytestmark = pytest.mark.integration

CEILING_S = 30.0  # the flush interval: a fixed-interval sink would hold a lone record this long


@pytest.fixture
def sink_settings(settings: Settings) -> Settings:
    """The session's settings with this test's own topics, indices and group, and a long ceiling."""
    s = prefixed(settings, 2, sink={"group_id": lambda tag: f"test-sink-{tag}", "flush_interval_s": CEILING_S,
                                    "bulk_max_docs": 1000})
    ensure_topics(s.kafka)
    return s


@pytest.fixture
def sink(sink_settings: Settings) -> Iterator[Sink]:
    """A started sink looping in a thread; stopped and closed at the end."""
    with running_sink(sink_settings) as running:
        yield running


def test_lone_record_is_written_without_waiting_for_the_interval(sink_settings: Settings,
                                                                  sink: Sink) -> None:
    es = elasticsearch_client(sink_settings.elasticsearch)
    alias = incidents_alias(sink_settings.elasticsearch)
    send_incidents(sink_settings, range(1))  # the first also waits for the group to assign the partitions
    until(lambda: es.exists(index=alias, id="inc-00000", realtime=True).body, CEILING_S)
    send_incidents(sink_settings, range(1, 2))
    waited = until(lambda: es.exists(index=alias, id="inc-00001", realtime=True).body, CEILING_S)
    assert waited < 2.0, f"a lone record waited {waited:.2f} s for its bulk request"
    until(lambda: sink.counts.batches == 2, 5)  # counted once committed, after the write


def test_backlog_goes_out_in_large_batches(sink_settings: Settings) -> None:
    send_incidents(sink_settings, range(3000))
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
    send_incidents(s, range(5))
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
        until(lambda: sink.counts.indexed == 5, 60)
        assert sink.keeper.watch.rebuilds == 1 and sink._consumer is not stuck  # noqa: SLF001
    finally:
        stop.set()
        worker.join(30)
        sink.close()
