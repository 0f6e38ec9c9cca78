"""What the heartbeat does about a stall: stacks and await chains logged, input partitions resumed."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from types import SimpleNamespace
from typing import Any, NamedTuple

from structlog.testing import capture_logs

from deskwatch.processors.stall import await_chain, dump_stacks, on_stall


class TP(NamedTuple):
    topic: str
    partition: int


def test_dump_stacks_logs_threads_and_task_await_chains() -> None:
    async def main() -> list[dict[str, Any]]:
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

    def __init__(self, assigned: set[TP], paused: set[TP]) -> None:
        self.assigned, self.paused, self.flow_active = assigned, set(paused), False

    def assignment(self) -> set[TP]:
        return self.assigned

    def resume_partitions(self, tps: set[TP]) -> None:
        self.paused -= tps

    def resume_flow(self) -> None:
        self.flow_active = True


def test_on_stall_resumes_the_inputs_and_only_them() -> None:
    events, changelog = TP("events", 0), TP("app-hosts-changelog", 0)
    consumer = FakeConsumer({events, changelog}, {events, changelog})
    flow = SimpleNamespace(resumed=False)

    async def main() -> list[dict[str, Any]]:
        app = SimpleNamespace(loop=asyncio.get_running_loop(), consumer=consumer,
                              flow_control=SimpleNamespace(resume=lambda: setattr(flow, "resumed", True)))
        with capture_logs() as logs:
            on_stall(app, frozenset({"events"}), resume=True)
            await asyncio.sleep(0.05)
        return logs

    logs = asyncio.run(main())
    assert consumer.paused == {changelog} and consumer.flow_active and flow.resumed
    resumed = [e for e in logs if e["event"] == "processor resumed its stalled input partitions"]
    assert resumed == [{"event": "processor resumed its stalled input partitions", "partitions": 1,
                        "log_level": "warning"}]


def test_on_stall_without_resume_only_reports() -> None:
    consumer = FakeConsumer({TP("events", 0)}, {TP("events", 0)})

    async def main() -> None:
        app = SimpleNamespace(loop=asyncio.get_running_loop(), consumer=consumer, flow_control=None)
        on_stall(app, frozenset({"events"}), resume=False)
        await asyncio.sleep(0.05)

    asyncio.run(main())
    assert consumer.paused == {TP("events", 0)} and not consumer.flow_active
