"""Replay: events through the real stage-1 and stage-2 cores in one process, as the faust wiring runs them.

The same calls the agents make (``processors/run_stage1.py``, ``run_stage2.py``, ``tick.py``), with
dicts as tables and a queue in place of the ``signals`` and ``commands`` topics:

- events are packed into host envelopes by the producers' ``Enveloper`` (event time as its clock);
- ``Stage1.apply`` per envelope, ``now`` = the envelope's send time (its record time);
- each signal goes to ``Stage2.on_signal`` of its group; every command stage 2 emits goes to
  ``Stage2.on_command`` of the group it names, before the next envelope (a broker with no lag);
- a tick every ``tick_every`` of event time advances every group, in key order, as the ticker does
  (visiting only the groups a tick can change, ``Stage2.tickable``: the same result, and a replay
  over years of event time no longer walks every group every tick).

It is also the base of what-if: replay the same events under another rule set and ``diff`` the two.
"""

from __future__ import annotations

import bisect
from collections import deque
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone

from deskwatch.processors.rules import RuleSet
from deskwatch.processors.rules.host_change import ChangeDefinition
from deskwatch.processors.stage1 import HostState, Stage1, count_populations
from deskwatch.processors.stage2 import GroupState, Stage2, Stage2Result
from deskwatch.producers.envelope import EnvelopeLimits, Enveloper
from deskwatch.schemas.asset import Asset
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.command import Command, Silence
from deskwatch.schemas.digest import EventDigest
from deskwatch.schemas.envelope import EventBatch
from deskwatch.schemas.event import WorkstationEvent
from deskwatch.schemas.incident import Incident
from deskwatch.schemas.signal import Signal

DEFAULT_LIMITS = EnvelopeLimits(max_events=500, max_bytes=900_000, linger_s=0.05)  # the producer's defaults


@dataclass
class ReplayResult:
    """What a replay produced: the latest revision per incident, every change, and counts."""

    incidents: dict[str, Incident] = field(default_factory=dict)
    changes: list[IncidentChange] = field(default_factory=list)
    change_times: list[datetime] = field(default_factory=list)  # the replay's clock at each change
    events: int = 0
    envelopes: int = 0
    signals: int = 0
    commands: int = 0
    ticks: int = 0
    digests: int = 0

    def keep(self, result: Stage2Result, now: datetime) -> None:
        """Fold one stage-2 result's revisions and changes in (a compacted topic keeps the newest)."""
        for incident in result.incidents:
            old = self.incidents.get(incident.id)
            if old is None or incident.revision > old.revision:
                self.incidents[incident.id] = incident
        self.changes.extend(result.changes)
        self.change_times.extend([now] * len(result.changes))


class Replayer:
    """The two cores with dict tables, fed one envelope at a time; ``result`` grows as it goes."""

    def __init__(self, rules: RuleSet, assets: Iterable[Asset],
                 silences: Mapping[str, Silence] | None = None,
                 on_digests: Callable[[list[EventDigest]], None] | None = None,
                 changes: Sequence[ChangeDefinition] = ()) -> None:
        inventory = {asset.host: asset for asset in assets}
        self.stage1 = Stage1(rules, inventory, count_populations(inventory.values(), rules), changes=changes)
        self.stage2 = Stage2({rule.id: rule for rule in rules}, silences)
        self.hosts: dict[str, HostState] = {}
        self.groups: dict[str, GroupState] = {}
        self.result = ReplayResult()
        # The groups a tick can change; during a tick, those that became so (woken) and those
        # made (fresh) since it began: tick() says why it needs them.
        self._tickable: set[str] = set()
        self._woken: list[str] = []
        self._fresh: set[str] = set()
        self._on_digests = on_digests  # sees each envelope's event digests, as the sink would

    def envelope(self, batch: EventBatch, now: datetime) -> None:
        """One record of ``events``: stage 1, then its signals and their commands through stage 2."""
        out = self.stage1.apply(self.hosts, batch, now)
        self.result.envelopes += 1
        self.result.events += len(batch.events)
        self.result.digests += len(out.digests)
        if self._on_digests is not None:
            self._on_digests(out.digests)
        self.result.signals += len(out.signals)
        for signal in out.signals:
            self._signal(signal, now)

    def tick(self, tick_time: datetime) -> None:
        """One tick into every partition: every group advances to ``tick_time``, in key order.

        As a loop over every group known when the tick began, in key order, but visiting only the
        tickable ones (on_tick leaves the others as they are, emitting nothing): a group a command
        wakes during the tick is visited when its key comes, as that loop would; a group made
        during the tick is not, as that loop had not listed it. tests/processors/evaluate/test_replay.py
        compares both loops on simulated fleets.
        """
        self.result.ticks += 1
        order = sorted(self._tickable)
        self._woken.clear()
        self._fresh.clear()
        at = 0
        while at < len(order):
            key = order[at]
            at += 1
            self._emit(key, self.stage2.on_tick(self.groups.get(key), tick_time), tick_time)
            for woken in self._woken:
                if woken > key and woken not in self._fresh:
                    place = bisect.bisect_left(order, woken, at)
                    if place == len(order) or order[place] != woken:
                        order.insert(place, woken)
            self._woken.clear()

    def _signal(self, signal: Signal, now: datetime) -> None:
        key = signal.group_key
        self._emit(key, self.stage2.on_signal(self.groups.get(key), signal, now), now)

    def _emit(self, key: str, result: Stage2Result, now: datetime) -> None:
        """Write the group's state, keep its incidents, and deliver its commands (in send order).

        A command is applied when its turn comes, to the group's state as it is then: applying
        it when sent would read a state that an earlier queued command is about to replace.
        """
        self._write(key, result, now)
        pending: deque[Command] = deque(result.commands)
        while pending:
            command = pending.popleft()
            self.result.commands += 1
            out = self._command(command, now)
            self._write(command.group_key, out, now)
            pending.extend(out.commands)

    def _write(self, key: str, out: Stage2Result, now: datetime) -> None:
        if key not in self.groups:
            self._fresh.add(key)
        if out.state != self.groups.get(key):
            self.groups[key] = out.state
        if self.stage2.tickable(self.groups[key]):
            if key not in self._tickable:
                self._tickable.add(key)
                self._woken.append(key)
        else:
            self._tickable.discard(key)
        self.result.keep(out, now)

    def _command(self, command: Command, now: datetime) -> Stage2Result:
        return self.stage2.on_command(self.groups.get(command.group_key), command, now)


def replay(events: Iterable[WorkstationEvent], rules: RuleSet, assets: Iterable[Asset],
           tick_every: timedelta = timedelta(seconds=10), *, source: str = "replay",
           limits: EnvelopeLimits = DEFAULT_LIMITS,
           silences: Mapping[str, Silence] | None = None,
           on_digests: Callable[[list[EventDigest]], None] | None = None,
           changes: Sequence[ChangeDefinition] = (),
           until: datetime | None = None) -> ReplayResult:
    """Feed time-ordered ``events`` through both cores; ticks every ``tick_every`` of event time,
    and on to ``until`` after the last event (a live pipeline's ticker keeps ticking after it)."""
    replayer = Replayer(rules, assets, silences, on_digests, changes)
    enveloper = Enveloper(limits, source)
    clock = _TickClock(tick_every, replayer)
    linger = timedelta(seconds=limits.linger_s)
    for event in events:
        now = event.timestamp.astimezone(timezone.utc)
        # The producer's linger timer sends a quiet host's envelope before later ticks fire.
        for batch in enveloper.due(now.timestamp()):
            replayer.envelope(batch, min(now, _last_time(batch) + linger))
        clock.advance(now)
        full = enveloper.add(event, len(event.message) + 200, now.timestamp())
        if full is not None:
            replayer.envelope(full, now)
    for batch in enveloper.drain():
        replayer.envelope(batch, _last_time(batch) + linger)
    if until is not None:
        clock.advance(until)
    return replayer.result


def _last_time(batch: EventBatch) -> datetime:
    return max(e.timestamp for e in batch.events).astimezone(timezone.utc)


class _TickClock:
    """Sends a tick each time event time crosses the next multiple of the period."""

    def __init__(self, period: timedelta, replayer: Replayer) -> None:
        if period <= timedelta(0):
            raise ValueError(f"tick period {period} must be positive")
        self._period = period
        self._replayer = replayer
        self._next: datetime | None = None
        self.last: datetime | None = None

    def advance(self, now: datetime) -> None:
        """Tick for every period boundary before ``now`` (event time never runs backwards here)."""
        if self.last is None or now > self.last:
            self.last = now
        if self._next is None:
            self._next = now + self._period
        while self._next <= self.last:
            self._replayer.tick(self._next)
            self._next += self._period
