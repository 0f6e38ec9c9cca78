"""Ticks carry wall time held back to the oldest input stage 1 has not read (processors/progress.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deskwatch.processors.progress import COMMITS_UNKNOWN_PAUSE, InputProgress, paused_tick, tick_time
from deskwatch.processors.stage2 import Stage2
from deskwatch.schemas.incident import ChangeReason, Incident, IncidentStatus

from tests.processors.stage2.build import Policy, at, signal

NOW = datetime(2026, 12, 3, 9, 0, tzinfo=UTC)


def test_a_tick_carries_now_when_nothing_is_unread_or_the_unread_is_not_older() -> None:
    assert tick_time(NOW, None) == NOW
    assert tick_time(NOW, NOW + timedelta(seconds=3)) == NOW  # a producer's clock ahead of ours


def test_a_tick_is_held_back_to_the_oldest_unread_input() -> None:
    assert tick_time(NOW, NOW - timedelta(hours=2)) == NOW - timedelta(hours=2)


def test_ticks_pause_while_the_commits_are_unknown_then_carry_wall_time() -> None:
    since = NOW - timedelta(seconds=30)
    assert paused_tick(NOW, since) is None  # a restarted broker reading its commits back
    assert paused_tick(NOW, NOW) is None
    assert paused_tick(NOW, NOW - COMMITS_UNKNOWN_PAUSE) == NOW  # too long: wall time, as for any unreadable progress
    assert paused_tick(NOW, NOW - timedelta(seconds=5), pause=timedelta(seconds=5)) == NOW


def _minute(t: datetime) -> float:
    return (t - at(0)).total_seconds() / 60


def _final(steps: list[tuple[str, float]]) -> tuple[Incident | None, list[ChangeReason]]:
    """Feed signals of pc-1 at their minute and ticks at theirs; the group's incident and every
    change's reason."""
    core, state, reasons = Stage2({"disk-full": Policy()}), None, []
    for kind, minute in steps:
        if kind == "signal":
            result = core.on_signal(state, signal(minute), at(minute))
        else:
            result = core.on_tick(state, at(minute))
        reasons += [c.reason for c in result.changes]
        state = result.state
    assert state is not None
    return state.incident or state.last_resolved, reasons


def test_a_catch_up_whose_ticks_are_held_back_ends_as_an_uninterrupted_run() -> None:
    """A host fails every 20 minutes (quiet timeout 30). The worker stops after its first hit and
    restarts at minute 100, with the hits of minutes 20-80 waiting in ``events``, sent when they
    happened. A tick at wall time resolves the incident by quiet timeout before the backlog is
    read, and the backlog reopens it; ticks held back to the oldest unread input do not."""
    hits = [0, 20, 40, 60, 80]
    uninterrupted: list[tuple[str, float]] = []
    for minute in range(0, 101, 10):
        if minute in hits:
            uninterrupted.append(("signal", minute))
        uninterrupted.append(("tick", minute))
    reference, reference_reasons = _final(uninterrupted)
    assert reference is not None and reference.status is IncidentStatus.OPEN
    assert ChangeReason.QUIET_TIMEOUT not in reference_reasons

    before = [("signal", 0.0), ("tick", 0.0), ("tick", 10.0)]
    backlog = hits[1:]
    held: list[tuple[str, float]] = list(before)
    for minute in backlog:  # a tick at wall time 100 before each record is read, held back to it
        held.append(("tick", _minute(tick_time(at(100), oldest_unread=at(minute)))))
        held.append(("signal", minute))
    held.append(("tick", _minute(tick_time(at(100), oldest_unread=None))))
    caught_up, reasons = _final(held)
    assert caught_up is not None
    assert (caught_up.status, caught_up.reopen_count, caught_up.event_count, caught_up.opened_at) == (
        reference.status, reference.reopen_count, reference.event_count, reference.opened_at)
    assert ChangeReason.QUIET_TIMEOUT not in reasons

    # The case this guards against: a tick at wall time resolves it by quiet timeout before the
    # backlog is read. The backlog's hit of minute 80 then withdraws that resolution (it used to
    # reopen it: reopen_count 1), so the incident ends as in event time, but downstream read a
    # resolution and its withdrawal, a notification each, that held-back ticks never send.
    at_wall_time = [*before, ("tick", 100.0), *[("signal", float(m)) for m in backlog], ("tick", 100.0)]
    ended, wall_reasons = _final(at_wall_time)
    assert ended is not None and wall_reasons.count(ChangeReason.QUIET_TIMEOUT) == 1
    assert wall_reasons[-1] is ChangeReason.REOPENED  # the withdrawal, as downstream reads it
    assert (ended.status, ended.reopen_count, ended.event_count, ended.opened_at) == (
        reference.status, reference.reopen_count, reference.event_count, reference.opened_at)


@pytest.mark.integration
def test_the_oldest_unread_record_is_the_first_past_the_groups_commit(settings: Any) -> None:
    """Records sent with their own timestamps on two partitions; the group commits past some: the
    oldest unread is the earliest timestamp among the first record past each commit."""
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    from deskwatch.connect import kafka_python_options
    from deskwatch.topics import ensure_topics
    from deskwatch.topology import EVENTS
    from tests.prefixed import prefixed

    s = prefixed(settings, 2)
    ensure_topics(s.kafka)
    topic = EVENTS.name(s.kafka)
    now = datetime.now(UTC).replace(microsecond=0)  # the broker refuses timestamps over an hour ahead
    base = int(now.timestamp() * 1000)
    producer = KafkaProducer(acks="all", **kafka_python_options(s.kafka))
    sent = []
    for n in range(5):  # partition 0: 60-56 minutes ago; partition 1: 50-46
        sent.append(producer.send(topic, key=b"PC-0", value=b"x", partition=0, timestamp_ms=base - (60 - n) * 60_000))
        sent.append(producer.send(topic, key=b"PC-1", value=b"x", partition=1, timestamp_ms=base - (50 - n) * 60_000))
    for future in sent:
        future.get(timeout=30)
    producer.close()
    group = f"{s.processor.app_id}-progress"
    progress = InputProgress(s.kafka, group, topic)
    try:
        assert progress.oldest_unread() == now - timedelta(minutes=60), "never committed: the log's first record"
        committer = KafkaConsumer(group_id=group, enable_auto_commit=False, **kafka_python_options(s.kafka))
        committer.commit({TopicPartition(topic, 0): OffsetAndMetadata(3, "", -1),
                          TopicPartition(topic, 1): OffsetAndMetadata(1, "", -1)})
        assert progress.oldest_unread() == now - timedelta(minutes=57), "partition 0's fourth record"
        committer.commit({TopicPartition(topic, 0): OffsetAndMetadata(5, "", -1)})
        assert progress.oldest_unread() == now - timedelta(minutes=49), "partition 0 read to its end"
        committer.commit({TopicPartition(topic, 1): OffsetAndMetadata(5, "", -1)})
        committer.close()
        assert progress.oldest_unread() is None, "every partition read to its end"
    finally:
        progress.close()
