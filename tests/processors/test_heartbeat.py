"""The worker's heartbeat: phases, how far behind it is, and the warning when a wait lasts."""

from __future__ import annotations

from types import SimpleNamespace
from collections.abc import MutableMapping
from typing import Any, NamedTuple

import pytest
from structlog.testing import capture_logs

from deskwatch.processors.heartbeat import Heartbeat, Pulse, phase, read_pulse


def pulse(**kw: Any) -> Pulse:
    base = {"started": True, "in_recovery": False, "rebalancing": False, "assigned": 4, "received": 10,
            "committed": 10, "behind": 0}
    return Pulse(**(base | kw))


@pytest.mark.parametrize(("now", "want"), [
    (pulse(received=11), "processing"),
    (pulse(received=11, started=False), "processing"),
    (pulse(started=False), "starting"),
    (pulse(rebalancing=True), "rebalancing"),
    (pulse(in_recovery=True), "recovering"),
    (pulse(assigned=0), "no partitions"),
    (pulse(behind=5), "stalled"),
    (pulse(), "idle"),
    (pulse(stopping=True, assigned=0), "stopping"),
], ids=["received", "received-while-starting", "starting", "rebalancing", "recovering", "no-partitions",
        "stalled", "idle", "stopping"])
def test_phase(now: Pulse, want: str) -> None:
    assert phase(pulse(), now) == want


class TP(NamedTuple):
    """faust's TP: a topic and a partition."""

    topic: str
    partition: int


def test_read_pulse_counts_what_waits_past_the_read_offsets() -> None:
    a, b, c = TP("events", 0), TP("events", 1), TP("signals", 0)
    changelog = TP("app-hosts-changelog", 0)  # assigned too, read only while recovering
    app = SimpleNamespace(
        started=True, in_recovery=False, rebalancing=False,
        consumer=SimpleNamespace(assignment=lambda: {a, b, c, changelog}),
        monitor=SimpleNamespace(messages_received_total=7, tp_read_offsets={a: 9},  # offsets 0..9 read
                                tp_committed_offsets={a: 5, b: 3}),
    )
    ends = {("events", 0): 12, ("events", 1): 8, ("signals", 0): 6}
    begins = {("events", 0): 0, ("events", 1): 0, ("signals", 0): 2}
    got = read_pulse(app, frozenset({"events", "signals"}), lambda tps: (begins, ends), lambda: 0.25)
    assert got.loop_delay_s == 0.25
    # events-0: 12 - read to 9; events-1: 8 - committed 3; signals-0 never read: 6 - its beginning 2
    assert (got.assigned, got.received, got.committed, got.behind) == (3, 7, 8, 2 + 5 + 4)
    assert (got.flow_active, got.paused, got.fetching) == (True, 0, -1), "a consumer without faust's bookkeeping"
    assert got.waiting == (("events", 0, 5), ("events", 1, 3), ("signals", 0, 2)), \
        "where each stalled partition is read again from: its commit (events-0 read to 9, committed 5)"


def test_read_pulse_reports_faust_paused_partitions_and_flow() -> None:
    a, b = TP("events", 0), TP("events", 1)
    changelog = TP("app-hosts-changelog", 0)
    consumer = SimpleNamespace(assignment=lambda: {a, b, changelog}, flow_active=False,
                               _paused_partitions={b, changelog}, _active_partitions={a, changelog})
    app = SimpleNamespace(consumer=consumer, monitor=SimpleNamespace(
        messages_received_total=0, tp_read_offsets={}, tp_committed_offsets={}))
    got = read_pulse(app, frozenset({"events"}), lambda tps: ({}, {}))
    assert (got.flow_active, got.paused, got.fetching) == (False, 1, 1)


def test_read_pulse_before_the_consumer_exists() -> None:
    def no_consumer() -> Any:
        raise RuntimeError("no consumer yet")

    app = SimpleNamespace(consumer=SimpleNamespace(assignment=no_consumer),
                          monitor=SimpleNamespace(messages_received_total=0, tp_read_offsets={}, tp_committed_offsets={}))
    got = read_pulse(app, frozenset({"events"}), lambda tps: pytest.fail("no partitions: no offsets asked"))
    assert (got.started, got.assigned, got.behind) == (False, 0, 0)


def test_a_wait_past_the_limit_is_a_warning_and_work_clears_it() -> None:
    clock = [0.0]
    pulses = iter([pulse(behind=3), pulse(behind=3), pulse(behind=3, loop_delay_s=0.4), pulse(behind=3, received=12),
                   pulse(received=12, hosts_cached=(302, 255 * 2**20 + 2**19), groups_cached=(41, 3 * 2**20),
                         stored_bytes=1_100 * 2**20)])
    stalls: list[float] = []
    beat = Heartbeat(SimpleNamespace(monitor=None), 30.0, 60.0, lambda app: next(pulses), clock=lambda: clock[0],
                     on_stall=lambda app, pulse: stalls.append(clock[0]))
    with capture_logs() as logs:
        for t in (30.0, 60.0, 130.0, 160.0, 190.0):
            clock[0] = t
            beat.beat()
    assert [(e["log_level"], e["event"], e["phase"]) for e in logs] == [
        ("info", "processor heartbeat", "processing"),  # the first beat sees 10 received since start
        ("info", "processor heartbeat", "stalled"),  # the wait starts here, at 60 s
        ("warning", "processor not processing", "stalled"),  # 70 s later: past the 60 s limit
        ("info", "processor heartbeat", "processing"),
        ("info", "processor heartbeat", "idle"),
    ]
    assert logs[2]["waited_s"] == 70.0 and logs[2]["behind"] == 3
    assert [e["loop_delay_ms"] for e in logs] == [0, 0, 400, 0, 0], "the loop's longest delay, on every line"
    assert (logs[-1]["hosts_cached"], logs[-1]["hosts_cached_mib"]) == (302, 255.5), "the host states' cache"
    assert (logs[-1]["groups_cached"], logs[-1]["groups_cached_mib"]) == (41, 3.0), "the group states' cache"
    assert logs[-1]["stored_on_disk_mib"] == 1_100.0, "the tables' records on disk"
    assert "stored_on_disk_mib" not in logs[0], "said only with the disk store"
    assert stalls == [130.0], "the stacks are dumped once, at the warning"


def _beats(pulses: list[Pulse], times: list[float], exit_after_s: float | None,
           stalls: list[float] | None = None) -> tuple[list[tuple[float, int]], list[MutableMapping[str, Any]]]:
    """Beat once at each time (interval 30 s, stall after 60 s); return (time, code) of each exit
    asked for, and what it logged; the times on_stall ran go to ``stalls``."""
    clock, feed = [0.0], iter(pulses)
    exits: list[tuple[float, int]] = []
    beat = Heartbeat(SimpleNamespace(monitor=None), 30.0, 60.0, lambda app: next(feed), clock=lambda: clock[0],
                     exit_after_s=exit_after_s, on_exit=lambda code: exits.append((clock[0], code)),
                     on_stall=lambda app, pulse: (stalls if stalls is not None else []).append(clock[0]))
    with capture_logs() as logs:
        for t in times:
            clock[0] = t
            beat.beat()
    return exits, logs


def test_a_worker_waiting_past_the_exit_limit_asks_to_exit_for_a_restart() -> None:
    waiting = pulse(rebalancing=True, received=0)
    exits, logs = _beats([waiting] * 5, [0.0, 30.0, 60.0, 90.0, 120.0], exit_after_s=90.0)
    assert exits == [(90.0, 75), (120.0, 75)], "EX_TEMPFAIL from the first beat past the limit"
    assert logs[3]["event"] == "processor exits: waited too long" and logs[3]["log_level"] == "error"


def test_work_or_a_table_recovery_restarts_the_count_towards_an_exit() -> None:
    waiting, recovering = pulse(rebalancing=True, received=0), pulse(in_recovery=True, received=0)
    worked = pulse(received=5)
    exits, _ = _beats([waiting, waiting, worked, waiting, recovering, recovering, waiting, waiting, waiting],
                      [0.0, 60.0, 90.0, 100.0, 150.0, 600.0, 610.0, 660.0, 700.0], exit_after_s=90.0)
    assert exits == [(700.0, 75)], "counted from 610 s: the last stretch outside work and recovery"


def test_a_worker_whose_app_stopped_without_leaving_exits_even_without_partitions() -> None:
    stuck = pulse(assigned=0, received=0, stopping=True)
    exits, logs = _beats([stuck] * 3, [0.0, 45.0, 90.0], exit_after_s=90.0)
    assert exits == [(90.0, 75)] and logs[-1]["phase"] == "stopping"


def test_a_standby_worker_without_partitions_never_exits() -> None:
    standby = pulse(assigned=0, received=0)
    exits, logs = _beats([standby] * 4, [0.0, 300.0, 600.0, 900.0], exit_after_s=90.0)
    assert exits == [] and logs[-1]["phase"] == "no partitions"


def test_an_unreadable_worker_is_logged_not_raised() -> None:
    def broken(app: Any) -> Pulse:
        raise ConnectionError("broker gone")

    with capture_logs() as logs:
        assert Heartbeat(SimpleNamespace(), 1.0, 1.0, broken).beat() == "unknown"
    assert logs[0]["event"] == "processor heartbeat unreadable" and "broker gone" in logs[0]["error"]


def _stalls(pulses: list[Pulse], times: list[float]) -> tuple[list[float], list[MutableMapping[str, Any]]]:
    """When on_stall ran over these beats, and what was logged (no exit limit)."""
    stalls: list[float] = []
    _, logs = _beats(pulses, times, exit_after_s=None, stalls=stalls)
    return stalls, logs


def test_a_long_table_recovery_is_recovering_and_never_resumed_as_a_stall() -> None:
    """faust sets rebalancing and in_recovery together while it recovers tables; resuming the inputs
    then would let the agents read input against a state not yet recovered."""
    recovering = pulse(rebalancing=True, in_recovery=True, received=0, behind=100)
    stalls, logs = _stalls([recovering] * 6, [30.0, 60.0, 90.0, 120.0, 150.0, 180.0])
    assert {e["phase"] for e in logs} == {"recovering"}
    assert logs[-1]["event"] == "processor not processing", "a long wait is still said"
    assert stalls == []


def test_a_rebalance_is_not_resumed_as_a_stall_but_a_stall_after_it_is() -> None:
    rebalancing, stalled = pulse(rebalancing=True, received=0, behind=9), pulse(received=0, behind=9)
    stalls, _ = _stalls([rebalancing] * 4 + [stalled] * 5, [30.0 * n for n in range(1, 10)])
    assert stalls == [210.0], "60 s into the stalled stretch (from 150 s), once"


@pytest.mark.integration
def test_offsets_start_past_the_groups_commit_after_a_restart(settings: Any) -> None:
    """A worker restarted on a fully committed input is not behind: its monitor knows no commit
    yet, so the first offset still needed comes from the broker (the demo's worker logged
    behind=75, every envelope it had committed before, for minutes)."""
    from kafka import KafkaConsumer, KafkaProducer, TopicPartition
    from kafka.structs import OffsetAndMetadata

    from deskwatch.connect import kafka_python_options
    from deskwatch.processors.heartbeat import kafka_offsets
    from deskwatch.topics import ensure_topics
    from deskwatch.topology import EVENTS
    from tests.prefixed import prefixed

    s = prefixed(settings, 1)
    ensure_topics(s.kafka)
    topic = EVENTS.name(s.kafka)
    producer = KafkaProducer(acks="all", **kafka_python_options(s.kafka))
    for n in range(5):
        producer.send(topic, key=b"PC-1", value=b"x%d" % n, partition=0)
    producer.flush()
    producer.close()
    group = f"{s.processor.app_id}-hb"
    committer = KafkaConsumer(group_id=group, enable_auto_commit=False, **kafka_python_options(s.kafka))
    committer.commit({TopicPartition(topic, 0): OffsetAndMetadata(3, "", -1)})
    committer.close()
    first, ends = kafka_offsets(s.kafka, group)([(topic, 0)])
    assert (first[(topic, 0)], ends[(topic, 0)]) == (3, 5), "two records left past the commit, not five"
    never, _ = kafka_offsets(s.kafka, f"{group}-never")([(topic, 0)])
    assert never[(topic, 0)] == 0, "a group that never committed needs the log from its start"
    app = SimpleNamespace(monitor=SimpleNamespace(tp_read_offsets={}, tp_committed_offsets={}, messages_received_total=0),
                          consumer=SimpleNamespace(assignment=lambda: [TopicPartition(topic, 0)]))
    assert read_pulse(app, frozenset({topic}), kafka_offsets(s.kafka, group)).behind == 2


def test_recovery_remaining_lists_the_changelog_partitions_not_read_to_their_end() -> None:
    from deskwatch.processors.heartbeat import recovery_remaining
    groups0, groups1, hosts0 = TP("app-groups-changelog", 0), TP("app-groups-changelog", 1), TP("app-hosts-changelog", 0)
    recovery = SimpleNamespace(active_tps={groups0, groups1, hosts0},
                               active_offsets={groups0: None, groups1: 26, hosts0: 586},
                               active_highwaters={groups0: 17, groups1: 26, hosts0: 900})
    app = SimpleNamespace(in_recovery=True, tables=SimpleNamespace(recovery=recovery))
    assert recovery_remaining(app) == (("app-groups-changelog", 0, -1, 17), ("app-hosts-changelog", 0, 586, 900))
    assert recovery_remaining(SimpleNamespace(in_recovery=False, tables=None)) == (), "read only while recovering"
    assert recovery_remaining(SimpleNamespace(in_recovery=True)) == (), "no tables yet: nothing, no error"


def test_a_recovery_that_reads_nothing_has_its_changelogs_read_again_at_most_once_per_stall_limit() -> None:
    stuck, moved = (("app-groups-changelog", 0, -1, 17),), (("app-groups-changelog", 0, 5, 17),)
    feed = iter([pulse(in_recovery=True, received=0, recovering=r)
                 for r in (stuck, stuck, stuck, stuck, moved, moved, moved)] + [pulse(received=5)])
    clock, rereads = [0.0], []
    beat = Heartbeat(SimpleNamespace(monitor=None), 30.0, 60.0, lambda app: next(feed), clock=lambda: clock[0],
                     on_recovery_stall=lambda app, p: rereads.append((clock[0], p.recovering)))
    with capture_logs() as logs:
        for t in (0.0, 30.0, 60.0, 90.0, 120.0, 150.0, 180.0, 190.0):
            clock[0] = t
            beat.beat()
    assert rereads == [(60.0, stuck), (180.0, moved)], "60 s without a record read; progress restarts the count"
    warned = [e for e in logs if e["event"] == "table recovery reads nothing"]
    assert [(e["still_s"], e["partitions"]) for e in warned] == [
        (60.0, ["app-groups-changelog[0] at -1 of 17"]), (60.0, ["app-groups-changelog[0] at 5 of 17"])]
