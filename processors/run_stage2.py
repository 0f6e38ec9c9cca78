"""Stage 2's agent: signals, ticks and commands in (one key: the group); incidents, changes and
commands out. Thin over the core: decode, call, write the group's state once, forward."""

from __future__ import annotations

from typing import Any

import faust
from kafka.partitioner.default import murmur2
from pydantic import ValidationError

from deskwatch.processors.stage2 import GroupState, Stage2, Stage2Result
from deskwatch.processors.views import ModelTable
from deskwatch.processors.wiring import Wiring, dead_letter, forget_on_rebalance, record_time, summarise
from deskwatch.schemas.command import Command
from deskwatch.schemas.envelope import Tick
from deskwatch.schemas.signal import decode_signals_record
from deskwatch.sinks.webhook.cloudevents import ce_headers


def partition_of(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives ``key`` (Java, aiokafka and kafka-python agree)."""
    return (murmur2(key.encode()) & 0x7FFFFFFF) % partitions


def attach_stage2(app: faust.App, wiring: Wiring, core: Stage2, commands_topic: str) -> None:
    """One agent over signals + commands, concurrency 1."""
    groups: ModelTable[GroupState] = ModelTable(wiring.groups, GroupState)

    @app.agent(wiring.stage2_input, concurrency=1, name="stage2")
    async def stage2(stream: Any) -> None:
        async for event in stream.events():
            try:
                if event.message.topic == commands_topic:
                    await _command(wiring, groups, core, event)
                else:
                    await _signal_or_tick(wiring, groups, core, event)
            except ValidationError as exc:
                await dead_letter(wiring.dead_letters, event, "stage2", "invalid_record", summarise(exc))

    forget_on_rebalance(app, groups)


async def _command(wiring: Wiring, groups: ModelTable[GroupState], core: Stage2, event: Any) -> None:
    command = Command.model_validate_json(event.value)
    result = core.on_command(groups.get(command.group_key), command, record_time(event))
    await _emit(wiring, groups, command.group_key, result)


async def _signal_or_tick(wiring: Wiring, groups: ModelTable[GroupState], core: Stage2, event: Any) -> None:
    record = decode_signals_record(event.value)
    if isinstance(record, Tick):
        await _tick(wiring, groups, core, record, event.message.partition)
        return
    result = core.on_signal(groups.get(record.group_key), record, record_time(event))
    await _emit(wiring, groups, record.group_key, result)


async def _tick(wiring: Wiring, groups: ModelTable[GroupState], core: Stage2, tick: Tick, partition: int) -> None:
    """Advance every group this partition owns to the tick's time (only its own keys: a table
    write lands in the changelog partition of the record being processed)."""
    for key in sorted(groups.keys()):
        if partition_of(key, wiring.partitions) == partition:
            await _emit(wiring, groups, key, core.on_tick(groups.get(key), tick.wall_time))


async def _emit(wiring: Wiring, groups: ModelTable[GroupState], key: str, result: Stage2Result) -> None:
    if result.state != groups.get(key):
        groups[key] = result.state
    for incident in result.incidents:
        await wiring.incidents.send(key=incident.id.encode(), value=incident.model_dump_json().encode())
    for change in result.changes:
        await wiring.changes.send(key=change.incident_id.encode(), value=change.model_dump_json().encode(),
                                  headers=ce_headers(change, wiring.changes.app.conf.id))
    for command in result.commands:
        await wiring.commands.send(key=command.group_key.encode(), value=command.model_dump_json().encode())
