"""Outbox: a batch's records reach the producer in order; rejects carry reason and original bytes."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import faust
import orjson
import pytest
from aiokafka.errors import NotLeaderForPartitionError

from deskwatch.processors.disk_store import DISK_STORE_URL, DiskMapping, DiskStore, register_disk_store
from deskwatch.processors.outbox import Outbox, OutputsNotDelivered
from tests.processors.fake_producer import FakeAIOKafkaProducer, FakeFaustProducer


@dataclass
class Topic:
    name: str

    def get_topic_name(self) -> str:
        return self.name


@dataclass
class Message:
    topic: str = "p.events"
    partition: int = 3
    offset: int = 41


@dataclass
class Event:
    value: bytes
    message: Message = field(default_factory=Message)


DLQ, SIGNALS = Topic("p.dead-letter"), Topic("p.signals")


def _sent(out: Outbox) -> list[tuple[str, bytes | None, bytes, list[tuple[str, bytes]] | None]]:
    producer = FakeAIOKafkaProducer({"p.signals": 1, "p.dead-letter": 1})
    asyncio.run(out.send(FakeFaustProducer(producer)))
    assert out.records == []
    return [(topic, key, value, headers or None) for topic, _, records in producer.sent
            for key, value, headers in records]


def test_records_are_sent_in_the_order_they_were_added_per_topic_partition() -> None:
    out = Outbox(DLQ, "stage1")
    out.add(SIGNALS, b"g1", b"1")
    out.add(DLQ, b"x", b"2", [("h", b"v")])
    out.add(SIGNALS, b"g2", b"3")
    assert _sent(out) == [("p.signals", b"g1", b"1", None), ("p.signals", b"g2", b"3", None),
                          ("p.dead-letter", b"x", b"2", [("h", b"v")])]


@pytest.mark.parametrize(
    ("reject", "reason", "detail_start"),
    [
        pytest.param(lambda out, e: out.letter(e, "invalid_envelope", "events: field required"),
                     "invalid_envelope", "events: field required", id="validation"),
        pytest.param(lambda out, e: out.failed(e, KeyError("boom")), "processing_error", "KeyError: 'boom'",
                     id="core-exception"),
    ],
)
def test_rejected_records_are_dead_lettered_with_reason_position_and_original_bytes(
    reject: Callable[[Outbox, Event], None], reason: str, detail_start: str
) -> None:
    out = Outbox(DLQ, "stage1")
    original = b'{"kind":"events","host":"PC-1"\x00\xff'
    reject(out, Event(original))
    [(topic, key, value, _)] = _sent(out)
    letter = orjson.loads(value)
    assert (topic, key) == ("p.dead-letter", b"p.events")
    assert letter["reason"] == reason and letter["stage"] == "stage1"
    assert letter["detail"].startswith(detail_start)
    assert letter["position"] == "3:41"
    assert base64.b64decode(letter["original_b64"]) == original
    assert out.letters == 1


def test_a_batch_the_broker_did_not_take_crashes_the_app() -> None:
    """The producer's flush, which faust awaits before it commits, raises nothing for it."""
    producer = FakeAIOKafkaProducer({"p.signals": 1, "p.dead-letter": 1})
    producer.refuse = NotLeaderForPartitionError()
    faust_producer = FakeFaustProducer(producer)
    out = Outbox(DLQ, "stage1")
    out.add(SIGNALS, b"g1", b"1")

    async def send() -> None:
        await out.send(faust_producer)
        await asyncio.sleep(0)  # the delivery callbacks, then the crash they scheduled
        await asyncio.sleep(0)

    asyncio.run(send())
    assert [type(e) for e in faust_producer.app.crashed] == [NotLeaderForPartitionError]


def test_delivered_batches_crash_nothing() -> None:
    faust_producer = FakeFaustProducer(FakeAIOKafkaProducer({"p.signals": 1, "p.dead-letter": 1}))
    out = Outbox(DLQ, "stage1")
    out.add(SIGNALS, b"g1", b"1")

    async def send() -> None:
        await out.send(faust_producer)
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    asyncio.run(send())
    assert faust_producer.app.crashed == []


CHANGELOG = Topic("app-host-state-changelog")


@dataclass
class Table:
    """A table whose store keeps nothing across restarts (the memory store's place)."""

    changelog_topic: Topic
    data: Any = field(default_factory=dict)


TABLE = Table(CHANGELOG)


def _with_state() -> Outbox:
    out = Outbox(DLQ, "stage1")
    out.add(SIGNALS, b"g1", b"signal")
    out.write_state(TABLE, b"PC-1", [(b"i0@PC-1", b"ids"), (b"h@PC-1", b"header")])
    out.add(SIGNALS, b"g2", b"signal 2")  # an output added after the state: still sent before it
    return out


def test_the_state_is_sent_only_once_the_broker_has_every_output() -> None:
    producer = FakeAIOKafkaProducer({"p.signals": 1, "p.dead-letter": 1, CHANGELOG.name: 1})
    producer.hold = True
    out = _with_state()

    async def scenario() -> None:
        sending = asyncio.ensure_future(out.send(FakeFaustProducer(producer)))
        for _ in range(5):
            await asyncio.sleep(0)
        assert [topic for topic, _, _ in producer.sent] == ["p.signals"], "no state before the outputs are in"
        assert not sending.done()
        for future in producer.pending:
            future.set_result(None)
        await sending

    asyncio.run(scenario())
    assert [(topic, [k for k, _, _ in records]) for topic, _, records in producer.sent] == [
        ("p.signals", [b"g1", b"g2"]), (CHANGELOG.name, [b"i0@PC-1", b"h@PC-1"])]
    assert out.units == []


def test_no_state_is_sent_when_an_output_was_not_delivered() -> None:
    producer = FakeAIOKafkaProducer({"p.signals": 1, "p.dead-letter": 1, CHANGELOG.name: 1})
    producer.refuse = NotLeaderForPartitionError()
    faust_producer = FakeFaustProducer(producer)
    out = _with_state()

    async def send() -> None:
        with pytest.raises(OutputsNotDelivered):
            await out.send(faust_producer)
        await asyncio.sleep(0)
        await asyncio.sleep(0)

    asyncio.run(send())
    assert [topic for topic, _, _ in producer.sent] == ["p.signals"]
    assert [type(e) for e in faust_producer.app.crashed] == [NotLeaderForPartitionError]


def test_a_batch_with_state_and_no_output_sends_the_state_at_once() -> None:
    producer = FakeAIOKafkaProducer({"p.signals": 1, "p.dead-letter": 1, CHANGELOG.name: 1})
    out = Outbox(DLQ, "stage2")
    out.write_state(TABLE, b"g", [(b"g", b"group")])
    asyncio.run(out.send(FakeFaustProducer(producer)))
    assert producer.sent == [(CHANGELOG.name, 0, [(b"g", b"group", [])])]


def test_a_disk_store_gets_each_state_batch_once_the_broker_acknowledged_it(tmp_path: Path) -> None:
    """The state's records reach the disk store's database with the changelog offset they end at:
    what a restarted worker reads the changelog on from."""
    register_disk_store()
    app = faust.App("outbox-test", datadir=str(tmp_path / "data"))
    store = DiskStore(DISK_STORE_URL, app, None, table_name="host-state")
    store.disk.resume("topic-1")
    store.disk.hold({0}, {})
    table = Table(CHANGELOG, store)
    producer = FakeAIOKafkaProducer({"p.signals": 1, "p.dead-letter": 1, CHANGELOG.name: 1})
    producer.ends[(CHANGELOG.name, 0)] = 40  # the changelog holds 40 records already
    for host in (b"PC-1", b"PC-2"):
        out = Outbox(DLQ, "stage1")
        out.add(SIGNALS, host, b"signal")
        unit: list[tuple[bytes, bytes | None]] = [(b"i0@" + host, b"ids"), (b"h@" + host, b"header")]
        for key, value in unit:
            store[key] = value
        out.write_state(table, host, unit)

        async def send(out: Outbox = out) -> None:
            await out.send(FakeFaustProducer(producer))
            await asyncio.sleep(0)  # the deliveries' callbacks

        asyncio.run(send())
    assert store.disk.persisted_offset(0) == 43  # 40-41 PC-1's records, 42-43 PC-2's
    store.disk.close()
    again = DiskMapping(store.disk.path)
    assert again.resume("topic-1") is None
    assert sorted(again) == [b"h@PC-1", b"h@PC-2", b"i0@PC-1", b"i0@PC-2"]
    again.close()
