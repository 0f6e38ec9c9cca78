"""deskwatch's topics: create them from the topology declaration (the broker never auto-creates
them), and read one from its start to its end."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import structlog
from kafka import KafkaConsumer, TopicPartition
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import KafkaError, KafkaTimeoutError, TopicAlreadyExistsError

from deskwatch.connect import kafka_python_options
from deskwatch.settings import KafkaSettings, Settings
from deskwatch.topology import PROCESSOR_INPUTS, SINK_INPUTS, TOPICS, TopicSpec

log = structlog.get_logger(__name__)

# How long ensure_topics waits for its topics to show up in the broker's metadata. CreateTopics
# returns before the broker serves the new topic: on this project's KRaft test broker, on a loaded
# machine, a topic was missing from Metadata responses 0.1-3.2 s after its CreateTopics returned.
READY_TIMEOUT_S = 30.0


class TopicsNotReadyError(KafkaError):  # type: ignore[misc]  # kafka-python is untyped: KafkaError is Any
    """Topics exist (or were just created) but the broker does not serve them with a leader per partition."""


class TopicsNotGoneError(KafkaError):  # type: ignore[misc]  # as above
    """Topics were deleted but the broker still lists them after the timeout."""


class CommitsUnknownError(KafkaError):  # type: ignore[misc]  # as above
    """The broker could not tell a group's committed offsets within the timeout."""


# How long committed_offsets asks again while the group's coordinator cannot answer. A broker
# restarted after a SIGKILL answered COORDINATOR_LOAD_IN_PROGRESS while it read __consumer_offsets
# back; a new broker answers COORDINATOR_NOT_AVAILABLE until it has created that topic.
COMMITS_TIMEOUT_S = 10.0


@dataclass(frozen=True)
class TopicOutcome:
    name: str
    created: bool
    partitions: int


def ensure_topics(kafka: KafkaSettings, specs: tuple[TopicSpec, ...] = TOPICS,
                  ready_timeout_s: float = READY_TIMEOUT_S) -> list[TopicOutcome]:
    """Create every declared topic that is missing (existing ones are left as they are), then wait
    until the broker serves each with a leader for every partition; ``TopicsNotReadyError`` if not."""
    return ensure_named_topics(kafka, declared_topics(kafka, specs), ready_timeout_s)


def declared_topics(kafka: KafkaSettings, specs: tuple[TopicSpec, ...] = TOPICS) -> dict[str, dict[str, str]]:
    """Each declared topic's name and config, as ``ensure_named_topics`` takes them."""
    return {spec.name(kafka): spec.config() for spec in specs}


def ensure_named_topics(kafka: KafkaSettings, topics: dict[str, dict[str, str]],
                        ready_timeout_s: float = READY_TIMEOUT_S) -> list[TopicOutcome]:
    """``ensure_topics`` for topics named outside the topology (name -> config), such as the
    processor's table changelogs (processors/changelogs.py)."""
    admin = KafkaAdminClient(client_id="deskwatch-admin", **kafka_python_options(kafka))
    try:
        existing = set(admin.list_topics())
        outcomes = [_ensure_one(admin, kafka, name, config, existing) for name, config in topics.items()]
        _wait_until_served(admin, [o.name for o in outcomes], ready_timeout_s)
        log.info("topics ensured", created=[o.name for o in outcomes if o.created])
        return outcomes
    finally:
        admin.close()


def topic_ids(kafka: KafkaSettings, names: Iterable[str]) -> dict[str, str]:
    """Each existing topic's Kafka topic id (KIP-516), by name: what tells a topic from one deleted
    and created again under the same name."""
    admin = KafkaAdminClient(client_id="deskwatch-admin", **kafka_python_options(kafka))
    try:
        described = admin.describe_topics(list(names))
    finally:
        admin.close()
    return {t["name"]: str(t["topic_id"]) for t in described
            if t.get("error_code") == 0 and t.get("topic_id") not in (None, _NO_TOPIC_ID)}


_NO_TOPIC_ID = "00000000-0000-0000-0000-000000000000"


def _ensure_one(admin: KafkaAdminClient, kafka: KafkaSettings, name: str, config: dict[str, str],
                existing: set[str]) -> TopicOutcome:
    if name in existing:
        return TopicOutcome(name, False, kafka.partitions)
    topic = NewTopic(name, kafka.partitions, kafka.replication_factor, topic_configs=config)
    try:
        admin.create_topics([topic])
        return TopicOutcome(name, True, kafka.partitions)
    except TopicAlreadyExistsError:  # another process won the race
        return TopicOutcome(name, False, kafka.partitions)


def _wait_until_served(admin: KafkaAdminClient, names: list[str], timeout_s: float) -> None:
    """Block until every topic is in the broker's metadata with a leader per partition.

    Why: a group consumer whose leader assigns before its topics are served gets no partitions for
    them, and kafka-python 3.0.12 can then leave the follow-up rebalance unfinished
    (``deskwatch.sinks.membership``). Existing topics are checked too: a racing process may have
    created them a moment ago. One describe request when all are served already.
    """
    try:
        admin.wait_for_topics(names, timeout_ms=int(timeout_s * 1000))
    except KafkaTimeoutError as exc:
        raise TopicsNotReadyError(f"topics not served by the broker after {timeout_s:g} s: {exc}") from exc


def delete_topics(kafka: KafkaSettings, *starts: str, containing: tuple[str, ...] = (),
                  gone_timeout_s: float = READY_TIMEOUT_S) -> list[str]:
    """Delete every topic whose name begins with one of ``starts`` (a run's or a test session's
    own, faust's changelog topics included when the app id is among them) or holds one of
    ``containing`` (topics another library names after a run's topic), then wait until the broker
    no longer lists them (``TopicsNotGoneError`` if it still does); the names deleted."""
    admin = KafkaAdminClient(**kafka_python_options(kafka))
    try:
        doomed = sorted(t for t in admin.list_topics()
                        if t.startswith(starts) or any(part in t for part in containing))
        for i in range(0, len(doomed), 200):  # bounded requests, however many a session left
            admin.delete_topics(doomed[i : i + 200])
        _wait_until_gone(admin, doomed, gone_timeout_s)
        return doomed
    finally:
        admin.close()


def _wait_until_gone(admin: KafkaAdminClient, names: list[str], timeout_s: float) -> None:
    """Block until no topic of ``names`` is in the broker's metadata.

    Why: DeleteTopics returns once the controller has recorded the deletion, before the broker's
    metadata cache drops the topic. A Metadata request straight after still listed a deleted topic
    once in a CI run of this project's tests, and a topic recreated under a name still being
    deleted is refused. Polled every 0.1 s; one request when the broker is already up to date.
    """
    deadline = time.monotonic() + timeout_s
    left = set(names) & set(admin.list_topics())
    while left:
        if time.monotonic() >= deadline:
            raise TopicsNotGoneError(f"{len(left)} deleted topics still listed by the broker after "
                                     f"{timeout_s:g} s: {sorted(left)[:5]}")
        time.sleep(0.1)
        left &= set(admin.list_topics())


def topic_partitions(consumer: KafkaConsumer, topics: Iterable[str]) -> list[TopicPartition]:
    """Every partition of ``topics`` in ``consumer``'s metadata, topic by topic in partition order
    (none for a topic that does not exist)."""
    return [TopicPartition(topic, p) for topic in topics for p in sorted(consumer.partitions_for_topic(topic) or ())]


def end_offsets(kafka: KafkaSettings, topic: str) -> dict[TopicPartition, int]:
    """Each partition's end offset: the offset its next record gets (their sum: records written)."""
    consumer = KafkaConsumer(enable_auto_commit=False, **kafka_python_options(kafka))
    try:
        return dict(consumer.end_offsets(topic_partitions(consumer, (topic,))))
    finally:
        consumer.close()


def read_to_end(consumer: KafkaConsumer, topic: str, poll_ms: int = 500,
                timeout_s: float | None = None) -> Iterator[list[Any]]:
    """Assign ``consumer`` every partition of ``topic`` and read them from their start, one list of
    records per poll, until each has reached the end offset it had when called (a poll may bring
    records written since: they come too). Nothing when the topic does not exist or is empty;
    stops early when ``timeout_s`` passes. The consumer stays assigned, positioned past what came,
    so a caller may keep polling (processors/follow.py follows the topic afterwards)."""
    parts = topic_partitions(consumer, (topic,))
    if not parts:
        return
    consumer.assign(parts)
    consumer.seek_to_beginning(*parts)
    ends = consumer.end_offsets(parts)
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    while any(consumer.position(tp) < end for tp, end in ends.items()):
        if deadline is not None and time.monotonic() >= deadline:
            return
        polled = consumer.poll(timeout_ms=poll_ms)
        yield [record for records in polled.values() for record in records]


def consumer_lag(kafka: KafkaSettings, group: str, topic: str) -> int:
    """Records of ``topic`` that consumer group ``group`` has not committed yet; raises
    CommitsUnknownError while the broker cannot tell its commits."""
    reader = OffsetReader(kafka, "deskwatch-lag")
    try:
        return _uncommitted(*reader.clients(), group, (topic,))
    finally:
        reader.close()


def pipeline_lag(settings: Settings, reader: OffsetReader | None = None) -> tuple[int, int]:
    """Records the processor and the sink have yet to commit, each over every input it consumes;
    through ``reader``'s clients (a caller that asks again keeps one), or two made for this call.

    Decision: one consumer and one admin client for all seven inputs. Through ``consumer_lag``,
    a call made fourteen clients and took ~1.05 s, CPU the benchmark's end-to-end clock shared
    with the pipeline it timed, polled back to back (2026-12-05)."""
    lags = reader if reader is not None else OffsetReader(settings.kafka, "deskwatch-lag")
    try:
        consumer, admin = lags.clients()
        k = settings.kafka
        return (_uncommitted(consumer, admin, settings.processor.app_id, [t.name(k) for t in PROCESSOR_INPUTS]),
                _uncommitted(consumer, admin, settings.sink.group_id, [t.name(k) for t in SINK_INPUTS]))
    finally:
        if reader is None:
            lags.close()


def _uncommitted(consumer: KafkaConsumer, admin: KafkaAdminClient, group: str, topics: Iterable[str]) -> int:
    """Records of ``topics`` that ``group`` has not committed yet (a partition it never committed
    counts from offset 0), through the two clients given."""
    ends = consumer.end_offsets(topic_partitions(consumer, topics))
    committed = committed_offsets(admin, group)
    # The ends are read first: a commit made in between can pass one (the soak's progress line
    # once showed a lag of -10); no partition counts below nothing.
    return sum(max(0, end - (committed[tp].offset if tp in committed else 0)) for tp, end in ends.items())


def pipeline_lag_known(settings: Settings,
                       read: Callable[[Settings], tuple[int, int]] = pipeline_lag) -> tuple[int, int] | None:
    """:func:`pipeline_lag`, or None while the broker cannot tell the groups' commits (a broker
    restarted moments ago reads them back): for a watcher that asks again, never a count from 0.
    Any other error is raised."""
    try:
        return read(settings)
    except CommitsUnknownError:
        return None


def committed_offsets(admin: KafkaAdminClient, group: str, timeout_s: float = COMMITS_TIMEOUT_S,
                      sleep: Callable[[float], None] = time.sleep) -> dict[TopicPartition, Any]:
    """Group ``group``'s committed offsets by partition (``OffsetAndMetadata``): none for a group
    that never committed.

    A retriable error is asked again until ``timeout_s`` has passed, then raised as
    CommitsUnknownError: never read as "no commit". It once was, and a broker restarted after a
    SIGKILL, still loading its commits, made every group look unread from offset 0 (a soak's
    processor lag read 61,850 for a moment, and ticks could fall back to the log's first record)."""
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            return dict(admin.list_group_offsets(group).get(group, {}))
        except KafkaError as exc:
            if not exc.retriable:
                raise
            if time.monotonic() >= deadline:
                raise CommitsUnknownError(f"group {group}'s commits unknown after {timeout_s:g} s: {exc!r}") from exc
        sleep(min(0.5, max(0.0, deadline - time.monotonic())))


class OffsetReader:
    """A kafka-python consumer that never commits and an admin client, made on first use and kept:
    what :func:`unread_offsets` reads through. Not thread-safe (neither client is): one per thread
    that reads, as the processor's heartbeat and ticker each have."""

    def __init__(self, kafka: KafkaSettings, client_id: str, **consumer_options: Any) -> None:
        self._kafka, self._client_id, self._consumer_options = kafka, client_id, consumer_options
        self._clients: tuple[KafkaConsumer, KafkaAdminClient] | None = None

    def clients(self) -> tuple[KafkaConsumer, KafkaAdminClient]:
        if self._clients is None:
            options = kafka_python_options(self._kafka)
            self._clients = (KafkaConsumer(client_id=self._client_id, enable_auto_commit=False,
                                           **self._consumer_options, **options),
                             KafkaAdminClient(client_id=self._client_id, **options))
        return self._clients

    def close(self) -> None:
        if self._clients is not None:
            for client in self._clients:
                client.close()
            self._clients = None


def unread_offsets(consumer: KafkaConsumer, admin: KafkaAdminClient, group: str, parts: list[TopicPartition],
                   timeout_s: float = COMMITS_TIMEOUT_S) -> tuple[dict[TopicPartition, int], dict[TopicPartition, int]]:
    """Per partition, the first offset ``group`` has yet to read (past its commit and past the log's
    start: what retention deleted is not waiting) and the partition's end. Raises
    CommitsUnknownError when the commits stay unknown ``timeout_s``."""
    begins, ends = consumer.beginning_offsets(parts), consumer.end_offsets(parts)
    commits = committed_offsets(admin, group, timeout_s)
    first: dict[TopicPartition, int] = {}
    for tp, start in begins.items():
        commit = commits.get(tp)
        first[tp] = max(start, commit.offset) if commit is not None else start
    return first, dict(ends)
