"""Deliver stage 2's inputs in any order a broker may: per-channel FIFO, channels interleaved.

A channel is what Kafka keeps in order: the signals one stage-1 partition sends to one group
(they travel through one ``signals`` partition from one producer), and the commands one group
sends to another (one ``commands`` partition, one producer). Nothing orders two channels, so a
schedule may pick any non-empty channel next. A *rewind* re-delivers a channel's last few items,
as a consumer that restarts from its last committed offset does (the group's state, recovered
from its changelog, already holds their effects).
"""

from __future__ import annotations

import zlib
from collections import Counter, deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from random import Random

from deskwatch.processors.stage2 import GroupState, Stage2, Stage2Result
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.command import Command
from deskwatch.schemas.incident import Incident
from deskwatch.schemas.signal import Signal

Item = tuple[Signal | Command, datetime]
ChannelKey = tuple[str, str]  # (sender: "s1:<partition>" or a group key, target group key)


@dataclass
class Channel:
    """One ordered stream into one group; ``delivered`` is kept so it can be rewound."""

    pending: deque[Item] = field(default_factory=deque)
    delivered: list[Item] = field(default_factory=list)


@dataclass
class Outcome:
    """The final incidents (the last revision sent per id, as the compacted ``incidents`` topic
    keeps it) and what travelled on ``commands``."""

    incidents: dict[str, Incident]
    commands: Counter[str]
    revisions: int
    links: set[tuple[str, str]]  # (parent, child) of every link_child sent
    changes: list[IncidentChange]  # every change sent, in the order sent (incident-changes)
    versions: dict[tuple[str, int], set[str]]  # every JSON sent per (incident id, revision)


def stage1_partition(host: str, partitions: int) -> int:
    """A stable stand-in for the host-keyed partitioner of ``events``."""
    return zlib.crc32(host.encode()) % partitions


class Interleaver:
    """Runs the stage-2 core over signals and the commands it sends itself, in a chosen order."""

    def __init__(self, core: Stage2, signals: Iterable[tuple[Signal, datetime]], partitions: int = 4,
                 crashes: bool = False) -> None:
        """``crashes``: keep each group's states, so ``crash`` can roll one back."""
        self._core = core
        self._crashes = crashes
        self.groups: dict[str, GroupState] = {}
        self.channels: dict[ChannelKey, Channel] = {}
        self.incidents: dict[str, Incident] = {}
        self.commands: Counter[str] = Counter()
        self.revisions = 0
        self.links: set[tuple[str, str]] = set()
        self.changes: list[IncidentChange] = []
        self.versions: dict[tuple[str, int], set[str]] = {}
        # per group: its log (every item delivered to it, in delivery order: its partition of
        # signals) and how far it has read it
        self.logs: dict[str, list[Item]] = {}
        self.read: dict[str, int] = {}
        # per group: each state it held (None: none yet), how many items each of its input
        # channels had delivered then and how far it had read its log, oldest first
        self.snapshots: dict[str, list[tuple[GroupState | None, dict[ChannelKey, int], int]]] = {}
        for signal, now in signals:
            sender = f"s1:{stage1_partition(signal.host, partitions)}"
            self._channel((sender, signal.group_key)).pending.append((signal, now))

    def _channel(self, key: ChannelKey) -> Channel:
        return self.channels.setdefault(key, Channel())

    def live(self) -> list[ChannelKey]:
        """Channels with something left to deliver, in a stable order."""
        return sorted(k for k, c in self.channels.items() if c.pending)

    def step(self, key: ChannelKey) -> None:
        """Deliver the next item of one channel to its group."""
        if self._crashes and key[1] not in self.snapshots:
            self._snapshot(key[1])  # before it delivers anything
        channel = self.channels[key]
        item = channel.pending.popleft()
        channel.delivered.append(item)
        self.logs.setdefault(key[1], []).append(item)
        self._read(key[1])

    def rewind(self, key: ChannelKey, back: int) -> None:
        """Put the channel's last ``back`` delivered items in front of it again."""
        channel = self.channels[key]
        back = min(back, len(channel.delivered))
        if back:
            channel.pending.extendleft(reversed(channel.delivered[-back:]))
            del channel.delivered[-back:]

    def crash(self, group_key: str, rng: Random, back: int = 20) -> None:
        """Roll ``group_key``'s state back to one of its last ``back`` states and rewind each of
        its channels to what it had delivered then (or up to 2 items before: a commit behind the
        state write), so the group reads it all again, channels re-interleaved."""
        restored = self._restore(group_key, rng, back)
        if restored is None:
            return
        delivered, _ = restored
        for key, channel in self.channels.items():
            if key[1] == group_key:
                since = len(channel.delivered) - delivered.get(key, 0)
                self.rewind(key, since + rng.randint(0, 2))
        del self.logs[group_key][self.read[group_key]:]  # rewound: delivered again, in a new order

    def crash_in_log_order(self, group_key: str, rng: Random, back: int = 20) -> None:
        """Roll ``group_key``'s state back as ``crash`` does, and read its log again from where that
        state had read it, or from before (a commit behind the state write, up to the log's start):
        a worker restarted on one log (its partition of signals) reads it in the order it holds."""
        restored = self._restore(group_key, rng, back)
        if restored is None:
            return
        _, position = restored
        self.read[group_key] = max(0, position - rng.choice([0, 1, 2, rng.randint(0, position)]))
        while self.read[group_key] < len(self.logs[group_key]):
            self._read(group_key)

    def _restore(self, group_key: str, rng: Random, back: int) -> tuple[dict[ChannelKey, int], int] | None:
        """Put back one of the group's last ``back`` states; what its channels and log stood at then."""
        kept = self.snapshots.get(group_key)
        if not kept:
            return None
        index = rng.randrange(max(0, len(kept) - back), len(kept))
        state, delivered, position = kept[index]
        del kept[index + 1 :]
        if state is None:
            self.groups.pop(group_key, None)
        else:
            self.groups[group_key] = state
        self.read[group_key] = position
        return delivered, position

    def _read(self, group_key: str) -> None:
        """Apply the next item of the group's log."""
        position = self.read.get(group_key, 0)
        self.read[group_key] = position + 1
        self._apply(group_key, self.logs[group_key][position])

    def _snapshot(self, group_key: str) -> None:
        counts = {key: len(c.delivered) for key, c in self.channels.items() if key[1] == group_key}
        self.snapshots.setdefault(group_key, []).append(
            (self.groups.get(group_key), counts, self.read.get(group_key, 0)))

    def _apply(self, group_key: str, item: Item) -> None:
        payload, now = item
        state = self.groups.get(group_key)
        if isinstance(payload, Signal):
            result = self._core.on_signal(state, payload, now)
        else:
            result = self._core.on_command(state, payload, now)
        self._keep(group_key, result, now)
        if self._crashes:
            self._snapshot(group_key)

    def _keep(self, group_key: str, result: Stage2Result, now: datetime) -> None:
        self.groups[group_key] = result.state
        self.revisions += len(result.incidents)
        self.changes.extend(result.changes)
        for incident in result.incidents:
            # The last one sent, not the highest revision: after a crash a group sends its
            # incidents again from an older state, and a replay in another order can end one at
            # the revision (or below) it had reached with other fields.
            self.incidents[incident.id] = incident
            self.versions.setdefault((incident.id, incident.revision), set()).add(incident.model_dump_json())
        for command in result.commands:
            self.commands[command.action.value] += 1
            if command.child_id is not None and command.action.value == "link_child":
                self.links.add((command.incident_id or "", command.child_id))
            self._channel((group_key, command.group_key)).pending.append((command, now))

    def outcome(self) -> Outcome:
        return Outcome(dict(self.incidents), self.commands, self.revisions, set(self.links), list(self.changes),
                       {k: set(v) for k, v in self.versions.items()})


def run_in_order(core: Stage2, signals: Sequence[tuple[Signal, datetime]]) -> Outcome:
    """The reference: signals in stage 1's order, each command delivered as soon as it is sent."""
    bus = Interleaver(core, [], partitions=1)
    for signal, now in signals:
        bus._apply(signal.group_key, (signal, now))
        while live := bus.live():
            bus.step(live[0])
    return bus.outcome()


def run_shuffled(
    core: Stage2,
    signals: Sequence[tuple[Signal, datetime]],
    rng: Random,
    rewinds: float = 0.0,
    partitions: int = 4,
) -> Outcome:
    """Any channel next, at random; after a delivery, sometimes rewind a random channel.

    ``partitions=1`` keeps each group's signals in the given order (only groups and commands
    interleave); more partitions also interleave the hosts feeding one multi-host group.
    """
    bus = Interleaver(core, signals, partitions)
    while live := bus.live():
        bus.step(rng.choice(live))
        if rewinds and rng.random() < rewinds:
            bus.rewind(rng.choice(sorted(bus.channels)), rng.randint(1, 5))
    return bus.outcome()


def run_crashing(
    core: Stage2,
    signals: Sequence[tuple[Signal, datetime]],
    rng: Random,
    crashes: float,
    partitions: int = 4,
    in_log_order: bool = False,
) -> Outcome:
    """``run_shuffled`` where, after a delivery, a random group sometimes crashes: its channels
    re-interleaved (``crash``), or with ``in_log_order`` its log read again in its order
    (``crash_in_log_order``), as a worker does since each group reads one log."""
    bus = Interleaver(core, signals, partitions, crashes=True)
    crash = bus.crash_in_log_order if in_log_order else bus.crash
    while live := bus.live():
        bus.step(rng.choice(live))
        if rng.random() < crashes:
            crash(rng.choice(sorted(bus.snapshots)), rng)
    return bus.outcome()


def run_backlog(
    core: Stage2,
    signals: Sequence[tuple[Signal, datetime]],
    rng: Random,
    partitions: int = 4,
    run_max: int = 200,
) -> Outcome:
    """A backlog's order: a random sender (a stage-1 partition, or a group sending commands)
    delivers a run of up to ``run_max`` items, a partition's signals in the order stage 1 sent
    them, whatever their groups.

    Stage 1 reading a backlog (the demo's file, a catch-up after downtime) sends one partition's
    signals in long runs, far ahead of or behind the other partitions in event time.
    ``run_shuffled`` picks a channel per item, so every partition stays near the others: it never
    made the order in which an update outage's parent counted a host without claiming it (the
    demo on 4 partitions, 2026-12-02)."""
    bus = Interleaver(core, signals, partitions)
    sent = {id(signal): n for n, (signal, _) in enumerate(signals)}  # stage 1's order

    def first_sent(key: ChannelKey) -> int:
        return sent[id(bus.channels[key].pending[0][0])]

    while live := bus.live():
        sender = rng.choice(sorted({key[0] for key in live}))
        for _ in range(rng.randint(1, run_max)):
            mine = [key for key in bus.live() if key[0] == sender]
            if not mine:
                break
            bus.step(min(mine, key=first_sent) if sender.startswith("s1:") else rng.choice(mine))
    return bus.outcome()


def comparable(incidents: dict[str, Incident]) -> dict[str, dict[str, object]]:
    """Incidents without what counts deliveries (revision, update stamp); children as a set."""
    out: dict[str, dict[str, object]] = {}
    for incident_id, incident in incidents.items():
        fields = incident.model_dump(exclude={"revision", "updated_at"})
        fields["children"] = sorted(incident.children)
        out[incident_id] = fields
    return out
