"""The secured broker authorizes: the deskwatch user reaches its prefixed topics and groups only.

Every refusal sits beside a control on the same broker (the admin, or the user on its own prefix),
so a refusal cannot pass because a topic is missing or the broker is down.
"""

# ruff: noqa: F811  (fixtures imported from secure_engines are parameters by design)
from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import pytest
from kafka import KafkaAdminClient, KafkaConsumer, KafkaProducer, TopicPartition
from kafka.admin import NewTopic
from kafka.errors import (
    GroupAuthorizationFailedError,
    KafkaError,
    TopicAuthorizationFailedError,
)

from deskwatch.connect import kafka_python_options
from deskwatch.settings import Settings, StackSettings
from deskwatch.stack.authorize import held_filter, kafka_admin_options, wanted_acls
from deskwatch.stack.layout import Layout
from tests.integration.secure_engines import secure_settings, secure_stack  # noqa: F401

pytestmark = pytest.mark.integration

TIMEOUTS = {"request_timeout_ms": 15_000}


def admin_options(stack: StackSettings) -> dict[str, Any]:
    """The stack's super user (what ``stack up`` grants the ACLs with)."""
    return {"bootstrap_servers": f"127.0.0.1:{stack.kafka_port}"} | kafka_admin_options(
        stack, Layout(stack.home)
    )


def user_options(settings: Settings) -> dict[str, Any]:
    """The deskwatch user, exactly as the pipeline's components connect."""
    return kafka_python_options(settings.kafka)


@pytest.fixture(scope="module")
def topics(secure_settings: Settings, secure_stack: StackSettings) -> Iterator[dict[str, str]]:
    """One topic inside the user's prefix (created by the user) and one outside (by the admin)."""
    tag = uuid.uuid4().hex[:8]
    inside = f"{secure_settings.kafka.topic_prefix}acl-{tag}"
    outside = f"other-{tag}"
    user = KafkaAdminClient(**user_options(secure_settings), **TIMEOUTS)
    admin = KafkaAdminClient(**admin_options(secure_stack), **TIMEOUTS)
    try:
        user.create_topics([NewTopic(inside, 1, 1)])  # CREATE on the prefix
        admin.create_topics([NewTopic(outside, 1, 1)])
        yield {"inside": inside, "outside": outside}
        admin.delete_topics([inside, outside])
    finally:
        user.close()
        admin.close()


def _produce(options: dict[str, Any], topic: str) -> None:
    producer = KafkaProducer(
        enable_idempotence=True, acks="all", max_block_ms=15_000, **options, **TIMEOUTS
    )
    try:
        producer.send(topic, key=b"k", value=b"v").get(timeout=15)
    finally:
        producer.close(timeout=5)


def _consume(options: dict[str, Any], topic: str, group: str | None) -> None:
    """Read the first record as the pipeline's kafka-python consumers do (sink, followers)."""
    consumer = KafkaConsumer(
        group_id=group, auto_offset_reset="earliest", enable_auto_commit=False, **options
    )
    try:
        if group is None:
            partition = TopicPartition(topic, 0)
            consumer.assign([partition])
            # Without a group, a foreign topic's refusal surfaces here: the offsets lookup.
            assert consumer.beginning_offsets([partition]) == {partition: 0}
        else:
            consumer.subscribe([topic])  # a foreign group's refusal surfaces in poll()
        records = []
        for _ in range(30):
            records += [r for batch in consumer.poll(timeout_ms=1000).values() for r in batch]
            if records:
                break
        assert records and records[0].value == b"v", f"nothing read from {topic}"
        if group is not None:
            consumer.commit()
    finally:
        consumer.close()


def _create(options: dict[str, Any], topic: str) -> None:
    admin = KafkaAdminClient(**options, **TIMEOUTS)
    try:
        admin.create_topics([NewTopic(topic, 1, 1)])
    finally:
        admin.close()


ACTIONS = {"produce": _produce, "create": _create}


@pytest.mark.parametrize(
    ("who", "action", "where", "refusal"),
    [
        ("user", "produce", "inside", None),
        ("user", "produce", "outside", TopicAuthorizationFailedError),
        ("admin", "produce", "outside", None),
        ("user", "create", "outside-new", TopicAuthorizationFailedError),
        ("user", "create", "inside-new", None),
    ],
    ids=[
        "user-writes-its-prefix",
        "user-refused-outside",
        "admin-control-outside",
        "user-cannot-create-outside",
        "user-creates-in-its-prefix",
    ],
)
def test_the_user_writes_and_creates_only_inside_its_prefix(
    secure_settings: Settings,
    secure_stack: StackSettings,
    topics: dict[str, str],
    who: str,
    action: str,
    where: str,
    refusal: type[KafkaError] | None,
) -> None:
    options = user_options(secure_settings) if who == "user" else admin_options(secure_stack)
    fresh = f"-{uuid.uuid4().hex[:6]}"
    topic = topics[where.removesuffix("-new")] + (fresh if where.endswith("-new") else "")
    if refusal is None:
        ACTIONS[action](options, topic)
        return
    with pytest.raises(refusal):
        ACTIONS[action](options, topic)


@pytest.mark.parametrize(
    ("where", "group", "refusal"),
    [
        ("inside", None, None),
        ("inside", "test-acl-group-{tag}", None),
        ("outside", None, TopicAuthorizationFailedError),
        ("inside", "other-group-{tag}", GroupAuthorizationFailedError),
    ],
    ids=["own-topic", "own-group", "foreign-topic", "foreign-group"],
)
def test_the_user_reads_only_its_topics_in_its_groups(
    secure_settings: Settings,
    secure_stack: StackSettings,
    topics: dict[str, str],
    where: str,
    group: str | None,
    refusal: type[Exception] | None,
) -> None:
    _produce(admin_options(secure_stack), topics[where])  # something to read, written as admin
    name = group.format(tag=uuid.uuid4().hex[:6]) if group else None
    if refusal is None:
        _consume(user_options(secure_settings), topics[where], name)
        return
    with pytest.raises(refusal):
        _consume(user_options(secure_settings), topics[where], name)


def test_stack_up_left_the_user_exactly_the_declared_acls(secure_stack: StackSettings) -> None:
    admin = KafkaAdminClient(**admin_options(secure_stack), **TIMEOUTS)
    try:
        held, _ = admin.describe_acls(held_filter(secure_stack))
    finally:
        admin.close()
    assert set(held) == wanted_acls(secure_stack)


def test_the_controller_port_refuses_an_anonymous_plaintext_client(
    secure_stack: StackSettings,
) -> None:
    plain = {"bootstrap_servers": f"127.0.0.1:{secure_stack.kafka_controller_port}"}
    with pytest.raises(KafkaError):
        admin = KafkaAdminClient(**plain, request_timeout_ms=5000, api_version_auto_timeout_ms=5000)
        try:
            admin.describe_acls(held_filter(secure_stack))
        finally:
            admin.close()
