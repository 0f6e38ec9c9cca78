"""How far stage 1 has read its input, as a time: the time a tick may carry.

Ticks bring wall time to stage 2, where quiet timeouts, lifetimes, acknowledgement lapses,
escalation by age and window ends fire. A worker that restarts after a downtime, or that falls
behind, reads a backlog of events that happened while the ticks already said "now": a tick at
wall time resolved an incident by quiet timeout (and expired the held hits of its window) before
stage 1 had read the hits that kept it active, and those hits then reopened it (or opened a new
one), each a notification. An uninterrupted run had neither.

Decision: a tick carries wall time held back to the oldest input not yet read. The events records
past the processor group's commit on each partition of ``events`` are what stage 1 has not
finished (it commits a record only once its signals are acknowledged, so every signal of every
record before the commit is in ``signals`` before the tick that reads it); the oldest of their
Kafka timestamps (CreateTime: when a producer sent it, which follows the events it carries while
the producers run) is as far as the ticks may go. A pipeline that keeps up commits within
seconds, and its ticks carry wall time as before, a few seconds behind at most.

Not event time: a host's clock can be a day off, and a file of last month's logs read today is
sent today; both would hold every tick back. The Kafka timestamp is the broker's and producers'
clock, and it is what orders the backlog a downtime leaves.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any, Final

from kafka import TopicPartition

from deskwatch.settings import KafkaSettings
from deskwatch.topics import OffsetReader, topic_partitions, unread_offsets

# The least a fetch needs to return a partition's first batch; the broker sends one whole batch
# past this limit anyway, so a large envelope still comes back.
_FETCH_BYTES = 65_536


class ProgressUnknownError(Exception):
    """The first unread record of some partition could not be read in time."""


def tick_time(now: datetime, oldest_unread: datetime | None) -> datetime:
    """The time a tick may carry: ``now``, held back to the oldest input not yet read."""
    return now if oldest_unread is None or oldest_unread >= now else oldest_unread


# How long ticks pause while the broker cannot tell stage 1's commits, before they carry wall time
# as for any progress that cannot be read. A broker restarted after a SIGKILL reads its commits back
# for seconds, just when a backlog is likeliest: a tick at wall time then could end by quiet
# timeout an incident whose failures wait in that backlog. Two minutes of no tick delays a timer by
# as much at most; the pause is bounded so that a broker that never answers does not stop them.
COMMITS_UNKNOWN_PAUSE: Final = timedelta(minutes=2)


def paused_tick(now: datetime, unknown_since: datetime, pause: timedelta = COMMITS_UNKNOWN_PAUSE) -> datetime | None:
    """While the commits have been unknown since ``unknown_since``: no tick (None) for ``pause``,
    then ``now``."""
    return None if now - unknown_since < pause else now


class InputProgress:
    """The Kafka timestamp of the oldest record of ``topic`` past ``group``'s commit.

    Through a kafka-python consumer and admin client of its own, made on first use (the ticker
    calls it from a thread, never two calls at once)."""

    def __init__(self, kafka: KafkaSettings, group: str, topic: str, timeout_s: float = 5.0) -> None:
        self._group, self._topic, self._timeout_s = group, topic, timeout_s
        self._reader = OffsetReader(kafka, "deskwatch-ticker", max_partition_fetch_bytes=_FETCH_BYTES)

    def oldest_unread(self) -> datetime | None:
        """None when every partition is read to its end; raises ProgressUnknownError or a
        KafkaError when it cannot tell."""
        consumer, admin = self._reader.clients()
        parts = topic_partitions(consumer, (self._topic,))
        if not parts:
            raise ProgressUnknownError(f"topic {self._topic} has no partitions in the broker's metadata")
        first, ends = unread_offsets(consumer, admin, self._group, parts, timeout_s=self._timeout_s)
        unread = {tp: offset for tp, offset in first.items() if offset < ends[tp]}
        if not unread:
            return None
        stamps = self._first_timestamps(consumer, unread)
        return datetime.fromtimestamp(min(stamps) / 1000, UTC)

    def _first_timestamps(self, consumer: Any, unread: dict[TopicPartition, int]) -> list[int]:
        consumer.assign(list(unread))
        for tp, offset in unread.items():
            consumer.seek(tp, offset)
        stamps: dict[TopicPartition, int] = {}
        deadline = time.monotonic() + self._timeout_s
        while len(stamps) < len(unread):
            if time.monotonic() > deadline:
                missing = sorted(tp.partition for tp in unread if tp not in stamps)
                raise ProgressUnknownError(f"no record read at the commit of {self._topic} partitions {missing}")
            for tp, records in consumer.poll(timeout_ms=200).items():
                if records and tp not in stamps:
                    stamps[tp] = records[0].timestamp
                    consumer.pause(tp)
        consumer.resume(*unread)
        return list(stamps.values())

    def close(self) -> None:
        self._reader.close()
