"""Stage 1's agent: host envelopes in; signals, digests and dead letters out (thin over the core)."""

from __future__ import annotations

from typing import Any

import faust
from pydantic import ValidationError

from deskwatch.processors.stage1 import HostState, Stage1
from deskwatch.processors.views import ModelTable
from deskwatch.processors.wiring import Wiring, dead_letter, forget_on_rebalance, record_time, summarise
from deskwatch.schemas import EventBatch, decode_events_record


def attach_stage1(app: faust.App, wiring: Wiring, core: Stage1) -> None:
    """One agent, concurrency 1 (more could commit past an in-flight envelope)."""
    states: ModelTable[HostState] = ModelTable(wiring.hosts, HostState)

    @app.agent(wiring.events, concurrency=1, name="stage1")
    async def stage1(stream: Any) -> None:
        async for event in stream.events():
            try:
                batch = decode_events_record(event.value)
            except ValidationError as exc:
                await dead_letter(wiring.dead_letters, event, "stage1", "invalid_envelope", summarise(exc))
                continue
            if isinstance(batch, EventBatch):
                await _forward(wiring, core.apply(states, batch, record_time(event)), batch.host)

    forget_on_rebalance(app, states)


async def _forward(wiring: Wiring, result: Any, host: str) -> None:
    for signal in result.signals:
        await wiring.signals.send(key=signal.group_key.encode(), value=signal.model_dump_json().encode())
    key = host.encode()
    for digest in result.digests:
        await wiring.digests.send(key=key, value=digest.model_dump_json().encode())
