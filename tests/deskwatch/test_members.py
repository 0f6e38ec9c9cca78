"""deskwatch members: a static member stopped for good, removed, hands its partitions over at once."""

from __future__ import annotations

import time

import pytest
from kafka import KafkaConsumer

from deskwatch.connect import kafka_python_options
from deskwatch.members import MemberRemovalError, describe, leave, parse_group, remove
from deskwatch.settings import Settings
from deskwatch.topics import ensure_topics
from deskwatch.topology import EVENTS
from tests.prefixed import prefixed
from tests.records import _partitions

# kafka-python's describe_groups answer for one member, as the local broker gave it (2026-12-04)
_DESCRIBED = {
    "group_id": "deskwatch-sink", "group_state": "Stable", "protocol_type": "consumer",
    "members": [
        {"client_host": "/127.0.0.1", "client_id": "kafka-python-3.0.12", "group_instance_id": "deskwatch-sink@a#0",
         "member_id": "deskwatch-sink@a#0-76d3", "member_metadata": {"topics": ["dw.events"], "user_data": ""},
         "member_assignment": {"assigned_partitions": [{"partitions": [0, 1, 2], "topic": "dw.events"},
                                                       {"partitions": [5], "topic": "dw.signals"}],
                               "user_data": ""}},
        {"client_host": "/10.0.0.7", "client_id": "faust", "group_instance_id": None, "member_id": "m-2",
         "member_metadata": b"\x00", "member_assignment": b"\x00\x01"},  # not decodable: counts 0
    ],
}


def test_parse_group_counts_each_members_partitions_over_every_topic() -> None:
    group = parse_group("sink", "deskwatch-sink", _DESCRIBED)
    assert (group.role, group.group_id, group.state) == ("sink", "deskwatch-sink", "Stable")
    assert [(m.instance_id, m.partitions, m.host, m.client_id) for m in group.members] == [
        (None, 0, "10.0.0.7", "faust"), ("deskwatch-sink@a#0", 4, "127.0.0.1", "kafka-python-3.0.12")]


def test_parse_group_says_why_the_broker_did_not_describe_it() -> None:
    group = parse_group("sink", "deskwatch-sink", {"error": "GroupAuthorizationFailedError: denied", "members": []})
    assert group.state == "not described: GroupAuthorizationFailedError: denied"


def test_parse_group_of_a_group_the_broker_does_not_know() -> None:
    group = parse_group("webhook", "deskwatch-webhook", {"group_state": "Dead", "members": []})
    assert (group.state, group.members) == ("Dead", ())


def _joined(settings: Settings, instance_id: str) -> KafkaConsumer:
    """A static member of the sink's group, subscribed to the events topic once its metadata shows the
    topic's partitions: a member that joined before it did (a topic created a moment earlier, CI of
    2026-12-06) was assigned none ("No partition metadata") and had not rejoined 60 s later."""
    topic = EVENTS.name(settings.kafka)
    consumer = KafkaConsumer(topic, group_id=settings.sink.group_id, group_instance_id=instance_id,
                             enable_auto_commit=False, **kafka_python_options(settings.kafka))
    assert len(_partitions(consumer, topic, 30)) == settings.kafka.partitions, "the topic's partitions never showed"
    return consumer


def _poll_until(consumer: KafkaConsumer, want: int, timeout_s: float, what: str) -> float:
    """Seconds until ``consumer`` holds ``want`` partitions (polling, so it takes part in rebalances)."""
    began = time.monotonic()
    while len(consumer.assignment()) != want:
        if time.monotonic() - began > timeout_s:
            raise AssertionError(f"{what}: {len(consumer.assignment())} partitions, not {want}, "
                                 f"after {timeout_s:.0f} s")
        consumer.poll(timeout_ms=200)
    return time.monotonic() - began


def _share(a: KafkaConsumer, b: KafkaConsumer, partitions: int, timeout_s: float) -> None:
    """Poll both until each holds some of the ``partitions`` and together exactly them. A member's
    assignment changes only when its own sync answer arrives: b can hold its new share while a still
    shows all of its old one (4 + 2, CI of 2026-12-06), so "both hold some" alone is not the end."""
    deadline = time.monotonic() + timeout_s
    while not (a.assignment() and b.assignment() and len(a.assignment()) + len(b.assignment()) == partitions):
        assert time.monotonic() < deadline, (f"the two members never shared the {partitions} partitions: "
                                             f"{len(a.assignment())} + {len(b.assignment())} after {timeout_s:.0f} s")
        a.poll(timeout_ms=100)
        b.poll(timeout_ms=100)
    assert not a.assignment() & b.assignment(), "a partition held by both members"


@pytest.mark.integration
def test_a_removed_static_member_hands_its_partitions_to_the_member_left(settings: Settings) -> None:
    s = prefixed(settings, 4, sink={"group_id": lambda tag: f"{settings.kafka.topic_prefix}sink-{tag}"})
    ensure_topics(s.kafka)
    a, b = _joined(s, "sink@a#0"), _joined(s, "sink@b#0")
    try:
        _poll_until(a, 4, 60, "a alone")  # alone first: all four
        _share(a, b, 4, 60)  # then b joins and the two share them
        a.close()  # a static member does not leave its group: its partitions stay its own
        group = next(g for g in describe(s) if g.role == "sink")
        assert {m.instance_id for m in group.members} == {"sink@a#0", "sink@b#0"}
        for _ in range(10):
            b.poll(timeout_ms=200)
        assert len(b.assignment()) < 4, "b took a's partitions before the removal"

        before = remove(s, "sink", "sink@a#0", "test: a stopped for good")
        taken = _poll_until(b, 4, 20, "b after the removal")  # the session (45 s) has not timed out: only the removal does it

        assert {m.instance_id for m in before.members} == {"sink@a#0", "sink@b#0"}
        assert [m.instance_id for m in next(g for g in describe(s) if g.role == "sink").members] == ["sink@b#0"]
        print(f"b held all 4 partitions {taken:.1f} s after the removal")
        with pytest.raises(MemberRemovalError, match=r"'sink@a#0' is not a static member .* sink@b#0"):
            remove(s, "sink", "sink@a#0", "again")
    finally:
        b.close()


def test_a_stopping_component_whose_broker_is_out_of_reach_gives_up_leaving_within_seconds() -> None:
    # nothing listens on port 1: the leave is said not done, after its own short deadline
    s = Settings()
    s = s.model_copy(update={"kafka": s.kafka.model_copy(update={"bootstrap_servers": "127.0.0.1:1"})})
    started = time.monotonic()
    assert leave(s, "sink", "deskwatch-sink@host#0") is False
    took = time.monotonic() - started
    assert took < 15, f"{took:.0f} s: kafka-python's 30 s bootstrap deadline, not the leave's own"
    assert leave(s, "sink", None) is False  # a dynamic member left when its consumer closed
