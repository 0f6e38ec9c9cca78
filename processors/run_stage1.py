"""Stage 1's agent: host envelopes in; signals, digests and dead letters out (thin over the core).

Records are taken in batches: each envelope is processed in order and each host's state staged,
then the batch's outputs are sent (see ``outbox``). The staged states are written once
``processor.state_write_interval_s`` has passed since the last write (``StateWrites``), after
every output they imply; until then the consumer commits nothing past the first record they hold.

Decision: states are written per interval, not per batch. A live workstation sends one event per
envelope, and a live batch (``batch_within_s``) holds a few hundred envelopes of as many hosts, so a
per-batch write was a host's header, id bucket and content shard encoded, compressed and sent per
event. In process (stage 1 and its table, 112,002 one-event envelopes of 500 hosts, median of 3,
2026-12-07): the table's staging and writes cost 79.4 us per envelope written every 187
envelopes (0.1 s at 1,875 events/s), 53.3 every 937 (0.5 s), 40.4 every 1,875 (1 s), against the
core's 85-90. A backlog's batches each take longer than the interval, so its writes are as
before. The cost: a crash or a rebalance reads up to an interval's more input again (absorbed by
exact dedup, as every replay), and the last records' commit waits up to an interval longer.
"""

from __future__ import annotations

import asyncio
from typing import Any, Final

import faust
import structlog
from pydantic import ValidationError

from deskwatch.processors.encode import encoder
from deskwatch.processors.in_order import hold_unwritten, mark_processed, release_unwritten
from deskwatch.processors.outbox import Outbox
from deskwatch.processors.stage1 import Stage1
from deskwatch.processors.stage1.decision import DecisionKind, Stage1Result
from deskwatch.processors.host_table import HostStateTable
from deskwatch.processors.wiring import Wiring, forget_on_rebalance, record_time, summarise
from deskwatch.schemas import Tick, read_events_record
from deskwatch.schemas.envelope import EnvelopeView
from deskwatch.schemas.event import event_json
from deskwatch.schemas.digest import EventDigest
from deskwatch.schemas.signal import Signal
from deskwatch.settings import ProcessorSettings

log = structlog.get_logger(__name__)
_ENCODE_SIGNAL: Final = encoder(Signal)
_ENCODE_DIGEST: Final = encoder(EventDigest)


def attach_stage1(app: faust.App, wiring: Wiring, core: Stage1, p: ProcessorSettings) -> HostStateTable:
    """One agent, concurrency 1 (more could commit past an in-flight envelope); returns the host
    states' table view, whose cache the heartbeat reports."""
    states = HostStateTable(wiring.host_state, p.state_cache_max, p.state_cache_max_mib << 20)
    writes = StateWrites(app, states, p.state_write_interval_s, p.state_write_max_hosts)

    @app.agent(wiring.events, concurrency=1, name="stage1")
    async def stage1(stream: Any) -> None:
        first = True
        async for events in stream.take_events(p.batch_max_records, within=p.batch_within_s):
            if first:  # when processing began, for the operator (and the bench's warm-up)
                log.info("stage 1 first batch", records=len(events))
                first = False
            async with writes.lock:  # no write of the timer's comes between a record and its state
                out = Outbox(wiring.dead_letters, "stage1")
                for event in events:
                    _envelope(wiring, core, states, out, event)
                await writes.after_batch(out, events)
            mark_processed(app, events)  # only now may faust's ack let a commit pass them

    # faust's App.timer is annotated to return a bare Callable, which mypy calls untyped
    @app.timer(interval=p.state_write_interval_s, name="stage1-state-writes")  # type: ignore[untyped-decorator]
    async def write_held_states() -> None:
        """An idle input brings no batch: what the last ones staged is written all the same."""
        async with writes.lock:
            if writes.holding:
                await writes.write(Outbox(wiring.dead_letters, "stage1"))

    forget_on_rebalance(app, states)
    return states


class StateWrites:
    """When stage 1's staged host states are written: after a batch once ``interval_s`` has passed
    since the last write or ``max_hosts`` hosts are staged, else by the timer; meanwhile the
    consumer holds its commits below the first record they came from (``hold_unwritten``), and the
    outputs of the batches held are awaited before their state is sent (``Outbox.send``)."""

    def __init__(self, app: faust.App, states: HostStateTable, interval_s: float, max_hosts: int) -> None:
        self.lock = asyncio.Lock()
        self._app, self._states, self._interval_s, self._max_hosts = app, states, interval_s, max_hosts
        self._held: set[Any] = set()  # the input partitions whose commits are held
        self._outputs: list[asyncio.Future[Any]] = []  # the held batches' output deliveries
        self._since: float | None = None  # loop time of the first batch held

    @property
    def holding(self) -> bool:
        return self._since is not None

    async def after_batch(self, out: Outbox, events: list[Any]) -> None:
        """Send a processed batch's outputs; write the staged states too when they are due."""
        now = asyncio.get_running_loop().time()
        if self._since is None:
            self._since = now
        self._held.update(event.message.tp for event in events)
        hold_unwritten(self._app, events)
        if now - self._since >= self._interval_s or self._states.staged >= self._max_hosts:
            await self.write(out)
        else:
            self._outputs.extend(await out.send(self._app.producer))
            self._outputs = [f for f in self._outputs if not f.done() or f.cancelled() or f.exception() is not None]

    async def write(self, out: Outbox) -> None:
        """Write every staged state into ``out`` after its outputs and the held batches', then
        let commits pass the records they came from."""
        self._states.flush(out.write_state)
        held, outputs = self._held, self._outputs
        self._held, self._outputs, self._since = set(), [], None
        await out.send(self._app.producer, outputs)
        release_unwritten(self._app, held)


def _envelope(wiring: Wiring, core: Stage1, states: HostStateTable, out: Outbox, event: Any) -> None:
    try:
        batch = read_events_record(event.value)
    except ValidationError as exc:
        out.letter(event, "invalid_envelope", summarise(exc))
        return
    if isinstance(batch, Tick):
        return  # a tick: stage 1 keeps no clock
    try:
        state = states.get(batch.host)
        result = core.process(batch, state, record_time(event))
    except Exception as exc:  # noqa: BLE001 - dead-lettered with its reason, not acknowledged silently
        out.failed(event, exc)
        return
    if result.new_state != state:
        states.stage(batch.host, result.new_state)
    for signal in result.signals:
        out.add(wiring.signals, signal.group_key.encode(), _ENCODE_SIGNAL(signal))
    key = batch.host.encode()
    for digest in result.digests:
        out.add(wiring.digests, key, _ENCODE_DIGEST(digest))
    if result.counters.too_old:
        _letter_too_old(out, event, batch, result)


def _letter_too_old(out: Outbox, record: Any, batch: EnvelopeView, result: Stage1Result) -> None:
    """Events older than their host's exact-dedup horizon (its 24 h, or its id cap) count in no
    digest and no incident: stage 1 cannot tell them from a replay. Each goes to the dead-letter
    topic as it was read, with why, rather than only into a counter; said once per envelope.

    A replay of such an event letters it again: the dead-letter topic is at least once."""
    for view, decision in zip(batch.events, result.decisions, strict=True):  # one decision an event
        if decision.kind is DecisionKind.TOO_OLD:
            out.letter(record, "too_old", f"event {decision.event_id}: {decision.reason}", event_json(view), say=False)
    log.warning("dead-lettered events too old to check", stage="stage1", reason="too_old", host=batch.host,
                events=result.counters.too_old, topic=record.message.topic, partition=record.message.partition,
                offset=record.message.offset)
