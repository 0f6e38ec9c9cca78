"""Input records in offset order: the bookkeeping, and the fetch loop's hand-over on faust's real
consumer object (records fed in, no broker: the race itself is reproduced on the real broker by
tests/integration/test_processor_recovery.py)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import KafkaTimeoutError
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from faust.types.tuples import ConsumerMessage

from deskwatch.processors.app import build_app
from deskwatch.processors.in_order import FlowControl, InOrderConsumer, InputOrder, Step, _FetchWaitThread, output_failed
from deskwatch.settings import Settings

EVENTS = TP("events", 3)
CHANGELOG = TP("app-hosts-changelog", 3)


def test_records_in_order_are_delivered_from_wherever_an_unsought_partition_starts() -> None:
    order = InputOrder({"events"})
    assert order.step(EVENTS, 40) is Step.DELIVER
    order.delivered(EVENTS, 40)
    assert order.step(EVENTS, 41) is Step.DELIVER and order.next_offset(EVENTS) == 41


def test_a_stale_batch_after_a_seek_to_the_committed_offset_is_resought_not_gap_filled() -> None:
    """The race seen on the broker: 0..4 committed, 5..59 handed over then cleared by a rebalance,
    the seek back to 5, and a batch fetched before it arriving at 60."""
    order = InputOrder({"events"})
    for offset in range(60):
        order.delivered(EVENTS, offset)
    order.sought_committed({EVENTS: 5})
    assert order.step(EVENTS, 60) is Step.RESEEK, "5..59 would be lost"
    assert order.step(EVENTS, 5) is Step.DELIVER
    order.delivered(EVENTS, 5)
    assert order.step(EVENTS, 5) is Step.SKIP and order.step(EVENTS, 3) is Step.SKIP
    assert (order.reseeks, order.skipped) == (1, 2)


def test_one_past_the_committed_offset_is_not_the_next_record() -> None:
    """faust let offset C+1 through after a seek to C (no gap to fill, C dropped, the commit stuck)."""
    order = InputOrder({"events"})
    order.sought_committed({EVENTS: 9})
    assert order.step(EVENTS, 10) is Step.RESEEK and order.step(EVENTS, 9) is Step.DELIVER


def test_seeks_to_nothing_committed_leave_the_fresh_position_alone() -> None:
    order = InputOrder({"events"})
    order.sought(EVENTS, 0)  # positions.py: a fresh partition to its beginning
    order.sought_committed({EVENTS: None})
    order.sought_committed({EVENTS: 0})
    assert order.next_offset(EVENTS) == 0


def test_other_topics_and_revoked_partitions_are_not_tracked() -> None:
    order = InputOrder({"events"})
    order.delivered(CHANGELOG, 7)
    order.sought(CHANGELOG, 2)
    assert not order.ordered(CHANGELOG) and order.next_offset(CHANGELOG) is None
    order.delivered(EVENTS, 7)
    order.forget([EVENTS])
    assert order.next_offset(EVENTS) is None


@dataclass
class Record:
    topic: str
    offset: int
    generation_id: int = 0


async def batch(*records: tuple[TP, int]) -> AsyncIterator[tuple[TP, Record]]:
    for tp, offset in records:
        yield tp, Record(tp.topic, offset)


@pytest.fixture
def consumer(monkeypatch: pytest.MonkeyPatch) -> tuple[InOrderConsumer, list[tuple[str, int]], list[Any]]:
    """The processor's own consumer object, not started: hand-overs and seeks recorded."""
    settings = Settings()
    app = build_app(settings).app
    c = app.consumer
    assert isinstance(c, InOrderConsumer)
    events = TP(settings.kafka.topic_prefix + "events", 3)
    handed: list[tuple[str, int]] = []
    seeks: list[Any] = []

    async def deliver(message: Record) -> None:
        handed.append((message.topic, message.offset))

    async def seek(tp: TP, offset: int) -> None:
        seeks.append((tp, offset))
        c.order.sought(tp, offset)

    async def earliest(*tps: TP) -> dict[TP, int]:
        return {tp: 0 for tp in tps}

    monkeypatch.setattr(c, "callback", deliver)
    monkeypatch.setattr(c, "seek", seek)
    monkeypatch.setattr(c, "earliest_offsets", earliest)
    c.order.sought(events, 5)
    app.flow_control.resume()  # a worker's streams flow (faust starts them suspended)
    return c, handed, [events, seeks]


def test_the_hand_over_reseeks_a_jump_and_skips_the_rest_of_that_partition(consumer: Any) -> None:
    c, handed, (events, seeks) = consumer
    c.loop.run_until_complete(c._hand_over(batch((events, 60), (events, 61), (CHANGELOG, 4), (CHANGELOG, 9))))
    assert seeks == [(events, 5)], "sought back to the next record"
    assert handed == [("app-hosts-changelog", 4), ("app-hosts-changelog", 9)], "compacted: gaps are fine"
    c.loop.run_until_complete(c._hand_over(batch((events, 5), (events, 6), (events, 6), (events, 7))))
    assert handed[2:] == [(events.topic, 5), (events.topic, 6), (events.topic, 7)], "in order, once"


def test_records_removed_by_retention_are_named_and_the_partition_goes_on(consumer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    c, handed, (events, seeks) = consumer

    async def earliest(*tps: TP) -> dict[TP, int]:
        return {tp: 50 for tp in tps}

    monkeypatch.setattr(c, "earliest_offsets", earliest)
    c.loop.run_until_complete(c._hand_over(batch((events, 50), (events, 51))))
    assert seeks == [] and handed == [(events.topic, 50), (events.topic, 51)]


def test_a_seek_that_comes_during_a_hand_over_waits_for_it_and_is_not_overwritten(
    consumer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Seen on the broker: a rebalance's seek back to the commit came while a record was being
    handed over; the record's offset then replaced the seek's target and the re-read was skipped."""
    c, handed, (events, seeks) = consumer

    async def client_seek(self: Any, tp: TP, offset: int) -> None:
        """The client's own seek (a call into the consumer thread): nothing to do without one."""

    monkeypatch.setattr(faust_aiokafka.Consumer, "_seek", client_seek)
    rebalance: list[asyncio.Task[None]] = []

    async def deliver(message: Record) -> None:
        if message.offset == 5:  # the rebalance's seek to the committed offset 2 arrives now
            rebalance.append(asyncio.ensure_future(c._seek(events, 2)))
            await asyncio.sleep(0.01)
        handed.append((message.topic, message.offset))

    monkeypatch.setattr(c, "callback", deliver)
    c.loop.run_until_complete(c._hand_over(batch((events, 5), (events, 6))))
    c.loop.run_until_complete(asyncio.gather(*rebalance))
    assert handed == [(events.topic, 5)], "6 came from before the seek"
    assert seeks == [(events, 2)] and c.order.next_offset(events) == 2, "2..4 are read again"


def test_an_ordered_record_waits_for_the_flow_and_carries_the_current_generation(consumer: Any) -> None:
    """faust's streams drop, and acknowledge, a record stamped with an older generation or arriving
    while the flow control is suspended: a group's first signal was lost so in a two-worker run."""
    c, handed, (events, _) = consumer
    stamped: list[int] = []

    async def deliver(message: Record) -> None:
        stamped.append(message.generation_id)
        handed.append((message.topic, message.offset))

    c.callback = deliver
    c.app.consumer_generation_id = 7
    c.app.flow_control.suspend()
    old = Record(events.topic, 5, generation_id=6)  # fetched before the assignment completed

    async def resume_later() -> None:
        await asyncio.sleep(0.05)
        assert handed == [], "nothing reaches a stream while the flow is suspended"
        c.app.flow_control.resume()

    async def both() -> None:
        await asyncio.gather(c._hand_over_ordered(events, old), resume_later())

    c.loop.run_until_complete(both())
    assert handed == [(events.topic, 5)] and stamped == [7]


def _message(c: InOrderConsumer, tp: TP, offset: int) -> Any:
    """A record of ``tp`` as the consumer's fetch makes it, stamped with the current generation."""
    return ConsumerMessage(tp.topic, tp.partition, offset, 0.0, 0, [], b"k", b"v", None, 1, 1, tp,
                           generation_id=c.app.consumer_generation_id)


def test_only_records_an_agent_processed_are_acknowledged(consumer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A stream acknowledges what it drops around a rebalance; the commit must not pass those."""
    c, _, (events, _) = consumer
    monkeypatch.setattr(c.app.topics, "acks_enabled_for", lambda topic: True)  # set when subscribed
    done, dropped = _message(c, events, 5), _message(c, events, 6)
    c.processed([done])
    assert c.ack(done) is True and c.ack(dropped) is False
    assert list(c._acked[events]) == [5] and c.unprocessed_acks == 1, "6 holds the commit until read again"


def test_a_commit_starts_exactly_at_the_committed_offset_and_a_hole_is_read_again(consumer: Any) -> None:
    """faust committed past a first record that a stream dropped without acknowledging (offset 0
    of a fresh partition: a group's first signal, lost in a two-worker run)."""
    c, _, (events, seeks) = consumer
    c.order.sought(events, 0)  # a fresh partition, sought to its beginning
    c._acked[events].extend([1, 2])
    c._acked_index[events].update([1, 2])

    async def commit_round() -> int | None:
        offset: int | None = c._new_offset(events)  # c: the fixture's consumer, untyped
        await asyncio.sleep(0)  # the re-read it scheduled
        return offset

    assert c.loop.run_until_complete(commit_round()) is None, "0 was never processed"
    assert seeks == [(events, 0)] and c.heals == 1
    c._acked[events].append(0)
    c._acked_index[events].add(0)
    assert c._new_offset(events) == 3
    c._committed_offset[events] = 3
    c._acked[events].extend([2, 3, 4])  # 2: a re-read of what was committed
    assert c._new_offset(events) == 5 and list(c._acked[events]) == []


def test_after_a_lost_output_batch_nothing_is_committed_and_the_worker_stops(
    consumer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    c, _, (events, _) = consumer
    committed: list[Any] = []
    crashed: list[BaseException] = []

    async def commit_upstream(self: Any, offsets: Any) -> bool:
        committed.append(dict(offsets))
        return True

    async def crash(reason: BaseException) -> None:
        crashed.append(reason)

    monkeypatch.setattr(faust_aiokafka.Consumer, "_commit", commit_upstream)
    monkeypatch.setattr(c.app, "crash", crash)

    async def scenario() -> tuple[bool, bool]:
        before = await c._commit({events: 6})
        output_failed(c.app, KafkaTimeoutError("batch expired"))
        await asyncio.sleep(0)
        after = await c._commit({events: 9})
        return before, after

    assert asyncio.run(scenario()) == (True, False)
    assert committed == [{events: 6}], "nothing committed once an output batch was lost"
    assert [type(e) for e in crashed] == [KafkaTimeoutError]


def test_acknowledgements_that_arrive_while_a_partition_is_revoked_do_not_reach_the_next_assignment(
    consumer: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    """faust clears a revoked partition's acknowledgements, then waits for its streams, whose late
    acknowledgements filled the lists again: the next assignment began with offsets above a commit
    never made, and a spurious heal."""
    c, _, (events, seeks) = consumer
    monkeypatch.setattr(c.app.topics, "acks_enabled_for", lambda topic: True)
    in_flight = [_message(c, events, o) for o in (5, 6, 7)]
    c.processed(in_flight)
    processed_but_not_acknowledged = _message(c, events, 8)
    c.processed([processed_but_not_acknowledged])

    async def app_revoked(revoked: set[TP]) -> None:  # the app's part: its streams finish meanwhile
        for m in in_flight:
            assert c.ack(m) is True

    monkeypatch.setattr(c, "_on_partitions_revoked", app_revoked)
    c.loop.run_until_complete(c.on_partitions_revoked({events}))
    assert events not in c._acked and events not in c._acked_index
    assert (events, 8) not in c._processed, "a later copy of 8 is acknowledged only once processed again"
    c.order.sought(events, 5)  # the next assignment reads it again from its commit
    assert c._new_offset(events) is None and seeks == [] and c.heals == 0
    again = _message(c, events, 8)
    assert c.ack(again) is False and c.unprocessed_acks == 1


class _Fetcher:
    """aiokafka's fetcher as faust's ``_fetch_records`` uses it; ``during`` runs while it waits."""

    def __init__(self, records: dict[Any, list[Any]], during: Any) -> None:
        self._closed, self.records, self.during = False, records, during
        self._subscriptions = SimpleNamespace(fetch_context=contextlib.nullcontext)

    async def fetched_records(self, partitions: Any, timeout: Any = None, max_records: Any = None) -> Any:
        self.during()
        return self.records


class _Client:
    """aiokafka's consumer: its assignment, and the seeks made on it."""

    def __init__(self, fetcher: _Fetcher, assigned: set[Any]) -> None:
        self._fetcher, self._closed, self.assigned = fetcher, False, assigned
        self.seeks: list[tuple[Any, int]] = []

    def assignment(self) -> set[Any]:
        return self.assigned

    def seek(self, tp: Any, offset: int) -> None:
        self.seeks.append((tp, offset))


def _fetch_across(rebalance: str) -> tuple[Any, _Client]:
    """One fetch of two changelog partitions on the consumer thread, with ``rebalance`` happening while it waits."""
    groups0, groups3, gone = TP("app-groups-changelog", 0), TP("app-groups-changelog", 3), TP("app-groups-changelog", 5)
    app = SimpleNamespace(consumer_generation_id=4)
    order = InputOrder({"events"})
    thread = _FetchWaitThread.__new__(_FetchWaitThread)
    thread.app, thread.consumer = app, SimpleNamespace(order=order, flow_active=True)  # type: ignore[assignment]

    def during() -> None:
        if rebalance == "generation":
            app.consumer_generation_id = 5
        elif rebalance == "revocation":
            order.forget([gone])

    records = {groups0: [SimpleNamespace(offset=o) for o in range(0, 30)],
               groups3: [SimpleNamespace(offset=o) for o in range(7, 9)],
               gone: [SimpleNamespace(offset=2)]}
    client = _Client(_Fetcher(records, during), {groups0, groups3})
    return asyncio.run(thread._fetch_records(client, set(records), timeout=1.0)), client


def test_a_fetch_that_outlives_a_rebalance_gives_its_records_back() -> None:
    """The disk store's recovery stall: a fetch of the generation before took the changelog
    records the new recovery had sought back to, and nobody handed them over."""
    for rebalance in ("generation", "revocation"):
        records, client = _fetch_across(rebalance)
        assert records == {}, rebalance
        assert client.seeks == [(TP("app-groups-changelog", 0), 0), (TP("app-groups-changelog", 3), 7)], \
            "each partition still assigned back to its first record taken"


def test_a_fetch_within_one_generation_is_handed_over_untouched() -> None:
    records, client = _fetch_across("none")
    assert sum(len(batch) for batch in records.values()) == 33 and client.seeks == []


def test_resuming_a_running_flow_keeps_what_the_streams_queues_hold() -> None:
    """A recovery's end resumes the flow that its start already resumed, just after seeking the
    inputs to their commits: the first record handed over in between was emptied from its queue
    (fault campaign of 2026-12-06, "1 of 2 workers SIGKILLed for good")."""
    app = build_app(Settings()).app
    flow = app.flow_control
    assert isinstance(flow, FlowControl)
    queue = app.FlowControlQueue(maxsize=10, clear_on_resume=True)
    flow.resume()
    queue.put_nowait("the first record after the commit")
    flow.resume()  # the recovery's end, the flow running
    assert queue.qsize() == 1, "a resume of a running flow emptied a stream's queue"

    flow.suspend()  # a rebalance: what is queued belongs to the generation before
    queue.put_nowait("stale")
    flow.resume()
    assert queue.qsize() == 0, "a resume after a suspension must empty the queues, as faust's does"
    assert flow.is_active()


def test_a_hand_over_that_waits_for_room_finishes_in_order(consumer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """Most records are handed over in one step; one that meets a full stream queue is finished in a
    task (raced against the flow's suspension) and still arrives in order."""
    c, _, (events, _) = consumer
    queue: asyncio.Queue[int] = asyncio.Queue(maxsize=2)
    received: list[int] = []

    async def deliver(message: Record) -> None:
        await queue.put(message.offset)

    async def stream() -> None:
        while len(received) < 20:
            received.append(await queue.get())
            await asyncio.sleep(0.001)

    monkeypatch.setattr(c, "callback", deliver)

    async def both() -> None:
        await asyncio.gather(c._hand_over(batch(*((events, offset) for offset in range(5, 25)))), stream())

    c.loop.run_until_complete(both())
    assert received == list(range(5, 25)) and c.order.next_offset(events) == 25


def test_a_hand_over_waiting_when_the_flow_is_suspended_is_withdrawn(consumer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """A full queue that nobody drains (a rebalance has stopped the streams): the suspension ends the
    wait, the record is not handed over, and the queue keeps no waiter of it."""
    c, _, (events, _) = consumer
    queue: asyncio.Queue[int] = asyncio.Queue(maxsize=1)
    queue.put_nowait(-1)

    async def deliver(message: Record) -> None:
        await queue.put(message.offset)

    monkeypatch.setattr(c, "callback", deliver)

    async def suspend_later() -> None:
        await asyncio.sleep(0.05)
        c.suspend_flow.set()

    async def both() -> Any:
        delivered, _ = await asyncio.gather(c._deliver(Record(events.topic, 5)), suspend_later())
        return delivered

    delivered = c.loop.run_until_complete(both())
    c.loop.run_until_complete(asyncio.sleep(0.01))  # the cancelled task's cleanup runs
    assert delivered is False and list(queue._queue) == [-1]  # type: ignore[attr-defined]
    assert not queue._putters  # type: ignore[attr-defined]


def test_a_hand_over_whose_wait_fails_raises_its_error(consumer: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    c, _, (events, _) = consumer

    async def deliver(message: Record) -> None:
        waiting: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        asyncio.get_running_loop().call_later(0.01, waiting.set_exception, RuntimeError("queue broken"))
        await waiting

    monkeypatch.setattr(c, "callback", deliver)
    with pytest.raises(RuntimeError, match="queue broken"):
        c.loop.run_until_complete(c._deliver(Record(events.topic, 5)))


def test_a_stopped_consumer_hands_nothing_over_as_delivered(consumer: Any) -> None:
    """As faust's race with the service's stop: a record handed over in one step after the stop
    is not counted as delivered (it is read again from the commit)."""
    c, handed, (events, _) = consumer
    c._stopped.set()
    assert c.loop.run_until_complete(c._deliver(Record(events.topic, 5))) is False


def test_no_commit_passes_a_record_whose_state_is_staged_but_not_written(consumer: Any) -> None:
    """The agents write their states per interval: until then, the commit stops below the first
    record they came from, and a rebalance (whose seek reads them again) drops the hold."""
    c, _, (events, _) = consumer
    c._committed_offset[events] = 5
    c.processed([])
    c.hold([_message(c, events, 7), _message(c, events, 8)])
    c.hold([_message(c, events, 9)])  # a later batch keeps the first held record
    c._acked[events].extend([5, 6, 7, 8])
    c._acked_index[events].update([5, 6, 7, 8])
    assert c._new_offset(events) == 7
    assert list(c._acked[events]) == [7, 8], "what is held stays acknowledged for the next commit"
    c._committed_offset[events] = 7
    assert c._new_offset(events) is None and c.heals == 0, "the held record is the commit itself"
    c.release([events])
    assert c._new_offset(events) == 9
    c.hold([_message(c, events, 9)])
    c.loop.run_until_complete(c.on_partitions_revoked({events}))
    assert events not in c._unwritten
