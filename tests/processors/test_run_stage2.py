"""Stage 2's agent: a tick advances only the groups its partition owns, and of those only the ones
it can change."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from types import SimpleNamespace
from typing import Any

import pytest
from aiokafka.partitioner import DefaultPartitioner

from deskwatch.processors.rules import load_default_pack
from deskwatch.processors.run_stage2 import TickSchedule, _Stage2Batch, partition_of
from deskwatch.processors.stage2 import GroupState, Stage2
from deskwatch.processors.stage2.state import ALWAYS
from deskwatch.processors.views import ModelTable
from deskwatch.processors.wiring import Wiring
from deskwatch.schemas.command import Command, CommandAction, Matcher, Silence
from deskwatch.schemas.envelope import Tick
from deskwatch.schemas.signal import Signal
from tests.processors.stage2.build import FLEET_START as T0, fleet_signals, full_tick

_STEP = timedelta(microseconds=1)  # a datetime's resolution
KEYS = ["disk-full|site=paris", "gpo-failure|asset.site=S001", "é|ü", "", "x" * 300]


@pytest.mark.parametrize("partitions", [1, 3, 8], ids=["one", "three", "eight"])
@pytest.mark.parametrize("key", KEYS, ids=["plain", "asset", "unicode", "empty", "long"])
def test_partition_of_is_the_producers_partition(key: str, partitions: int) -> None:
    expected = DefaultPartitioner()(key.encode(), list(range(partitions)), list(range(partitions)))
    assert partition_of(key, partitions) == expected
    assert partition_of(key, partitions) == expected  # remembered: the same answer again


# --- a tick visits only the groups it can change -------------------------------------------------

PACK = load_default_pack()
TOPICS = ("incidents", "changes", "signals", "dead_letters")


class FakeTable(dict[bytes, bytes]):
    """A faust table's store as ModelTable reads and writes it: a dict of bytes."""

    changelog_topic = "groups-changelog"

    @property
    def data(self) -> FakeTable:
        return self


def _wiring(partitions: int) -> Wiring:
    topic = {name: SimpleNamespace(name=name) for name in TOPICS}
    topic["changes"].app = SimpleNamespace(conf=SimpleNamespace(id="test"))
    return Wiring(events=None, signals=topic["signals"], stage2_input=None, digests=None,
                  incidents=topic["incidents"], changes=topic["changes"], dead_letters=topic["dead_letters"],
                  host_state=None, groups=None, inventory=None, silences=None,  # type: ignore[arg-type]
                  partitions=partitions)


class _EveryKeyBatch(_Stage2Batch):
    """The tick as it was: every key of the table, those of the tick's partition advanced by the
    full tick, whatever their times."""

    visits = 0

    def _tick(self, tick: Tick, partition: int) -> None:
        for key in sorted(self.groups.keys()):
            if partition_of(key, self.wiring.partitions) == partition:
                _EveryKeyBatch.visits += 1
                self._emit(key, full_tick(self.core, self.groups.get(key), tick.wall_time))


class _Worker:
    """Stage 2's agent without faust: batches of signals, commands and ticks, its outputs kept."""

    def __init__(self, batch_type: type[_Stage2Batch], partitions: int) -> None:
        self.silences: dict[str, Silence] = {}  # read live, as the silences table is
        self.core = Stage2({rule.id: rule for rule in PACK}, self.silences)
        self.wiring = _wiring(partitions)
        self.table = FakeTable()
        self.groups: ModelTable[GroupState] = ModelTable(self.table, GroupState, cache_max=20)
        self.ticks = TickSchedule(self.core, partitions)
        self.batch_type = batch_type
        self.sent: list[tuple[str, bytes, bytes | None]] = []
        self.commands: list[Command] = []  # sent, to come back in the next batch

    def run(self, signals: list[tuple[Signal, datetime]], ticks: list[datetime]) -> None:
        batch = self.batch_type(self.wiring, self.core, self.groups, "commands", self.ticks)
        pending, self.commands = self.commands, []
        for command in pending:
            batch._emit(command.group_key, self.core.on_command(self.groups.get(command.group_key), command,
                                                                command.at))
        for signal, now in signals:
            batch._emit(signal.group_key, self.core.on_signal(self.groups.get(signal.group_key), signal, now))
        for tick in ticks:
            for partition in range(self.wiring.partitions):
                batch._tick(Tick(wall_time=tick, partition=partition), partition)
        self.groups.flush(batch.out.write_state)
        for topic, key, value, _, _ in batch.out.records:
            self.sent.append((topic.name, key, value))
            if topic.name == "signals" and value is not None:  # a command to another group
                self.commands.append(Command.model_validate_json(value))

    def rebalance(self) -> None:
        self.groups.forget()
        self.ticks.forget()


@pytest.mark.parametrize("seed", [3, 11])
def test_a_tick_visiting_the_due_groups_sends_what_visiting_every_group_sent(
        seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """Ten simulated hours in batches of 5 signals, the commands they send coming back in the next
    batch; ticks into each of 3 partitions at every third batch's time, and now and then at the
    next time a group's window entry is due to leave and a microsecond later; acknowledgements; a
    two-hour maintenance silence; a rebalance every 40 batches; then two quiet days. Against the
    tick as it was (every key, the full tick on each): the same records in the same order, the
    same table, from fewer visits; once the fleet is quiet, a tick visits no group whose timers
    are all over."""
    signals = fleet_signals(seed)
    index, every = _Worker(_Stage2Batch, 3), _Worker(_EveryKeyBatch, 3)
    visits = {"index": 0}
    on_tick = index.core.on_tick

    def counted(state: GroupState | None, at: datetime) -> Any:
        visits["index"] += 1
        return on_tick(state, at)

    monkeypatch.setattr(index.core, "on_tick", counted)
    monkeypatch.setattr(_EveryKeyBatch, "visits", 0)
    last_tick, boundaries = T0, 0
    for n, start in enumerate(range(0, len(signals), 5)):
        chunk = signals[start:start + 5]
        now = chunk[-1][1]
        ticks = [now] if n % 3 == 0 and now > last_tick else []
        if n % 4 == 2:  # just before the earliest due time since the last tick, and at it (a little ahead)
            states = [state for key in index.groups.keys() if (state := index.groups.peek(key)) is not None]
            dues = [due for state in states if (due := index.core.tick_due(state))
                    and ALWAYS < due and last_tick < due - _STEP and due < now + timedelta(minutes=30)]
            if dues:
                boundaries += 1
                ticks = [min(dues) - _STEP, min(dues)]
        if n == 40:  # a maintenance window over two hours of the day, from a few minutes on
            rules = Matcher(name="rule_id", value=r"(av-definitions|update-failure).*", op="=~")
            maint = Silence(id="maint", matchers=[rules],
                            starts_at=now + timedelta(minutes=7), ends_at=now + timedelta(hours=2), created_by="ops")
            index.silences["maint"] = every.silences["maint"] = maint
        if n % 15 == 7:  # an operator acknowledges the first live incident
            live = [(key, state.incident.id) for key in sorted(index.groups.keys())
                    if (state := index.groups.peek(key)) is not None and state.incident is not None]
            if live:
                ack = Command(command_id=f"ack-{n}", action=CommandAction.ACK, group_key=live[0][0],
                              incident_id=live[0][1], actor="alice", at=now)
                index.commands.append(ack)
                every.commands.append(ack)
        for worker in (index, every):
            worker.run(chunk, ticks)
        last_tick = ticks[-1] if ticks else last_tick
        if n % 40 == 39:
            index.rebalance()
            every.rebalance()
    before = dict(visits, every=_EveryKeyBatch.visits)
    for hour in range(1, 49):  # long after: incidents resolve by quiet timeout, windows end
        before = dict(visits, every=_EveryKeyBatch.visits)
        for worker in (index, every):
            worker.run([], [T0 + timedelta(hours=10 + hour)])
    assert index.sent == every.sent
    assert index.table == every.table
    changes = [json.loads(v) for t, _, v in index.sent if t == "changes" and v is not None]
    assert sum(1 for c in changes if c["reason"] == "quiet_timeout") > 5
    assert len({c["incident_id"] for c in changes}) > 10 and boundaries > 5
    reasons = {c["reason"] for c in changes}
    assert {"silenced", "unsilenced", "acknowledged"} <= reasons, reasons
    assert visits["index"] * 2 < _EveryKeyBatch.visits
    # the last tick: every group's key against none (what is still open is laptops': no quiet
    # timeout, no lifetime, no escalation by age, no silence)
    last = {"index": visits["index"] - before["index"], "every": _EveryKeyBatch.visits - before["every"]}
    assert last["every"] == len(index.table) > 50 and last["index"] == 0


LATER = T0 + timedelta(days=30)


def test_after_a_rebalance_a_tick_walks_the_table_again() -> None:
    """States recovery brings in (written into the store by another worker's changelog) are ticked
    once the rebalance is over, and only the partition's tickable ones (at a time when every
    pending window has ended, all of them are due)."""
    signals = fleet_signals(3)[:400]
    worker = _Worker(_Stage2Batch, 3)
    worker.run(signals, [])
    worker.run([], [T0])  # a first tick: every partition walked
    other = _Worker(_Stage2Batch, 3)
    other.run(fleet_signals(11)[:400], [])
    recovered = {k.decode() for k in other.table.keys() - worker.table.keys()}
    worker.table.update(other.table)  # recovery: the other worker's groups arrive in the store
    assert not recovered & set(worker.ticks.due(0, worker.groups, LATER))  # unseen before the rebalance
    worker.rebalance()
    due = {p: set(worker.ticks.due(p, worker.groups, LATER)) for p in range(3)}
    held = {k.decode(): worker.groups.peek(k.decode()) for k in worker.table}
    for partition, keys in due.items():
        assert keys == {k for k, state in held.items() if state is not None and worker.core.tickable(state)
                        and partition_of(k, 3) == partition}
    assert recovered & set().union(*due.values())
    assert worker.groups._cache == {}  # the walk peeked: it evicted nothing, cached nothing


# --- a group reads one log: an operator's command is forwarded into signals, applied from there -----

def _record(topic: str, value: bytes, at: datetime) -> Any:
    """A faust event as the batch reads one: its value and its record's topic, partition and time."""
    return SimpleNamespace(value=value, message=SimpleNamespace(topic=topic, partition=0, timestamp=at.timestamp()))


def test_an_operators_command_is_forwarded_into_the_groups_log_and_applied_from_there() -> None:
    worker = _Worker(_Stage2Batch, 1)
    worker.run(fleet_signals(3)[:400], [])
    held = {k.decode(): worker.groups.peek(k.decode()) for k in worker.table}
    key, state = next((k, s) for k, s in sorted(held.items()) if s is not None and s.incident is not None)
    assert state is not None and state.incident is not None
    ack = Command(command_id="op-1", action=CommandAction.ACK, group_key=key, incident_id=state.incident.id,
                  actor="alice", at=LATER)
    operators = ack.model_dump_json(exclude={"kind"}).encode()  # as a client that knows no kind sends it
    assert b'"kind"' not in operators

    batch = _Stage2Batch(worker.wiring, worker.core, worker.groups, "commands", worker.ticks)
    batch.record(_record("commands", operators, LATER))
    assert [(t.name, k, v) for t, k, v, _, _ in batch.out.records] == [("signals", key.encode(), ack.model_dump_json().encode())]
    assert worker.groups.get(key) == state  # not applied on the way in

    forwarded = batch.out.records[0][2]
    assert forwarded is not None and json.loads(forwarded)["kind"] == "command"
    again = _Stage2Batch(worker.wiring, worker.core, worker.groups, "commands", worker.ticks)
    again.record(_record("signals", forwarded, LATER))
    acked = worker.groups.get(key)
    assert acked is not None and acked.incident is not None and acked.incident.acknowledged_by == "alice"
    assert [t.name for t, *_ in again.out.records] == ["incidents", "changes"]
