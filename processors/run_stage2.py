"""Stage 2's agent: signals, ticks and commands in (one key: the group); incidents, changes and
commands out. Thin over the core: decode, call, stage the group's state, and per batch write each
changed group once and send the outputs (see ``outbox``). A tick visits only the groups it can
change (``TickSchedule``).

A group reads one log, its partition of ``signals`` (schemas/command.py says why): the commands
stage 2 sends other groups go there, and an operator's command read from ``commands`` is
forwarded there, unchanged but for its ``kind``, and applied when it comes back."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import faust
import structlog
from pydantic import ValidationError

from deskwatch.processors.encode import encode
from deskwatch.processors.in_order import mark_processed
from deskwatch.processors.outbox import Outbox
from deskwatch.processors.state_writes import StateWrites, write_when_idle
from deskwatch.processors.produce import key_hash
from deskwatch.processors.stage2 import GroupState, Stage2, Stage2Result
from deskwatch.processors.stage2.state import decoded_bytes
from deskwatch.processors.views import ModelTable
from deskwatch.processors.wiring import Wiring, forget_on_rebalance, record_time, summarise
from deskwatch.schemas.command import Command
from deskwatch.schemas.envelope import Tick
from deskwatch.schemas.signal import decode_signals_record
from deskwatch.settings import ProcessorSettings
from deskwatch.sinks.webhook.cloudevents import ce_headers

log = structlog.get_logger(__name__)


def partition_of(key: str, partitions: int) -> int:
    """The partition Kafka's default partitioner gives ``key``. The tick schedule asks it for each
    state staged; ``key_hash`` remembers each key's murmur2 hash (the outbox hashes the same keys),
    so a second cache here would only hold them twice."""
    return key_hash(key.encode()) % partitions


class TickSchedule:
    """For each partition, the group keys some tick can change: those whose timers are due from
    a known time (``Stage2.tick_due``), and those with a live incident, which any tick at which a
    silence is active may silence. Kept as the agent stages states; a tick visits the keys due.

    A tick used to visit every key of the table. With the ~29k groups of 20k simulated hosts
    (nearly all with signals pending, ~20k with a live incident), a round of ticks over 8
    partitions cost ~2 s of CPU every 10 s: each key hashed at each partition's tick, each state
    decoded again (the cache holds 10k; a walk in key order misses it every time) and copied, for
    a tick that changed nothing. ``on_tick`` leaves a state that is not due as it is and emits
    nothing, so visiting only the due ones gives the same records (tests/processors/
    test_run_stage2.py compares both). Measured in process on those 29k groups: 2.09 s -> 0.02-0.03
    s of CPU per round; a walk after a rebalance, ~1.9 s, once (``python -m bench.ticks``).

    Decision: a partition's schedule is built by one walk of the table at its first tick after
    each rebalance (``forget``), not kept across one: the states recovery brings in were written
    by another worker, and only a walk sees them.
    """

    def __init__(self, core: Stage2, partitions: int) -> None:
        self._core, self._partitions = core, partitions
        self._walked: dict[int, _Schedule] = {}  # per partition, once walked

    def note(self, key: str) -> None:
        """A state was just staged for ``key``: its due time is worked out at the next tick.

        Decision: not here. ``tick_due`` reads every pending signal of the group's window (up to
        WINDOW_CAP), and a fleet-wide group takes a signal from each of its hosts: once per key
        per tick is the most that cost needs."""
        schedule = self._walked.get(partition_of(key, self._partitions))
        if schedule is not None:  # else not walked yet: its first tick reads the table
            schedule.changed.add(key)

    def due(self, partition: int, groups: ModelTable[GroupState], tick_time: datetime) -> list[str]:
        """The keys a tick of ``partition`` at ``tick_time`` can change, in key order."""
        schedule = self._walked.get(partition)
        if schedule is None:
            schedule = self._walked[partition] = _Schedule()
            schedule.changed.update(k for k in groups.keys() if partition_of(k, self._partitions) == partition)
        for key in schedule.changed:
            self._put(schedule, key, groups.peek(key))
        schedule.changed.clear()
        keys = {key for key, at in schedule.due.items() if at <= tick_time}
        if schedule.live and self._core.silences_active(tick_time):
            keys |= schedule.live
        return sorted(keys)

    def _put(self, schedule: _Schedule, key: str, state: GroupState | None) -> None:
        at = None if state is None else self._core.tick_due(state)
        if at is None:
            schedule.due.pop(key, None)
        else:
            schedule.due[key] = at
        if state is not None and state.incident is not None and self._core.tickable(state):
            schedule.live.add(key)
        else:
            schedule.live.discard(key)

    def forget(self) -> None:
        self._walked.clear()


@dataclass
class _Schedule:
    """One partition's: each key's due time, the keys with a live incident (under a known rule),
    and the keys staged since its last tick (a walk starts with all of them)."""

    due: dict[str, datetime] = field(default_factory=dict)
    live: set[str] = field(default_factory=set)
    changed: set[str] = field(default_factory=set)


class _Stage2Batch:
    """One batch of stage 2's input: the core, the group table and the outbox it fills."""

    def __init__(self, wiring: Wiring, core: Stage2, groups: ModelTable[GroupState], commands_topic: str,
                 ticks: TickSchedule) -> None:
        self.wiring, self.core, self.groups, self.commands_topic = wiring, core, groups, commands_topic
        self.ticks = ticks
        self.out = Outbox(wiring.dead_letters, "stage2")

    def record(self, event: Any) -> None:
        try:
            if event.message.topic == self.commands_topic:
                self._forward(event)
            else:
                self._from_log(event)
        except ValidationError as exc:
            self.out.letter(event, "invalid_record", summarise(exc))
        except Exception as exc:  # noqa: BLE001 - dead-lettered with its reason, not acknowledged silently
            self.out.failed(event, exc)

    def _forward(self, event: Any) -> None:
        """An operator's command: validated, then into its group's log (``signals``)."""
        command = Command.model_validate_json(event.value)
        self.out.add(self.wiring.signals, command.group_key.encode(), encode(command))

    def _from_log(self, event: Any) -> None:
        """A record of the group's log (``signals``): a signal, a tick or a command, applied."""
        record = decode_signals_record(event.value)
        if isinstance(record, Tick):
            self._tick(record, event.message.partition)
        elif isinstance(record, Command):
            self._emit(record.group_key, self.core.on_command(self.groups.get(record.group_key), record,
                                                              record_time(event)))
        else:
            self._emit(record.group_key, self.core.on_signal(self.groups.get(record.group_key), record,
                                                             record_time(event)))

    def _tick(self, tick: Tick, partition: int) -> None:
        """Advance the groups of this partition a tick can change to the tick's time (only its own
        keys: the table's changelog partition is the key's, and another partition's tick advances
        the rest)."""
        for key in self.ticks.due(partition, self.groups, tick.wall_time):
            self._emit(key, self.core.on_tick(self.groups.get(key), tick.wall_time))

    def _emit(self, key: str, result: Stage2Result) -> None:
        w, out = self.wiring, self.out
        if result.state != self.groups.get(key):
            self.groups.stage(key, result.state)
            self.ticks.note(key)
        for incident in result.incidents:
            out.add(w.incidents, incident.id.encode(), encode(incident))
        for change in result.changes:
            body = encode(change)
            out.add(w.changes, change.incident_id.encode(), body, ce_headers(change, w.changes.app.conf.id, body))
        for command in result.commands:
            out.add(w.signals, command.group_key.encode(), encode(command))


def attach_stage2(app: faust.App, wiring: Wiring, core: Stage2, commands_topic: str,
                  p: ProcessorSettings) -> ModelTable[GroupState]:
    """One agent over signals + commands, concurrency 1; returns the group states' table."""
    groups: ModelTable[GroupState] = ModelTable(wiring.groups, GroupState, p.state_cache_max,
                                                p.group_cache_max_mib << 20, decoded_bytes)
    ticks = TickSchedule(core, wiring.partitions)
    writes = StateWrites(app, groups, p.state_write_interval_s, p.state_write_max_keys)

    @app.agent(wiring.stage2_input, concurrency=1, name="stage2")
    async def stage2(stream: Any) -> None:
        first = True
        async for events in stream.take_events(p.batch_max_records, within=p.batch_within_s):
            if first:  # as stage 1 logs its own: when this worker began to correlate
                log.info("stage 2 first batch", records=len(events))
                first = False
            async with writes.lock:  # no write of the timer's comes between a record and its state
                batch = _Stage2Batch(wiring, core, groups, commands_topic, ticks)
                for event in events:
                    batch.record(event)
                await writes.after_batch(batch.out, events)
            mark_processed(app, events)  # only now may faust's ack let a commit pass them

    write_when_idle(app, writes, wiring.dead_letters, "stage2", p.state_write_interval_s)
    forget_on_rebalance(app, groups, ticks)
    return groups
