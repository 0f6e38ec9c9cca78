"""The processor on the real broker: a SIGKILLed-and-restarted worker, and two workers sharing the
partitions, end with the same incidents as one uninterrupted worker over the same events.

Each run has its own topic prefix and consumer group; the events are the same simulated fleet
(same event ids). Ticks carry wall time, so the tick period is set far beyond a test's length:
the runs then differ only in what they must not differ in. Revision numbers and ``updated_at``
(the log time of the input record) are not compared: they count and stamp deliveries, which
differ between runs by design (a replayed signal is skipped by its source id, not un-counted).
"""

from __future__ import annotations

import json
import re
import signal
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kafka import TopicPartition
from kafka.admin import KafkaAdminClient

from deskwatch.components import Component, write_settings_file
from deskwatch.connect import kafka_python_options
from deskwatch.processors.evaluate.compare import diff_incidents
from deskwatch.producers.simulate import simulate_fleet, write_inventory_csv, write_jsonl
from deskwatch.schemas.incident import Incident
from deskwatch.settings import Settings
from deskwatch.topics import committed_offsets, consumer_lag, end_offsets
from deskwatch.topology import COMMANDS, EVENT_DIGESTS, EVENTS, INCIDENT_CHANGES, INCIDENTS, SIGNALS

from tests.fleets import RECOVERY_FLEET

from .conftest import read_topic, wait_for

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, int]:
    """The simulated fleet's events (JSON lines) and inventory (CSV), and the event count."""
    folder = tmp_path_factory.mktemp("fleet")
    sim = simulate_fleet(RECOVERY_FLEET)
    count = write_jsonl(sim, folder / "events.jsonl")
    write_inventory_csv(sim.assets, folder / "inventory.csv")
    return folder / "events.jsonl", folder / "inventory.csv", count


class Run:
    """One prefix and consumer group: produce the fleet into it, run workers, read its incidents."""

    def __init__(self, base: Settings, folder: Path, started: list[Component]) -> None:
        tag = uuid.uuid4().hex[:8]
        self.folder = folder / tag
        self.settings = base.model_copy(update={
            "kafka": base.kafka.model_copy(update={"topic_prefix": f"{base.kafka.topic_prefix}{tag}."}),
            "producer": base.producer.model_copy(update={"batch_max_events": 1}),  # many records: a kill lands mid-stream
            "processor": base.processor.model_copy(update={
                # Batches of 10 envelopes, a commit every 20: progress is committed as the worker goes
                # (one batch of the default 2,000 took the whole fleet and committed it at once).
                "app_id": f"{base.kafka.topic_prefix.rstrip('.')}-proc-{tag}", "tick_interval_s": 3600.0, "commit_every": 20, "batch_max_records": 10,
                # A stalled worker resumes within ~25 s here instead of ~70 s (processors/stall.py).
                "heartbeat_interval_s": 5.0, "heartbeat_stall_after_s": 20.0}),
        })
        self._started = started
        self._workers = 0
        self._datadirs: dict[int, Path] = {}  # id(component) -> its data dir

    def start(self, *args: str, datadir_of: Component | None = None) -> Component:
        """``deskwatch <args>`` with this run's settings; a worker gets its own data dir, or the one
        ``datadir_of`` had (a restart on the same machine)."""
        self._workers += 1
        datadir = self.folder / f"data-{self._workers}" if datadir_of is None else self._datadirs[id(datadir_of)]
        settings = self.settings.model_copy(update={"processor": self.settings.processor.model_copy(
            update={"datadir": datadir})})
        config = write_settings_file(settings, self.folder / f"settings-{self._workers}.yaml")
        component = Component(list(args), config, self.folder / f"{args[0]}-{self._workers}.log")
        self._started.append(component)
        self._datadirs[id(component)] = datadir
        return component

    def produce(self, events: Path, inventory: Path) -> int:
        """Publish the inventory, then the events; return how many envelopes the events became."""
        for args in (("inventory", "publish", str(inventory)), ("produce", "--format", "jsonl", str(events))):
            c = self.start(*args)
            assert c.proc.wait(180) == 0, c.tail()
        return len(read_topic(self.settings, EVENTS.name(self.settings.kafka), timeout_s=3.0))

    def lag(self, topic: Any) -> int:
        k = self.settings.kafka
        return consumer_lag(k, self.settings.processor.app_id, topic.name(k))

    def committed(self) -> dict[TopicPartition, Any]:
        """The group's committed offsets, by topic partition."""
        admin = KafkaAdminClient(**kafka_python_options(self.settings.kafka))
        try:
            return committed_offsets(admin, self.settings.processor.app_id)
        finally:
            admin.close()

    def lagging(self) -> list[str]:
        """Each input partition not committed to its end: where it stands."""
        k = self.settings.kafka
        committed = self.committed()
        return [f"{tp.topic}[{tp.partition}] committed {committed[tp].offset if tp in committed else None} of {end}"
                for topic in (EVENTS, SIGNALS, COMMANDS) for tp, end in sorted(end_offsets(k, topic.name(k)).items())
                if end != (committed[tp].offset if tp in committed else 0)]

    def drained(self) -> bool:
        return all(self.lag(topic) == 0 for topic in (EVENTS, SIGNALS, COMMANDS))

    def incidents(self) -> dict[str, Incident]:
        """The latest revision per incident id on the incidents topic."""
        latest: dict[str, Incident] = {}
        for record in read_topic(self.settings, INCIDENTS.name(self.settings.kafka), timeout_s=3.0):
            incident = Incident.model_validate(json.loads(record.value))
            if incident.id not in latest or incident.revision > latest[incident.id].revision:
                latest[incident.id] = incident
        return latest

    def revisions_sent(self) -> dict[tuple[str, str, int], list[Any]]:
        """Every record per (topic, incident id, revision), in log order, of ``incidents`` and
        ``incident-changes``."""
        sent: dict[tuple[str, str, int], list[Any]] = {}
        for topic in (INCIDENTS, INCIDENT_CHANGES):
            name = topic.name(self.settings.kafka)
            for record in read_topic(self.settings, name, timeout_s=3.0):
                value = json.loads(record.value)
                sent.setdefault((name, value.get("id") or value["incident_id"], value["revision"]), []).append(record)
        return sent


@pytest.fixture
def runs(settings: Settings, tmp_path: Path) -> Iterator[Callable[[], Run]]:
    """Make runs; every component still running is stopped at the end of the test."""
    started: list[Component] = []
    yield lambda: Run(settings, tmp_path, started)
    for c in started:
        c.stop()


def settle(run: Run, workers: list[Component], timeout: float = 240) -> dict[str, Incident]:
    """Wait until every input is committed twice in a row, then read the incidents."""
    def tails() -> str:
        return "\n---\n".join([f"lagging: {run.lagging()}", *(w.tail(15) for w in workers)])

    def quiet() -> bool:
        assert all(w.running() for w in workers), tails()
        if not run.drained():
            return False
        time.sleep(3.0)  # a command sent just now may not be visible in the lag yet
        return run.drained()

    wait_for(quiet, timeout, "the processor to drain events, signals and commands", tails)
    return run.incidents()


def _normalised(incidents: dict[str, Incident]) -> dict[str, Incident]:
    """Children in id order: link_child commands from several partitions arrive in any order."""
    return {k: i.model_copy(update={"children": sorted(i.children)}) for k, i in incidents.items()}


def assert_same(got: dict[str, Incident], want: dict[str, Incident]) -> None:
    diff = diff_incidents(_normalised(want), _normalised(got))
    detail = {i: [(f.name, f.before, f.after) for f in fields] for i, (_, fields) in list(diff.changed.items())[:5]}
    assert diff.empty, (f"missing {[(i.rule_id, i.group_key) for i in diff.removed][:5]}, "
                        f"extra {[(i.rule_id, i.group_key) for i in diff.added][:5]}, changed {detail}")
    assert sum(i.event_count for i in got.values()) == sum(i.event_count for i in want.values())


@pytest.fixture(scope="module")
def uninterrupted(settings: Settings, fleet: tuple[Path, Path, int],
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, dict[str, Incident]]]:
    """One worker, with the default store (disk), through the whole fleet: its envelope count and
    the incidents every crashed, shared or restarted run below must end with."""
    events, inventory, _ = fleet
    started: list[Component] = []
    run = Run(settings, tmp_path_factory.mktemp("uninterrupted"), started)
    try:
        total = run.produce(events, inventory)
        alone = run.start("processor", "run")
        want = settle(run, [alone])
        # SIGTERM: faust stops, commits, and the worker leaves with 0 (run_worker ends with os._exit).
        assert alone.stop(signal.SIGTERM, timeout=60) == 0, alone.tail()
    finally:
        for c in started:
            c.stop()
    assert len(want) >= 5, f"the fleet should open several incidents, got {len(want)}"
    yield total, want


def with_store(run: Run, store: str) -> Run:
    """The run's workers keep their tables in ``store`` (processor.state_store)."""
    run.settings = run.settings.model_copy(update={
        "processor": run.settings.processor.model_copy(update={"state_store": store})})
    return run


STORES = pytest.mark.parametrize("store", ["memory", "disk"])


@STORES
def test_sigkill_and_restart_gives_the_incidents_of_an_uninterrupted_run(
    fleet: tuple[Path, Path, int], runs: Callable[[], Run], uninterrupted: tuple[int, dict[str, Incident]],
    store: str,
) -> None:
    """The restarted worker has a new data dir: with the disk store its tables are rebuilt from the
    changelog into a new database, with memory into memory; the uninterrupted run it is compared
    with kept its tables on disk (the default)."""
    events, inventory, _ = fleet
    total, want = uninterrupted
    crashed = with_store(runs(), store)
    assert crashed.produce(events, inventory) == total

    first = crashed.start("processor", "run")
    # Its first commit (every 50 envelopes) shows the worker mid-stream: kill it there; a
    # worker that takes records in batches gets through this fleet in seconds.
    lag_at_kill = first_progress(crashed, total, first)
    first.stop(signal.SIGKILL)
    assert first.proc.returncode == -signal.SIGKILL and lag_at_kill > 0, "killed mid-stream"
    got = settle(crashed, [crashed.start("processor", "run")], timeout=300)
    assert_same(got, want)
    on_disk = sorted(p.name for p in crashed.folder.glob("data-*/**/*.rocksdb"))
    # one database per table for each of the two workers
    assert on_disk == (sorted(["groups.rocksdb", "host-state.rocksdb"] * 2) if store == "disk" else []), on_disk


def test_a_worker_killed_after_sending_incidents_it_had_not_written_sends_them_again_unchanged(
    fleet: tuple[Path, Path, int], runs: Callable[[], Run], uninterrupted: tuple[int, dict[str, Incident]],
) -> None:
    """The first worker keeps its states staged for a minute (``state_write_interval_s``), so when
    it is killed every incident it sent is one its changelog does not know: the restarted worker
    reads every record again and sends those revisions again. Each group reads one log (its
    partition of ``signals``, schemas/command.py), so each revision comes back with the bytes it
    had: the same ``ce_id``, one version of each change for every subscriber. Until 2026-12-07 a
    group also read ``commands``, and three runs of this test sent 4 to 29 of 56 to 96 revisions
    again with other content (a claim read before a signal it had followed). The incidents end as
    in an uninterrupted run."""
    events, inventory, _ = fleet
    total, want = uninterrupted
    crashed = runs()
    assert crashed.produce(events, inventory) == total
    held = crashed.settings
    crashed.settings = held.model_copy(update={"processor": held.processor.model_copy(
        update={"state_write_interval_s": 60.0, "state_write_max_keys": 1_000_000})})
    first = crashed.start("processor", "run")
    crashed.settings = held  # the restarted worker writes as usual
    wait_for(lambda: sum(end_offsets(held.kafka, INCIDENTS.name(held.kafka)).values()) >= 20, 120,
             "the first worker to send 20 incident revisions", first.tail)
    first.stop(signal.SIGKILL)
    inputs = {topic.name(held.kafka) for topic in (EVENTS, SIGNALS, COMMANDS)}
    committed = {tp: o.offset for tp, o in crashed.committed().items() if tp.topic in inputs and o.offset > 0}
    assert not committed, f"nothing was committed, so every record is read again: {committed}"
    got = settle(crashed, [crashed.start("processor", "run", datadir_of=first)], timeout=300)
    assert_same(got, want)

    sent = crashed.revisions_sent()
    again = {key: records for key, records in sent.items() if len(records) > 1}
    other = {key: records for key, records in again.items() if len({r.value for r in records}) > 1}
    fields = Counter(name for records in other.values() for name in _differing(records))
    assert len(again) >= 20, f"only {len(again)} revisions were sent again"
    assert not other, f"{len(other)} of {len(again)} revisions sent again with other content: {dict(fields)}"
    changes_topic = INCIDENT_CHANGES.name(held.kafka)
    for (topic, incident_id, revision), records in sent.items():
        if topic == changes_topic:
            assert len({v for r in records for k, v in r.headers if k == "ce_id"}) == 1, f"{incident_id}:{revision}"
    print(f"{len(again)} incident revisions sent again after the kill, each with the bytes it had")


def _differing(records: list[Any]) -> set[str]:
    """The fields in which a revision's records differ."""
    values = [json.loads(r.value) for r in records]
    return {name for name in values[0] if any(v.get(name) != values[0][name] for v in values[1:])}


def _recovered(log: str) -> dict[str, int]:
    """Each disk-store table's changelog records read by the worker's last recovery, from its log."""
    read = {}
    for line in log.splitlines():
        table, count = re.search(r"table=(\S+)", line), re.search(r"records_read=(\d+)", line)
        if "state recovered" in line and table and count:
            read[table.group(1)] = int(count.group(1))
    return read


def test_a_worker_restarted_on_its_disk_store_reads_only_the_changelogs_tail(
    fleet: tuple[Path, Path, int], runs: Callable[[], Run], uninterrupted: tuple[int, dict[str, Incident]],
) -> None:
    """The disk store keeps what the broker acknowledged, with its changelog offsets: a worker
    SIGKILLed mid-stream and restarted on its data dir reads each changelog partition on from the
    offset on disk and ends with the incidents of an uninterrupted run; stopped with SIGTERM and
    started again, it reads none of the changelog's records (one worker wrote them all). A new
    data dir, for comparison, reads every record again."""
    events, inventory, _ = fleet
    total, want = uninterrupted
    run = with_store(runs(), "disk")
    assert run.produce(events, inventory) == total
    first = run.start("processor", "run")
    assert first_progress(run, total, first) > 0, "killed mid-stream"
    first.stop(signal.SIGKILL)
    again = run.start("processor", "run", datadir_of=first)
    got = settle(run, [again], timeout=300)
    assert_same(got, want)
    said = again.log.read_text(errors="replace")
    assert "state database opened" in said and "state database emptied" not in said, again.tail(60)
    assert again.stop(signal.SIGTERM, timeout=60) == 0, again.tail()
    third = run.start("processor", "run", datadir_of=first)
    wait_for(lambda: len(_recovered(third.log.read_text(errors="replace"))) == 2, 120,
             "the restarted worker to recover both tables", third.tail)
    assert _recovered(third.log.read_text(errors="replace")) == {"host-state": 0, "groups": 0}, third.tail(60)
    assert third.stop(signal.SIGTERM, timeout=60) == 0, third.tail()
    fresh = run.start("processor", "run")
    wait_for(lambda: len(_recovered(fresh.log.read_text(errors="replace"))) == 2, 120,
             "a worker on a new data dir to recover both tables", fresh.tail)
    read = _recovered(fresh.log.read_text(errors="replace"))
    assert read["host-state"] > 0 and read["groups"] > 0, fresh.tail(60)
    assert_same(settle(run, [fresh]), want)


def _quiet(run: Run, worker: Component, still_s: float = 5.0, timeout: float = 180) -> None:
    """Wait until the worker's outputs (digests, signals, incidents) stop growing after some."""
    k = run.settings.kafka
    outputs = (EVENT_DIGESTS, SIGNALS, INCIDENTS)

    def ends() -> int:
        return sum(sum(end_offsets(k, topic.name(k)).values()) for topic in outputs)

    seen = {"ends": -1, "since": time.monotonic()}

    def still() -> bool:
        assert worker.running(), worker.tail()
        now = ends()
        if now != seen["ends"]:
            seen.update(ends=now, since=time.monotonic())
        return now > 0 and time.monotonic() - seen["since"] >= still_s

    wait_for(still, timeout, "the worker's outputs to stop growing", worker.tail)


def test_a_worker_stopped_cleanly_writes_its_staged_states_and_commits_every_record(
    fleet: tuple[Path, Path, int], runs: Callable[[], Run], uninterrupted: tuple[int, dict[str, Incident]],
) -> None:
    """States are written per interval (processors/state_writes.py), and no commit passes a record
    whose state is staged, not written. With an interval longer than the test, nothing is written
    while the worker runs; stopped with SIGTERM, it writes what it staged before its last commit:
    every input is committed to its end, and a worker restarted on its data dir has nothing to
    read again and ends with the incidents of an uninterrupted run."""
    events, inventory, _ = fleet
    total, want = uninterrupted
    run = runs()
    assert run.produce(events, inventory) == total
    staging = run.settings.processor
    run.settings = run.settings.model_copy(update={"processor": staging.model_copy(update={
        "state_write_interval_s": 3600.0, "state_write_max_keys": 1_000_000})})
    first = run.start("processor", "run")
    _quiet(run, first)
    assert not run.drained(), "the staged states should hold every commit back while the worker runs"
    assert first.stop(signal.SIGTERM, timeout=60) == 0, first.tail()
    assert run.lagging() == [], first.tail(40)
    run.settings = run.settings.model_copy(update={"processor": staging})
    again = run.start("processor", "run", datadir_of=first)
    assert_same(settle(run, [again]), want)
    assert again.stop(signal.SIGTERM, timeout=60) == 0, again.tail()


def test_two_workers_give_the_incidents_of_one(fleet: tuple[Path, Path, int], runs: Callable[[], Run],
                                               uninterrupted: tuple[int, dict[str, Incident]]) -> None:
    """The default store (disk since 2026-12-07). The fault campaign's "1 of 2 workers SIGKILLed
    for good" rows stalled in the survivor's recovery on the disk store in 3 row runs of 25 until
    69213bb (bench/RESULTS.md, 2026-12-06), none since; the heartbeat's re-read of such a recovery
    (processors/stall.py) is shown only on that state injected."""
    events, inventory, _ = fleet
    total, want = uninterrupted
    two = runs()
    assert two.produce(events, inventory) == total
    # The second worker joins while the first is mid-stream, so partitions move with records in
    # flight (two workers started together mostly left one of them nothing to do): the first is
    # stopped (SIGSTOP) after its first commit and continued once the second asked to join.
    first = two.start("processor", "run")
    behind = first_progress(two, total, first)
    assert behind > 0, "the first worker is mid-stream"
    first.proc.send_signal(signal.SIGSTOP)
    try:
        workers = [first, two.start("processor", "run")]
        wait_for(lambda: group_state(two) != "Stable", 120, "the second worker to ask to join", workers[1].tail)
    finally:
        first.proc.send_signal(signal.SIGCONT)
    got = settle(two, workers, timeout=300)
    assert members(two) == 2, "both workers are in the group, so both own partitions"
    # Both processed input records, of either stage: which partitions still held records when they
    # moved is up to the fetches (after SIGCONT the first worker can finish the events partitions
    # the second is given, before it learns of the rebalance; the signals they make are the
    # second's). The whole log: the last 10,000 lines need not reach back to a first batch.
    idle = [w.log.name for w in workers if not _processed_input(w.log.read_text(errors="replace"))]
    assert not idle, (f"both workers processed records, not {idle} ({behind} of {total} envelopes were "
                      "not committed when the first was stopped)\n" + "\n---\n".join(w.tail(80) for w in workers))
    try:
        assert_same(got, want)
    except AssertionError as exc:
        raise AssertionError(f"{exc}\n{explain(two, want, got, workers)}") from None


# What a diff's groups went through: their signals in the topic, and what the workers said about
# their input's order (the two-worker test failed 1 CI run in 5 with an early signal uncounted).
ORDER_LINES = ("not processed", "past the next offset", "acknowledged without", "retention", "crash", "error")


def explain(run: Run, want: dict[str, Incident], got: dict[str, Incident], workers: list[Component]) -> str:
    """The signals of every group whose incident differs, as the signals topic holds them, and
    every worker log line about input order, heals or errors."""
    diff = diff_incidents(_normalised(want), _normalised(got))
    keys = {i.group_key for i in (*diff.removed, *diff.added)} | {i.group_key for i, _ in diff.changed.values()}
    lines = [f"groups that differ: {sorted(keys)}"]
    for record in read_topic(run.settings, SIGNALS.name(run.settings.kafka), timeout_s=3.0):
        if record.key is not None and record.key.decode() in keys:
            value = json.loads(record.value)
            lines.append(f"  signals[{record.partition}]@{record.offset} {value.get('group_key')} "
                         f"first_seen={value.get('first_seen')} count={value.get('count')} "
                         f"source_id={value.get('source_id', '')[:12]} recovery={value.get('recovery')}")
    for w in workers:
        said = [line for line in w.log.read_text(errors="replace").splitlines()
                if any(word in line for word in ORDER_LINES)]
        lines.append(f"{w.log.name}: {len(said)} lines on input order or errors")
        lines.extend(f"  {line[:300]}" for line in said[:40])
    return "\n".join(lines)


def _processed_input(log: str) -> bool:
    return "stage 1 first batch" in log or "stage 2 first batch" in log


def first_progress(run: Run, total: int, worker: Component, timeout: float = 180) -> int:
    """Poll the group's committed events offsets tightly (one admin client, one request per look)
    until the worker committed some, not all; return the lag then."""
    group, topic = run.settings.processor.app_id, EVENTS.name(run.settings.kafka)
    admin = KafkaAdminClient(**kafka_python_options(run.settings.kafka))
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            offsets = committed_offsets(admin, group)
            # kafka-python's offsets are untyped: lag is an int
            lag: int = total - sum(o.offset for tp, o in offsets.items() if tp.topic == topic and o.offset >= 0)
            if lag < total:
                return lag
            time.sleep(0.01)
    finally:
        admin.close()
    pytest.fail(f"the worker committed nothing in {timeout:.0f}s\n{worker.tail()}")


def _describe_group(run: Run) -> dict[str, Any]:
    """The run's consumer group as the broker describes it now."""
    admin = KafkaAdminClient(**kafka_python_options(run.settings.kafka))
    try:
        group_id = run.settings.processor.app_id
        described: dict[str, Any] = admin.describe_groups([group_id])[group_id]
        return described
    finally:
        admin.close()


def group_state(run: Run) -> str:
    """The run's consumer group state: Stable, PreparingRebalance, CompletingRebalance, ..."""
    return str(_describe_group(run)["group_state"])


def members(run: Run) -> int:
    """How many members the run's consumer group has now."""
    return len(_describe_group(run)["members"])


def test_a_worker_stopped_while_its_group_rebalances_exits_cleanly(
    fleet: tuple[Path, Path, int], runs: Callable[[], Run]
) -> None:
    """Two workers share the input and are stopped one after the other, as a service manager stops
    a deployment: the second gets its SIGTERM while the group rebalances after the first left.
    Each exits with 0, and neither reports a crash. (faust crashed the second's fetcher to restart
    it for the rebalance, then re-raised that crash as the worker stopped: a CRITICAL traceback
    and exit code 1 on an ordinary shutdown.)"""
    events, inventory, _ = fleet
    run = runs()
    run.produce(events, inventory)
    workers = [run.start("processor", "run"), run.start("processor", "run")]
    settle(run, workers)
    wait_for(lambda: members(run) == 2, 120, "both workers in the group", workers[1].tail)
    workers[0].proc.send_signal(signal.SIGTERM)
    workers[0].proc.wait(60)
    workers[1].proc.send_signal(signal.SIGTERM)
    codes = [w.stop(signal.SIGTERM, timeout=60) for w in workers]
    texts = [w.log.read_text(errors="replace") for w in workers]
    assert codes == [0, 0] and not any("We experienced a crash" in t for t in texts), (
        codes, "\n---\n".join(w.tail(60) for w in workers))


@pytest.mark.parametrize("leave", [True, False], ids=["leave_group_on_stop", "default"])
def test_a_worker_stopped_with_leave_group_on_stop_is_out_of_its_group_as_it_exits(
    runs: Callable[[], Run], leave: bool
) -> None:
    """By default a stopped worker stays a static member for its session (60 s), so a restart takes
    its partitions back without a rebalance; with ``processor.leave_group_on_stop`` it removes
    itself once stopped, and the workers left would take its partitions at once."""
    run = runs()
    run.settings = run.settings.model_copy(update={
        "processor": run.settings.processor.model_copy(update={"leave_group_on_stop": leave})})
    worker = run.start("processor", "run")
    wait_for(lambda: members(run) == 1 and group_state(run) == "Stable", 120, "the worker in its group", worker.tail)
    assert worker.stop(signal.SIGTERM, timeout=60) == 0, worker.tail(60)
    text = worker.log.read_text(errors="replace")
    if leave:
        assert members(run) == 0, (_describe_group(run), worker.tail())
        assert "left the group" in text, worker.tail()
    else:
        assert members(run) == 1, _describe_group(run)  # its session has 60 s to run
        assert "left the group" not in text
