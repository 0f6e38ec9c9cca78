"""The sink's real-engine tests share these: incidents sent to the topic, a sink looping in a
thread, and a wait that reports how long it took."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

import pytest
from kafka import KafkaProducer

from deskwatch.connect import kafka_python_options
from deskwatch.schemas.incident import ChangeReason, Incident
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.consume import Sink
from deskwatch.topology import INCIDENTS

T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def incident(i: int) -> bytes:
    """Incident ``inc-<i:05d>`` as its topic carries it."""
    at = T0 + timedelta(seconds=i)
    return Incident(id=f"inc-{i:05d}", rule_id="rule-1", group_key=f"PC-{i:05d}", title="disk", hosts=[f"PC-{i:05d}"],
                    host_count=1, first_seen=at, last_seen=at, event_count=1, revision=1, opened_at=at,
                    reason=ChangeReason.OPENED).model_dump_json().encode()


def send_incidents(s: Settings, numbers: range) -> None:
    """Each numbered incident to the incidents topic, acknowledged."""
    producer = KafkaProducer(acks="all", linger_ms=5, **kafka_python_options(s.kafka))
    try:
        for i in numbers:
            producer.send(INCIDENTS.name(s.kafka), key=f"inc-{i:05d}".encode(), value=incident(i))
        producer.flush()
    finally:
        producer.close()


def until(check: Callable[[], bool], timeout: float) -> float:
    """Seconds until ``check()`` held; fails after ``timeout``."""
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if check():
            return time.monotonic() - start
        time.sleep(0.01)
    pytest.fail(f"not within {timeout} s")


@contextmanager
def running_sink(s: Settings) -> Iterator[Sink]:
    """A started sink looping in a thread; stopped and closed on exit."""
    stop = threading.Event()
    sink = Sink(s, stop)
    sink.start()
    worker = threading.Thread(target=sink.run, daemon=True)
    worker.start()
    try:
        yield sink
    finally:
        stop.set()
        worker.join(30)
        sink.close()
