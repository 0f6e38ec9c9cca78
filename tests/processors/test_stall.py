"""What the heartbeat does about a stall: stacks and await chains logged, input partitions resumed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, MutableMapping
from types import SimpleNamespace
from typing import Any

from faust.types import TP
from structlog.testing import capture_logs

from deskwatch.processors.stall import (
    await_chain,
    dump_stacks,
    on_recovery_stall,
    on_stall,
    recovery_whereabouts,
    reread_changelogs,
)


def test_dump_stacks_logs_threads_and_task_await_chains() -> None:
    async def main() -> list[MutableMapping[str, Any]]:
        with capture_logs() as logs:
            dump_stacks(SimpleNamespace(loop=asyncio.get_running_loop()))
            await asyncio.sleep(0.05)  # the task dump runs on the loop
        return logs

    logs = asyncio.run(main())
    threads = [e for e in logs if e["event"] == "processor thread stack"]
    tasks = [e["awaiting"] for e in logs if e["event"] == "processor task stack"]
    assert any(e["thread"] == "MainThread" and "dump_stacks" in e["stack"] for e in threads)
    assert any(t.startswith("main (test_stall.py:") and "sleep (tasks.py:" in t for t in tasks), tasks


def test_await_chain_goes_through_async_generators() -> None:
    gate = asyncio.Event()

    async def records() -> AsyncIterator[int]:
        await gate.wait()
        yield 1

    async def drain() -> None:
        async for _ in records():
            pass

    async def main() -> list[str]:
        task = asyncio.create_task(drain())
        await asyncio.sleep(0.01)
        chain = await_chain(task.get_coro())
        gate.set()
        await task
        return chain

    chain = asyncio.run(main())
    assert [c.split(" ")[0] for c in chain[:3]] == ["drain", "records", "wait"], chain


class FakeConsumer:
    """faust's consumer bookkeeping, as far as the resume touches it."""

    def __init__(self, assigned: set[Any], paused: set[Any]) -> None:
        self.assigned, self.paused, self.flow_active = assigned, set(paused), False
        self.seeks: list[tuple[Any, int]] = []

    def assignment(self) -> set[Any]:
        return self.assigned

    def resume_partitions(self, tps: set[Any]) -> None:
        self.paused -= tps

    def resume_flow(self) -> None:
        self.flow_active = True

    async def seek(self, tp: Any, offset: int) -> None:
        self.seeks.append((tp, offset))


def test_on_stall_resumes_and_reseeks_the_inputs_and_only_them() -> None:
    events0, events1, changelog = TP("events", 0), TP("events", 1), TP("app-hosts-changelog", 0)
    consumer = FakeConsumer({events0, events1, changelog}, {events0, changelog})
    flow = SimpleNamespace(resumed=False)
    waiting = (("events", 1, 7), ("signals", 3, 2))  # signals[3] is no longer assigned here: not sought

    async def main() -> list[MutableMapping[str, Any]]:
        app = SimpleNamespace(loop=asyncio.get_running_loop(), consumer=consumer,
                              flow_control=SimpleNamespace(resume=lambda: setattr(flow, "resumed", True)))
        with capture_logs() as logs:
            on_stall(app, frozenset({"events"}), waiting, resume=True)
            await asyncio.sleep(0.05)
        return logs

    logs = asyncio.run(main())
    assert consumer.paused == {changelog} and consumer.flow_active and flow.resumed
    assert consumer.seeks == [(events1, 7)]
    resumed = [e for e in logs if e["event"] == "processor resumed its stalled input partitions"]
    assert resumed == [{"event": "processor resumed its stalled input partitions", "partitions": 2,
                        "seeks": ["events[1]@7"], "log_level": "warning"}]


def test_on_stall_without_resume_only_reports() -> None:
    consumer = FakeConsumer({TP("events", 0)}, {TP("events", 0)})

    async def main() -> None:
        app = SimpleNamespace(loop=asyncio.get_running_loop(), consumer=consumer, flow_control=None)
        on_stall(app, frozenset({"events"}), (("events", 0, 1),), resume=False)
        await asyncio.sleep(0.05)

    asyncio.run(main())
    assert consumer.paused == {TP("events", 0)} and not consumer.flow_active and not consumer.seeks


def test_on_stall_leaves_a_rebalance_begun_since_to_it() -> None:
    """The heartbeat saw a stall; by the time the resume runs on the loop a rebalance recovers
    tables. Resuming faust's flow control then would empty the recovery's changelog queue."""
    consumer = FakeConsumer({TP("events", 0)}, {TP("events", 0)})
    flow = SimpleNamespace(resumed=False)

    async def main(flags: dict[str, bool]) -> list[MutableMapping[str, Any]]:
        app = SimpleNamespace(loop=asyncio.get_running_loop(), consumer=consumer, **flags,
                              flow_control=SimpleNamespace(resume=lambda: setattr(flow, "resumed", True)))
        with capture_logs() as logs:
            on_stall(app, frozenset({"events"}), (("events", 0, 3),), resume=True)
            await asyncio.sleep(0.05)
        return logs

    for flags in ({"in_recovery": True, "rebalancing": True}, {"in_recovery": False, "rebalancing": True}):
        logs = asyncio.run(main(flags))
        assert not flow.resumed and consumer.paused == {TP("events", 0)} and not consumer.seeks, flags
        assert [e["event"] for e in logs if "stack" not in e["event"]] == [
            "stalled input partitions left to the rebalance under way"], flags


def test_a_resume_that_fails_on_the_loop_is_logged() -> None:
    class Refusing(FakeConsumer):
        async def seek(self, tp: Any, offset: int) -> None:
            raise RuntimeError("consumer stopped")

    consumer = Refusing({TP("events", 0)}, set())

    async def main() -> list[MutableMapping[str, Any]]:
        app = SimpleNamespace(loop=asyncio.get_running_loop(), consumer=consumer,
                              flow_control=SimpleNamespace(resume=lambda: None))
        with capture_logs() as logs:
            on_stall(app, frozenset({"events"}), (("events", 0, 3),), resume=True)
            await asyncio.sleep(0.05)
        return logs

    logs = asyncio.run(main())
    assert [(e["event"], e.get("error")) for e in logs if "stack" not in e["event"]] == [
        ("stalled input partitions not resumed", "RuntimeError('consumer stopped')")]


class RecoveringConsumer(FakeConsumer):
    """The consumer as a stalled table recovery leaves it: flowing, its changelogs assigned."""

    def __init__(self, assigned: set[Any]) -> None:
        super().__init__(assigned, set(assigned))
        self.flow_active = True
        self.sought: list[dict[Any, int]] = []

    async def seek_wait(self, partitions: dict[Any, int]) -> None:
        self.sought.append(dict(partitions))


def test_reread_changelogs_seeks_each_waiting_partition_to_what_recovery_applied() -> None:
    groups0, groups3 = TP("app-groups-changelog", 0), TP("app-groups-changelog", 3)
    consumer = RecoveringConsumer({groups0, groups3, TP("events", 0)})
    waiting = (("app-groups-changelog", 0, -1, 8), ("app-groups-changelog", 3, 12, 42), ("app-groups-changelog", 5, 0, 9))

    async def main() -> list[MutableMapping[str, Any]]:
        with capture_logs() as logs:
            reread_changelogs(SimpleNamespace(loop=asyncio.get_running_loop(), consumer=consumer), waiting)
            await asyncio.sleep(0.05)
        return logs

    logs = asyncio.run(main())
    assert consumer.sought == [{groups0: 0, groups3: 12}], "-1 read as 0; a partition no longer assigned left out"
    assert consumer.paused == {TP("events", 0)}, "the re-read partitions resumed, the inputs left as they were"
    assert [e["partitions"] for e in logs] == [["app-groups-changelog[0]@0", "app-groups-changelog[3]@12"]]


def test_reread_changelogs_leaves_a_rebalance_under_way_to_its_own_recovery() -> None:
    consumer = RecoveringConsumer({TP("app-groups-changelog", 0)})
    consumer.flow_active = False

    async def main() -> None:
        reread_changelogs(SimpleNamespace(loop=asyncio.get_running_loop(), consumer=consumer),
                          (("app-groups-changelog", 0, -1, 8),))
        await asyncio.sleep(0.05)

    with capture_logs() as logs:
        asyncio.run(main())
    assert consumer.sought == [] and logs == []


def test_on_recovery_stall_logs_where_it_waits_then_rereads_only_when_asked() -> None:
    groups0 = TP("app-groups-changelog", 0)

    async def main(reread: bool) -> tuple[RecoveringConsumer, list[MutableMapping[str, Any]]]:
        consumer = RecoveringConsumer({groups0})
        with capture_logs() as logs:
            on_recovery_stall(SimpleNamespace(loop=asyncio.get_running_loop(), consumer=consumer),
                              (("app-groups-changelog", 0, 4, 9),), reread=reread)
            await asyncio.sleep(0.05)
        return consumer, logs

    for reread in (True, False):
        consumer, logs = asyncio.run(main(reread))
        assert any(e["event"] == "processor thread stack" for e in logs), reread
        where = [e for e in logs if e["event"] == "table recovery stall: where its records stand"]
        assert [p["partition"] for p in where[0]["partitions"]] == ["app-groups-changelog[0]"], reread
        assert consumer.sought == ([{groups0: 4}] if reread else []), reread


def test_recovery_whereabouts_reads_the_client_and_faust_and_survives_missing_internals() -> None:
    groups0, groups1 = TP("app-groups-changelog", 0), TP("app-groups-changelog", 1)
    state = SimpleNamespace(_position=62, paused=False)
    client = SimpleNamespace(
        _subscription=SimpleNamespace(subscription=SimpleNamespace(assignment=SimpleNamespace(
            state_value=lambda tp: state if tp == groups0 else None))),
        _fetcher=SimpleNamespace(_records={}))
    consumer = SimpleNamespace(_thread=SimpleNamespace(_ensure_consumer=lambda: client),
                               _read_offset={groups0: 61}, _active_partitions={groups0}, _paused_partitions=set())
    app = SimpleNamespace(consumer=consumer, tables=SimpleNamespace(recovery=SimpleNamespace(
        active_tps={groups0, groups1}, standby_tps=set())))
    where = recovery_whereabouts(app, (("app-groups-changelog", 0, 0, 62), ("app-groups-changelog", 1, -1, 9)))
    assert where[0] == {"partition": "app-groups-changelog[0]", "applied": 0, "needed": 62, "client_position": 62,
                        "client_paused": False, "client_buffered": False, "read_offset": 61, "faust_fetching": True,
                        "faust_paused": False, "recovery_active": True, "recovery_standby": False}
    assert where[1]["client_position"] is None and where[1]["read_offset"] is None and where[1]["faust_fetching"] is False
    bare = recovery_whereabouts(SimpleNamespace(consumer=SimpleNamespace()), (("app-groups-changelog", 0, 0, 62),))
    assert set(bare[0].values()) == {"app-groups-changelog[0]", 0, 62, None}
