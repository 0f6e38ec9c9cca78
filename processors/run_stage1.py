"""Stage 1's agent: host envelopes in; signals, digests and dead letters out (thin over the core).

Records are taken in batches: each envelope is processed in order and each host's state staged,
then the batch's outputs are sent (see ``outbox``); the staged states are written per interval,
after every output they imply (``state_writes``).
"""

from __future__ import annotations

from typing import Any, Final

import faust
import structlog
from pydantic import ValidationError

from deskwatch.processors.encode import encoder
from deskwatch.processors.in_order import mark_processed
from deskwatch.processors.outbox import Outbox
from deskwatch.processors.state_writes import StateWrites, write_when_idle
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
    writes = StateWrites(app, states, p.state_write_interval_s, p.state_write_max_keys)

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

    write_when_idle(app, writes, wiring.dead_letters, "stage1", p.state_write_interval_s)
    forget_on_rebalance(app, states)
    return states


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
