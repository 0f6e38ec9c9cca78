"""Reading a topic back in tests: every record from the beginning, on the real broker."""

from __future__ import annotations

import time
from typing import Any

from kafka import KafkaConsumer, TopicPartition

from deskwatch.connect import kafka_python_options
from deskwatch.settings import Settings

# How long reaching the end offsets of the call may take (a loaded machine, a slow first fetch)
# before the read fails loudly: a short read must never pass for "these are all the records".
REACH_END_S = 120.0


class ShortReadError(AssertionError):
    """The records present when the read began could not all be read back."""


def read_topic(settings: Settings, topic: str, timeout_s: float = 5.0) -> list[Any]:
    """Every record of ``topic`` from the beginning: at least all those written before the call
    (its end offsets then), and any arriving until ``timeout_s`` passes without a new one. A topic
    that does not exist within ``timeout_s`` has no records."""
    consumer = KafkaConsumer(enable_auto_commit=False, **kafka_python_options(settings.kafka))
    try:
        parts = _partitions(consumer, topic, timeout_s)
        if not parts:
            return []
        consumer.assign(parts)
        consumer.seek_to_beginning(*parts)
        ends = consumer.end_offsets(parts)
        return _read(consumer, parts, ends, timeout_s)
    finally:
        consumer.close()


def _partitions(consumer: KafkaConsumer, topic: str, timeout_s: float) -> list[TopicPartition]:
    deadline = time.monotonic() + timeout_s
    while True:
        found = consumer.partitions_for_topic(topic)
        if found or time.monotonic() > deadline:
            return [TopicPartition(topic, p) for p in sorted(found or ())]
        time.sleep(0.1)


def _read(consumer: KafkaConsumer, parts: list[TopicPartition], ends: dict[TopicPartition, int],
          timeout_s: float) -> list[Any]:
    records: list[Any] = []
    started = last_new = time.monotonic()
    while True:
        polled = consumer.poll(timeout_ms=100)
        now = time.monotonic()
        for batch in polled.values():
            records.extend(batch)
            last_new = now
        at_end = all(consumer.position(tp) >= end for tp, end in ends.items())
        if at_end and now - last_new >= timeout_s:
            return records
        if not at_end and now - started > REACH_END_S:
            raise ShortReadError(f"read {len(records)} records of {sum(ends.values())} in {REACH_END_S:.0f} s")
