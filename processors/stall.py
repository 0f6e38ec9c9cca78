"""What the heartbeat does about a worker that stalls: say where it waits, then resume its inputs.

A stall is a worker with input partitions assigned and records waiting on them that receives none
of them while it is neither rebalancing nor recovering. Seen here after long table recoveries on a
loaded machine (a memory bench's worker recovered 200k state records, then never read the record
waiting on its input), and in a CI run's worker restarted after a SIGKILL. In both, faust's flow
was active and no input partition paused, so resuming alone (what faust itself does when a
recovery completes) changed nothing; what recovers the worker is seeking each waiting partition
back to its committed offset (see ``positions.py`` and ``in_order.py`` for how faust's own fetch
loop can pass records by).
Delivery stays at-least-once: offsets are still committed only after the agents processed them.

A table recovery can stall the same way, and faust never leaves it by itself (a recovery is not
counted towards the heartbeat's exit). Seen on the fault campaign's "1 of 2 workers SIGKILLed for
good" rows with the disk store, 3 row runs in 25: the survivor's recovery of the partitions it took
over read nothing more of two ``groups`` changelog partitions. The client had fetched them to their
end; faust's recovery had applied none of their records (its offsets stayed at -1) and waited for
them until the row's time ran out. The records were taken by a fetch of the generation before,
which outlived its rebalance (in_order.py, ``_FetchWaitThread._fetch_records``, now gives them
back: 0 stalls in 24 row runs since, 3 in 24 the same day before). In case another path drops
them, the re-read stays. It is faust's own recovery step done again: seek each partition still
waited on back to the last offset applied, and resume it (``reread_changelogs``). The recovery skips every record at or
below what it applied, so reading them again changes nothing else.

Another path to such a loss was deskwatch's own (not the one those rows took): the stall resume
is decided in the heartbeat's thread and runs later on the loop, and resuming mode's flow
control there emptied every queue it manages, the recovery's changelog queue included, even when
the flow already ran. A rebalance begun in between makes the resume do nothing
(``_rebalancing``), and the app's flow control is now ``FlowControl`` (in_order.py), whose resume
of a running flow empties nothing.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import sys
import threading
import traceback
from collections.abc import Callable, Coroutine
from typing import Any

import structlog
from faust.types import TP

from deskwatch.processors.heartbeat import Recovering, Waiting

log = structlog.get_logger(__name__)


def dump_stacks(app: Any) -> None:
    """Log every thread's stack now, and every asyncio task's await chain when the loop runs it."""
    names = {t.ident: t.name for t in threading.enumerate()}
    for ident, frame in sys._current_frames().items():  # noqa: SLF001 - the documented way to read them
        log.warning("processor thread stack", thread=names.get(ident, ident),
                    stack="".join(traceback.format_stack(frame)[-12:]))

    def tasks() -> None:
        for task in asyncio.all_tasks():
            log.warning("processor task stack", task=task.get_name(), awaiting=" <- ".join(await_chain(task.get_coro())))

    app.loop.call_soon_threadsafe(tasks)


def await_chain(coro: Any, depth: int = 24) -> list[str]:
    """Where a suspended coroutine waits: each frame of its ``await`` chain, outermost first
    (through coroutines, generators and async generators)."""
    chain: list[str] = []
    while coro is not None and len(chain) < depth:
        frame = getattr(coro, "cr_frame", None) or getattr(coro, "gi_frame", None) or getattr(coro, "ag_frame", None)
        if frame is not None:
            chain.append(f"{frame.f_code.co_name} ({frame.f_code.co_filename.rsplit('/', 2)[-1]}:{frame.f_lineno})")
        coro = (getattr(coro, "cr_await", None) or getattr(coro, "gi_yieldfrom", None)
                or getattr(coro, "ag_await", None))
        if coro is not None and not hasattr(coro, "cr_frame") and not hasattr(coro, "ag_frame"):
            coro = _generator_behind(coro) or coro  # ``async for``: an asend object wraps the generator
    return chain


def _generator_behind(awaitable: Any) -> Any:
    """The async generator an ``asend``/``athrow`` awaitable drives (it exposes no attribute for it)."""
    return next((r for r in gc.get_referents(awaitable) if hasattr(r, "ag_frame")), None)


def resume_inputs(app: Any, inputs: frozenset[str], waiting: Waiting) -> None:
    """On the event loop: resume the assigned input partitions and the consumer's flow, and seek each
    partition with records waiting back to its committed offset (records a cancelled fetch had
    taken off the client's buffer are read again; anything re-read is idempotent downstream).

    The heartbeat decides in its own thread; by the time this runs, a rebalance may have begun.
    Then nothing is done: that rebalance seeks the inputs itself and resumes the flow when its
    recovery ends. (Resuming faust's flow control during the recovery emptied the changelog queue of
    records the recovery still needed; the app's ``FlowControl`` no longer empties a running flow's
    queues, but a resume from here would still come before the rebalance's own seeks.)"""

    async def resume() -> None:
        if _rebalancing(app):
            log.warning("stalled input partitions left to the rebalance under way")
            return
        consumer = app.consumer
        tps = {tp for tp in consumer.assignment() if tp.topic in inputs}
        consumer.resume_partitions(tps)
        app.flow_control.resume()
        consumer.resume_flow()
        sought = [(t, p, o) for t, p, o in waiting if TP(t, p) in tps]
        for topic, partition, offset in sought:
            await consumer.seek(TP(topic, partition), offset)
        log.warning("processor resumed its stalled input partitions", partitions=len(tps),
                    seeks=[f"{t}[{p}]@{o}" for t, p, o in sought])

    _on_loop(app, resume(), "stalled input partitions not resumed")


def reread_changelogs(app: Any, recovering: Recovering) -> None:
    """On the event loop: seek each changelog partition a table recovery still waits on back to the
    last offset it applied (faust's own recovery seek: that offset, -1 read as 0) and resume it.
    faust's recovery skips records at or below what it applied, so reading them again is idempotent."""

    async def reread() -> None:
        consumer = app.consumer
        if not consumer.flow_active:  # a rebalance is under way: its own recovery seeks them
            return
        assigned = consumer.assignment()
        positions = {TP(t, p): max(have, 0) for t, p, have, _ in recovering if TP(t, p) in assigned}
        if positions:
            await consumer.seek_wait(positions)
            consumer.resume_partitions(set(positions))
            log.warning("changelog partitions read again from what the recovery applied",
                        partitions=[f"{tp.topic}[{tp.partition}]@{offset}" for tp, offset in sorted(positions.items())])

    _on_loop(app, reread(), "changelog partitions not read again")


def _rebalancing(app: Any) -> bool:
    """faust is rebalancing or recovering tables (it sets both flags through a recovery)."""
    return bool(getattr(app, "rebalancing", False) or getattr(app, "in_recovery", False))


def _on_loop(app: Any, work: Coroutine[Any, Any, None], failed: str) -> None:
    """Run ``work`` on the app's event loop from the heartbeat's thread; log ``failed`` if it raises."""

    def done(future: concurrent.futures.Future[None]) -> None:
        if not future.cancelled() and future.exception() is not None:
            log.warning(failed, error=repr(future.exception()))

    asyncio.run_coroutine_threadsafe(work, app.loop).add_done_callback(done)


def on_stall(app: Any, inputs: frozenset[str], waiting: Waiting, resume: bool) -> None:
    """Where it waits, then (``resume``) the inputs resumed and re-sought."""
    dump_stacks(app)
    if resume:
        resume_inputs(app, inputs, waiting)


def on_recovery_stall(app: Any, recovering: Recovering, reread: bool) -> None:
    """Where it waits (faust's recovery task among the stacks) and where each partition's records
    stand, then (``reread``) the changelog partitions it waits on read again."""
    log.warning("table recovery stall: where its records stand", partitions=recovery_whereabouts(app, recovering),
                changelog_queue=_attempt(lambda: app.tables.changelog_queue.qsize()),
                recovery_buffers=_attempt(lambda: {t.name: len(b) for t, b in app.tables.recovery.buffers.items()}))
    dump_stacks(app)
    if reread:
        reread_changelogs(app, recovering)


def recovery_whereabouts(app: Any, recovering: Recovering) -> list[dict[str, Any]]:
    """For each changelog partition a stalled recovery waits on, where its records could be: the
    client's position and buffer (aiokafka), faust's read offset and partition sets, and whether
    faust's recovery counts it as active or standby. Internals of both, read as they are from the
    heartbeat's thread: for diagnosis only (a value that cannot be read is ``None``)."""
    client = _attempt(lambda: app.consumer._thread._ensure_consumer())
    return [{"partition": f"{topic}[{partition}]", "applied": have, "needed": need,
             **_whereabouts(app, client, TP(topic, partition))}
            for topic, partition, have, need in recovering]


def _whereabouts(app: Any, client: Any, tp: TP) -> dict[str, Any]:
    consumer, recovery = app.consumer, _attempt(lambda: app.tables.recovery)
    state = _attempt(lambda: client._subscription.subscription.assignment.state_value(tp))
    active = _attempt(lambda: consumer._active_partitions)
    return {
        "client_position": _attempt(lambda: state._position),
        "client_paused": _attempt(lambda: state.paused),
        "client_buffered": _attempt(lambda: tp in client._fetcher._records),
        "read_offset": _attempt(lambda: dict(consumer._read_offset).get(tp)),
        "faust_fetching": None if active is None else tp in active,
        "faust_paused": _attempt(lambda: tp in consumer._paused_partitions),
        "recovery_active": _attempt(lambda: tp in recovery.active_tps),
        "recovery_standby": _attempt(lambda: tp in recovery.standby_tps),
    }


def _attempt(read: Callable[[], Any]) -> Any:
    """``read()``, or None when the internals it reads are not there (another version, not started)."""
    try:
        return read()
    except Exception:  # noqa: BLE001 - a diagnosis never takes the heartbeat down
        return None
