"""Reading a topic back in tests: every record from the beginning, on the real broker."""

from __future__ import annotations

from typing import Any

from kafka import KafkaConsumer

from deskwatch.connect import kafka_python_options
from deskwatch.settings import Settings


def read_topic(settings: Settings, topic: str, timeout_s: float = 5.0) -> list[Any]:
    """Every record of ``topic`` from the beginning (stops after ``timeout_s`` without a new one)."""
    consumer = KafkaConsumer(topic, auto_offset_reset="earliest", enable_auto_commit=False,
                             consumer_timeout_ms=int(timeout_s * 1000), **kafka_python_options(settings.kafka))
    try:
        return list(consumer)
    finally:
        consumer.close()
