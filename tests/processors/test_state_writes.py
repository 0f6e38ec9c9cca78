"""When an agent's staged states are written (``StateWrites``), shown on a host table's."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.errors import NotLeaderForPartitionError
from faust.types import TP

from deskwatch.processors.in_order import InOrderApp, InOrderConsumer, InputOrder
from deskwatch.processors.outbox import Outbox, OutputsNotDelivered
from deskwatch.processors.state_writes import StateWrites
from tests.processors.fake_producer import FakeAIOKafkaProducer, FakeFaustProducer
from tests.processors.test_outbox import CHANGELOG, DLQ, SIGNALS, TABLE
EVENTS = TP("p.events", 0)


@dataclass
class States:
    """A host table as StateWrites uses it: staged keys, flushed as one unit each."""

    pending: list[str] = field(default_factory=list)

    @property
    def staged(self) -> int:
        return len(self.pending)

    def flush(self, write: Any) -> int:
        staged, self.pending = self.pending, []
        for host in staged:
            write(TABLE, host.encode(), [(f"h@{host}".encode(), b"state")])
        return len(staged)


class Consumer(InOrderConsumer):
    """Only the hold bookkeeping of the processor's consumer (not started)."""

    def __init__(self) -> None:
        self._unwritten: dict[TP, int] = {}
        self.order = InputOrder([EVENTS.topic])


def _event(offset: int) -> Any:
    return SimpleNamespace(message=SimpleNamespace(tp=EVENTS, topic=EVENTS.topic, offset=offset))


def _setup(interval_s: float, max_keys: int = 100) -> tuple[StateWrites, States, FakeAIOKafkaProducer, Consumer]:
    producer = FakeAIOKafkaProducer({"p.signals": 1, "p.dead-letter": 1, CHANGELOG.name: 1})
    consumer = Consumer()
    app = SimpleNamespace(consumer=consumer, crashed=[])
    app.producer = FakeFaustProducer(producer, app)
    states = States()
    return StateWrites(app, states, interval_s, max_keys), states, producer, consumer  # type: ignore[arg-type]


def _batch(states: States, host: str) -> Outbox:
    out = Outbox(DLQ, "stage1")
    out.add(SIGNALS, host.encode(), b"signal")
    states.pending.append(host)
    return out


def _topics(producer: FakeAIOKafkaProducer) -> list[str]:
    return [topic for topic, _, _ in producer.sent]


def test_within_the_interval_outputs_go_out_and_the_state_waits_with_the_commit_held() -> None:
    writes, states, producer, consumer = _setup(interval_s=60.0)

    async def scenario() -> None:
        await writes.after_batch(_batch(states, "PC-1"), [_event(3)])
        await writes.after_batch(_batch(states, "PC-2"), [_event(4)])

    asyncio.run(scenario())
    assert _topics(producer) == ["p.signals", "p.signals"], "no state written yet"
    assert consumer._unwritten == {EVENTS: 3} and writes.holding and states.staged == 2


def test_a_due_write_waits_for_every_held_output_then_sends_the_state_and_releases_the_commit() -> None:
    writes, states, producer, consumer = _setup(interval_s=60.0)

    async def scenario() -> None:
        producer.hold = True  # the first batch's output is not acknowledged yet
        await writes.after_batch(_batch(states, "PC-1"), [_event(3)])
        producer.hold = False
        writing = asyncio.ensure_future(writes.write(Outbox(DLQ, "stage1")))
        for _ in range(5):
            await asyncio.sleep(0)
        assert _topics(producer) == ["p.signals"] and not writing.done(), "no state before its outputs are in"
        for future in producer.pending:
            future.set_result(None)
        await writing

    asyncio.run(scenario())
    assert _topics(producer) == ["p.signals", CHANGELOG.name]
    assert consumer._unwritten == {} and not writes.holding


def test_a_batch_after_the_interval_or_with_enough_keys_staged_writes_at_once() -> None:
    for interval_s, max_keys in ((0.0, 100), (60.0, 1)):
        writes, states, producer, consumer = _setup(interval_s, max_keys)
        asyncio.run(writes.after_batch(_batch(states, "PC-1"), [_event(3)]))
        assert _topics(producer) == ["p.signals", CHANGELOG.name], (interval_s, max_keys)
        assert consumer._unwritten == {} and not writes.holding


def test_a_held_output_the_broker_refused_stops_the_write_and_keeps_the_commit_held() -> None:
    writes, states, producer, consumer = _setup(interval_s=60.0)
    producer.refuse = NotLeaderForPartitionError()

    async def scenario() -> None:
        await writes.after_batch(_batch(states, "PC-1"), [_event(3)])
        producer.refuse = None
        with pytest.raises(OutputsNotDelivered):
            await writes.write(Outbox(DLQ, "stage1"))

    asyncio.run(scenario())
    assert _topics(producer) == ["p.signals"] and consumer._unwritten == {EVENTS: 3}


class StoppingConsumer:
    """What ``InOrderApp``'s wait for the streams calls on its consumer, counted."""

    def __init__(self, output_failure: BaseException | None = None) -> None:
        self.output_failure = output_failure
        self.calls: list[str] = []

    async def wait_empty(self) -> None:
        self.calls.append("wait_empty")

    async def commit_and_end_transactions(self) -> None:
        self.calls.append("commit")


@pytest.mark.parametrize(("how", "written"), [
    ("stopped", True), ("rebalance", False), ("crashed", False), ("output lost", False)])
def test_staged_states_are_written_and_committed_past_only_when_the_worker_stops_cleanly(
        how: str, written: bool) -> None:
    app = InOrderApp(f"stop-{how.replace(' ', '-')}")
    consumer = StoppingConsumer(RuntimeError("batch expired") if how == "output lost" else None)

    async def write() -> None:
        consumer.calls.append("write")

    app.writes_on_stop.append(write)
    if how != "rebalance":
        app._stopped.set()
    if how == "crashed":
        app._crashed.set()
    asyncio.run(app._consumer_wait_empty(consumer, app.log))
    assert consumer.calls == (["wait_empty", "write", "commit"] if written else ["wait_empty"])


def test_a_write_at_stop_that_fails_leaves_the_stop_to_go_on() -> None:
    app = InOrderApp("stop-failed-write")
    consumer = StoppingConsumer()

    async def write() -> None:
        raise OutputsNotDelivered("stage1: an output batch was not delivered")

    app.writes_on_stop.append(write)
    app._stopped.set()
    asyncio.run(app._consumer_wait_empty(consumer, app.log))
    assert consumer.calls == ["wait_empty"]


def test_a_write_at_stop_that_does_not_end_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("deskwatch.processors.in_order.WRITE_ON_STOP_TIMEOUT_S", 0.05)
    app = InOrderApp("stop-stuck-write")
    consumer = StoppingConsumer()

    async def write() -> None:
        await asyncio.sleep(3600)  # the outputs' deliveries never resolve: a broker gone

    app.writes_on_stop.append(write)
    app._stopped.set()
    asyncio.run(app._consumer_wait_empty(consumer, app.log))
    assert consumer.calls == ["wait_empty"]
