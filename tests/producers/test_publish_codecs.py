"""The producer's codecs: the options kafka-python gets, and zstd batches read back by both consumer clients.

The events topic is read by faust (aiokafka) and by kafka-python tools (``deskwatch dlq``, the
follower): a codec the producer may use must be readable by both, so each is checked on the real broker.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer
from aiokafka import codec as aiokafka_codec
from kafka import KafkaConsumer
from kafka import codec as kafka_codec
from kafka.admin import KafkaAdminClient

from deskwatch.connect import kafka_python_options, kafka_python_producer_options
from deskwatch.producers.envelope import WireBatch
from deskwatch.producers.publish import Publisher
from deskwatch.settings import KafkaSettings, ProducerSettings, Settings
from deskwatch.topics import ensure_topics
from deskwatch.topology import EVENTS

CODECS = ["gzip", "zstd", "none"]


@pytest.mark.parametrize(("compression", "compression_type"), [("gzip", "gzip"), ("zstd", "zstd"), ("none", None)],
                         ids=CODECS)
def test_the_setting_names_kafka_pythons_codec(compression: str, compression_type: str | None) -> None:
    opts = kafka_python_producer_options(KafkaSettings(), ProducerSettings(compression=compression))  # type: ignore[arg-type]
    assert (opts["compression_type"], opts["acks"], opts["enable_idempotence"]) == (compression_type, "all", True)


@pytest.mark.parametrize("has_codec", [kafka_codec.has_zstd, aiokafka_codec.has_zstd],
                         ids=["kafka-python", "aiokafka"])
def test_zstd_is_installed_for_every_client(has_codec: Any) -> None:
    assert has_codec(), "zstd batches would be unreadable: install the zstd extras of pyproject.toml"


@pytest.mark.integration
@pytest.mark.parametrize("compression", CODECS, ids=CODECS)
def test_envelopes_read_back_by_both_clients(settings: Settings, compression: str) -> None:
    kafka = settings.kafka.model_copy(update={"topic_prefix": f"codec-{uuid.uuid4().hex[:8]}.", "partitions": 1})
    ensure_topics(kafka, (EVENTS,))
    topic = EVENTS.name(kafka)
    values = [b'{"kind":"events","n":%d,"pad":"%s"}' % (i, b"x" * 2000) for i in range(50)]
    publisher = Publisher(kafka, ProducerSettings(compression=compression))  # type: ignore[arg-type]
    try:
        for value in values:
            publisher.send_batch(WireBatch("PC-1", "test", 1, value))
    finally:
        publisher.close()
    try:
        assert _read_kafka_python(kafka, topic) == values
        assert asyncio.run(_read_aiokafka(kafka, topic, len(values))) == values
    finally:
        admin = KafkaAdminClient(**kafka_python_options(kafka))
        admin.delete_topics([topic])
        admin.close()


def _read_kafka_python(kafka: Any, topic: str) -> list[bytes]:
    consumer = KafkaConsumer(topic, auto_offset_reset="earliest", enable_auto_commit=False,
                             consumer_timeout_ms=5000, **kafka_python_options(kafka))
    try:
        return [record.value for record in consumer]
    finally:
        consumer.close()


async def _read_aiokafka(kafka: Any, topic: str, count: int) -> list[bytes]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=kafka.bootstrap_servers, auto_offset_reset="earliest",
                                enable_auto_commit=False)
    await consumer.start()
    try:
        got: list[bytes] = []
        while len(got) < count:
            batch = await consumer.getmany(timeout_ms=5000)
            if not batch:
                break
            got += [record.value for records in batch.values() for record in records]
        return got
    finally:
        await consumer.stop()
