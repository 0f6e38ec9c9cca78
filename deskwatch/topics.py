"""Create deskwatch's topics from the topology declaration (the broker never auto-creates them)."""

from __future__ import annotations

from dataclasses import dataclass

import structlog
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from deskwatch.connect import kafka_python_options
from deskwatch.settings import KafkaSettings
from deskwatch.topology import TOPICS, TopicSpec

log = structlog.get_logger(__name__)


@dataclass(frozen=True)
class TopicOutcome:
    name: str
    created: bool
    partitions: int


def ensure_topics(kafka: KafkaSettings, specs: tuple[TopicSpec, ...] = TOPICS) -> list[TopicOutcome]:
    """Create every declared topic that is missing; existing ones are left as they are."""
    admin = KafkaAdminClient(client_id="deskwatch-admin", **kafka_python_options(kafka))
    try:
        existing = set(admin.list_topics())
        outcomes = []
        for spec in specs:
            name = spec.name(kafka)
            if name in existing:
                outcomes.append(TopicOutcome(name, False, kafka.partitions))
                continue
            topic = NewTopic(name, kafka.partitions, kafka.replication_factor, topic_configs=spec.config())
            try:
                admin.create_topics([topic])
                outcomes.append(TopicOutcome(name, True, kafka.partitions))
            except TopicAlreadyExistsError:  # another process won the race
                outcomes.append(TopicOutcome(name, False, kafka.partitions))
        log.info("topics ensured", created=[o.name for o in outcomes if o.created])
        return outcomes
    finally:
        admin.close()


def end_offsets(kafka: KafkaSettings, topic: str) -> dict[TopicPartition, int]:
    """Each partition's end offset: the offset its next record gets (their sum: records written)."""
    consumer = KafkaConsumer(enable_auto_commit=False, **kafka_python_options(kafka))
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        return dict(consumer.end_offsets(parts))
    finally:
        consumer.close()


def consumer_lag(kafka: KafkaSettings, group: str, topic: str) -> int:
    """Records of ``topic`` that consumer group ``group`` has not committed yet."""
    ends = end_offsets(kafka, topic)
    admin = KafkaAdminClient(**kafka_python_options(kafka))
    try:
        try:
            committed = admin.list_group_offsets(group).get(group, {})
        except KafkaError as exc:
            if not exc.retriable:
                raise
            committed = {}  # a new broker has no coordinator yet: nothing committed so far
        return sum(end - (committed[tp].offset if tp in committed else 0) for tp, end in ends.items())
    finally:
        admin.close()
