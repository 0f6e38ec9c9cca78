"""kafka-python 3.0.12's orphaned join on the real broker, and the sink's watch mending it.

The sequence a sink met when its topics were created a moment before it started, made
deterministic: the group's leader assigns while its topic is not in the metadata (nothing to
assign), the topic then appears, and the metadata-triggered rejoin is started by a poll that
returns before the JoinGroup/SyncGroup round trip ends. No later poll finishes that join.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaConsumer
from kafka.admin import KafkaAdminClient, NewTopic

from deskwatch.connect import kafka_python_consumer_options, kafka_python_options
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.consume import SOURCES, Sink
from deskwatch.sinks.membership import GroupKeeper, coordinator_state, look_at
from deskwatch.topics import ensure_topics
from tests.prefixed import prefixed

pytestmark = pytest.mark.integration
PARTITIONS = 2


def _poll_until(consumer: Any, check: Any, timeout_s: float) -> bool:
    """Poll as the sink does (200 ms) until ``check()`` holds; False after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if check():
            return True
        consumer.poll(timeout_ms=200)
    return bool(check())


@pytest.fixture
def topic_settings(settings: Settings) -> Settings:
    return prefixed(settings, PARTITIONS)


@pytest.fixture
def late_topic_consumer(topic_settings: Settings) -> Iterator[tuple[KafkaConsumer, str]]:
    """A group consumer, stable with no partitions, subscribed to a topic that does not exist yet."""
    topic = f"{topic_settings.kafka.topic_prefix}late"
    consumer = KafkaConsumer(topic, group_id=f"{topic_settings.kafka.topic_prefix}group", enable_auto_commit=False,
                             client_id="deskwatch-test-orphan",
                             **kafka_python_consumer_options(topic_settings.kafka, 100))
    keeper = GroupKeeper("setup", lambda: pytest.fail("no rebuild expected"), 60.0, 60.0)

    def joined() -> bool:  # the keeper mends a join the library orphans this early too (slow broker)
        keeper.check(consumer, 0)
        state: str = coordinator_state(consumer)["state"]  # kafka-python's, untyped
        return state == "STABLE"

    try:
        assert _poll_until(consumer, joined, 30), f"never joined: {coordinator_state(consumer)}"
        assert not consumer.assignment()
        yield consumer, topic
    finally:
        consumer.close(autocommit=False)


def _create_and_orphan(settings: Settings, consumer: Any, topic: str | None) -> None:
    """Create the topic (all declared ones when None), let the consumer see it, start the rejoin with
    a poll that gives up at once, and let the round trip finish while nobody polls (until the join is
    orphaned, at most 15 s)."""
    if topic is None:
        ensure_topics(settings.kafka)
    else:
        admin = KafkaAdminClient(**kafka_python_options(settings.kafka))
        try:
            admin.create_topics([NewTopic(topic, PARTITIONS, 1)])
            admin.wait_for_topics([topic])
        finally:
            admin.close()
    coordinator = consumer._coordinator  # noqa: SLF001 - the stall lives in the library's coordinator

    def sees_all() -> bool:  # every subscribed topic in its metadata: no later update re-triggers a join
        return coordinator.need_rejoin() and all(consumer._cluster.partitions_for_topic(t)  # noqa: SLF001
                                                 for t in consumer.subscription())

    deadline = time.monotonic() + 15
    while not sees_all() and time.monotonic() < deadline:
        time.sleep(0.05)  # the library refreshes its metadata by itself while a topic is unknown
    assert sees_all(), "the consumer never saw the new topics"
    consumer.poll(timeout_ms=0)
    deadline = time.monotonic() + 15
    while not look_at(consumer, 0).orphaned_join and time.monotonic() < deadline:
        time.sleep(0.1)  # nobody polls: the round trip ends on the library's IO thread


def test_library_leaves_the_rejoin_unfinished(topic_settings: Settings,
                                             late_topic_consumer: tuple[KafkaConsumer, str]) -> None:
    """The library's behaviour this module mends: if a release fixes it, this fails and says so."""
    consumer, topic = late_topic_consumer
    _create_and_orphan(topic_settings, consumer, topic)
    assert look_at(consumer, 0).orphaned_join, coordinator_state(consumer)
    assigned = _poll_until(consumer, lambda: len(consumer.assignment()) == PARTITIONS, 5)
    assert not assigned, "kafka-python finished the orphaned join by itself: the mending may be obsolete"
    assert coordinator_state(consumer)["state"] == "REBALANCING"


def test_keeper_mends_the_orphaned_join_in_place(topic_settings: Settings,
                                                 late_topic_consumer: tuple[KafkaConsumer, str]) -> None:
    consumer, topic = late_topic_consumer
    _create_and_orphan(topic_settings, consumer, topic)
    keeper = GroupKeeper("test", lambda: pytest.fail("no rebuild expected"), heartbeat_interval_s=60,
                         rejoin_after_s=60)
    assert keeper.check(consumer, 0) is consumer
    assert keeper.watch.rejoins == 1
    assert _poll_until(consumer, lambda: len(consumer.assignment()) == PARTITIONS, 15), coordinator_state(consumer)
    assert coordinator_state(consumer)["state"] == "STABLE" and not look_at(consumer, 0).orphaned_join


def test_sink_step_mends_its_orphaned_join(topic_settings: Settings) -> None:
    """The product path: a sink started before its topics exist, looping on ``step`` alone."""
    s = topic_settings.model_copy(update={"sink": topic_settings.sink.model_copy(
        update={"group_id": f"{topic_settings.kafka.topic_prefix}sink"})})
    sink = Sink(s)
    sink.start()
    try:
        assert _poll_until(sink._consumer, lambda: coordinator_state(sink._consumer)["state"] == "STABLE", 30)  # noqa: SLF001
        _create_and_orphan(s, sink._consumer, None)  # noqa: SLF001
        assert look_at(sink._consumer, 0).orphaned_join, coordinator_state(sink._consumer)  # noqa: SLF001
        deadline = time.monotonic() + 15
        while len(sink._consumer.assignment()) < len(SOURCES) * PARTITIONS and time.monotonic() < deadline:  # noqa: SLF001
            sink.step()
        assert len(sink._consumer.assignment()) == len(SOURCES) * PARTITIONS  # noqa: SLF001
        assert (sink.keeper.watch.rejoins, sink.keeper.watch.rebuilds) == (1, 0)
    finally:
        sink.close()
