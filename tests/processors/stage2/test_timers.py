"""Quiet timeouts per device class, max lifetime, acknowledgements that lapse, reopen-or-new, flapping."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deskwatch.processors.rules import load_default_pack
from deskwatch.processors.stage2 import GroupState, Stage2, Stage2Result, child_group_key
from deskwatch.schemas.command import CommandAction as A
from deskwatch.schemas.incident import ChangeReason, Incident, IncidentStatus, Severity

from .build import Level, Policy, at, command, fleet_signals, full_tick, run, signal
from .interleave import comparable

# (id, device classes of the group's hosts, tick minute, resolved?)
QUIET = [
    ("workstation-before", ["workstation"], 29, False),
    ("workstation-after", ["workstation"], 30, True),
    ("server-after", ["server"], 16, True),
    ("unknown-class-falls-back", [None], 31, True),
    ("laptop-never", ["laptop"], 60 * 24 * 30, False),
    ("laptop-and-workstation-never", ["workstation", "laptop"], 60 * 24, False),
    ("server-and-workstation-longest", ["server", "workstation"], 20, False),
]


@pytest.mark.parametrize(
    ("classes", "tick", "resolved"), [q[1:] for q in QUIET], ids=[q[0] for q in QUIET]
)
def test_quiet_timeout_follows_device_class(
    classes: list[str | None], tick: float, resolved: bool
) -> None:
    steps = [("signal", signal(0, f"h{i}", device_class=c), 0) for i, c in enumerate(classes)]
    last = run(Stage2({"disk-full": Policy()}), steps + [("tick", None, tick)])[-1]
    assert [c.reason for c in last.changes] == ([ChangeReason.QUIET_TIMEOUT] if resolved else [])
    if resolved:
        assert last.incidents[0].status is IncidentStatus.RESOLVED
        assert last.incidents[0].resolved_at == at(tick)


def test_quiet_is_measured_from_the_last_event() -> None:
    steps = [
        ("signal", signal(0), 0),
        ("signal", signal(20), 20),
        ("tick", None, 40),
        ("tick", None, 50),
    ]
    results = run(Stage2({"disk-full": Policy()}), steps)
    assert results[2].changes == []
    assert [c.reason for c in results[3].changes] == [ChangeReason.QUIET_TIMEOUT]


ACK_AT_5 = [("signal", signal(0), 0), ("signal", signal(4), 4), ("command", command(A.ACK, 5, actor="alice"), 5)]


def test_an_acknowledgement_lapses_after_the_rules_ack_timeout() -> None:
    # quiet never: only the acknowledgement's timer runs
    stage = Stage2({"disk-full": Policy(ack_timeout=timedelta(minutes=20), quiet={"workstation": None})})
    results = run(stage, ACK_AT_5 + [("tick", None, 24), ("tick", None, 25), ("tick", None, 26)])
    assert results[3].changes == [], "19 minutes: still acknowledged"
    (change,) = results[4].changes
    assert (change.from_status, change.to_status, change.reason) == (
        IncidentStatus.ACKNOWLEDGED, IncidentStatus.OPEN, ChangeReason.ACK_EXPIRED)
    assert change.detail == f"acknowledged by alice at {at(5).isoformat()}, 0:20:00 ago" and change.at == at(25)
    (incident,) = results[4].incidents
    assert incident.status is IncidentStatus.OPEN and (incident.acknowledged_by, incident.acknowledged_at) == (None, None)
    assert results[5].changes == [], "lapsed once; open incidents have nothing to lapse"
    again = run(stage, ACK_AT_5 + [("tick", None, 25), ("command", command(A.ACK, 26, actor="bob"), 26),
                                   ("tick", None, 45), ("tick", None, 46)])
    assert again[-2].changes == [] and [c.reason for c in again[-1].changes] == [ChangeReason.ACK_EXPIRED]
    assert "acknowledged by bob" in again[-1].changes[0].detail, "a new acknowledgement starts its own timer"


def test_ack_timeout_and_quiet_timeout_are_separate_timers() -> None:
    # no ack_timeout: an acknowledgement stays; the quiet timeout (30 min) still resolves it
    results = run(Stage2({"disk-full": Policy()}), ACK_AT_5 + [("tick", None, 33), ("tick", None, 34)])
    assert results[3].changes == []
    assert [(c.from_status, c.reason) for c in results[4].changes] == [
        (IncidentStatus.ACKNOWLEDGED, ChangeReason.QUIET_TIMEOUT)]
    # both due on one tick: the incident ends, nothing lapses
    both = run(Stage2({"disk-full": Policy(ack_timeout=timedelta(minutes=20))}), ACK_AT_5 + [("tick", None, 40)])
    assert [c.reason for c in both[-1].changes] == [ChangeReason.QUIET_TIMEOUT]


def test_ack_timeout_is_read_from_the_rule_yaml() -> None:
    from deskwatch.processors.rules import parse_rules

    (rule,) = parse_rules("""
- id: disk-full
  version: 1
  title: Disk full
  remediation: Free space
  severity: low
  match: {field: event.code, equals: 7}
  group_by: [host.name]
  window: 10m
  ack_timeout: 4h
""")
    assert rule.ack_timeout == timedelta(hours=4)


def test_max_lifetime_resolves_even_a_busy_laptop_incident() -> None:
    policy = Policy(max_lifetime=timedelta(hours=2))
    steps = [("signal", signal(m, device_class="laptop"), m) for m in range(0, 120, 10)] + [
        ("tick", None, 121)
    ]
    last = run(Stage2({"disk-full": policy}), steps)[-1]
    assert [c.reason for c in last.changes] == [ChangeReason.MAX_LIFETIME]


def test_max_lifetime_on_a_signal_starts_a_new_incident_not_a_reopen() -> None:
    policy = Policy(max_lifetime=timedelta(hours=1), quiet={"workstation": None})
    results = run(
        Stage2({"disk-full": policy}), [("signal", signal(0), 0), ("signal", signal(61), 61)]
    )
    old, new = results[0].incidents[0], results[1]
    assert new.state.incident is not None  # for mypy: the opened incident (checked again below)
    assert [(c.incident_id, c.reason) for c in new.changes] == [
        (old.id, ChangeReason.MAX_LIFETIME),
        (new.state.incident.id, ChangeReason.OPENED),
    ]
    assert new.state.incident is not None and new.state.incident.id != old.id
    assert new.state.incident.event_count == 1


LIVED = Policy(max_lifetime=timedelta(hours=1), quiet={"workstation": None})


def test_a_signal_or_a_tick_past_the_lifetime_resolves_the_incident_at_its_end() -> None:
    by_signal = run(Stage2({"disk-full": LIVED}), [("signal", signal(0), 0), ("signal", signal(95), 95)])[-1]
    by_tick = run(Stage2({"disk-full": LIVED}), [("signal", signal(0), 0), ("tick", None, 75)])[-1]
    for last in (by_signal, by_tick):
        ended = next(c for c in last.changes if c.reason is ChangeReason.MAX_LIFETIME)
        assert ended.at == at(60)
        assert next(i for i in last.incidents if i.id == ended.incident_id).resolved_at == at(60)


def test_a_late_hit_inside_an_ended_lifetime_counts_into_that_incident() -> None:
    # Event time: hits at 0 and 40, the lifetime ends at 60, the hit at 95 opens another.
    # A backlog brings 40 last: it belongs to the first, and opens nothing.
    stage = Stage2({"disk-full": LIVED})
    in_order = run(stage, [("signal", signal(m), m) for m in (0, 40, 95)])
    late = run(stage, [("signal", signal(m), m) for m in (0, 95, 40)])
    (counted,) = late[-1].incidents
    assert late[-1].changes == [] and counted.status is IncidentStatus.RESOLVED
    assert (counted.event_count, counted.last_seen, counted.resolved_at) == (2, at(40), at(60))
    assert late[-1].state.incident is not None and late[-1].state.incident.event_count == 1
    assert comparable(_final(late)) == comparable(_final(in_order))


def test_a_late_hit_that_moves_the_opening_back_moves_the_lifetimes_end() -> None:
    # Two hits in 50 minutes open. Event time: pc-2 at 0 and pc-1 at 20 open at 20, the lifetime
    # ends at 80, before pc-1's recovery at 85. A backlog brings pc-2's hit last: the incident
    # opened at 45 and resolved by the recovery at 85; the hit withdraws that resolution, moves
    # the opening to 20, and the lifetime has ended at 80.
    stage = Stage2({"disk-full": Policy(min_events=2, window=timedelta(minutes=50), max_lifetime=timedelta(hours=1),
                                        quiet={"workstation": None})})
    early, recovery = ("signal", signal(0, "pc-2"), 0), ("signal", signal(85, "pc-1", recovery=True), 85)
    hits = [("signal", signal(m, "pc-1"), m) for m in (20, 45)]
    late = run(stage, [*hits, recovery, early])
    in_order = run(stage, [early, *hits, recovery])
    (incident,) = _final(late).values()
    assert (incident.opened_at, incident.resolved_at, incident.reason) == (at(20), at(80), ChangeReason.MAX_LIFETIME)
    assert (incident.event_count, incident.hosts) == (3, ["pc-1", "pc-2"])
    assert comparable(_final(late)) == comparable(_final(in_order))


def test_hosts_a_late_hit_adds_to_an_ended_parent_are_claimed_and_released_at_its_end() -> None:
    parent = Policy(id="fleet-disk", min_hosts=2, absorbs=("disk-full",), max_lifetime=timedelta(hours=1),
                    quiet={"workstation": None})
    stage = Stage2({"fleet-disk": parent, "disk-full": Policy()})
    site = {"site": "paris"}
    steps = [("signal", signal(m, h, rule="fleet-disk", group=site), m) for m, h in ((0, "pc-1"), (1, "pc-2"), (90, "pc-1"))]
    results = run(stage, steps + [("signal", signal(30, "pc-3", rule="fleet-disk", group=site), 91)])
    late = results[-1]
    assert [(c.action, c.group_key, c.at) for c in late.commands] == [
        (A.ABSORB, child_group_key("disk-full", "pc-3"), at(0) - parent.window),
        (A.RELEASE, child_group_key("disk-full", "pc-3"), at(61)),  # opened at 1, by pc-2's hit
    ]
    assert late.incidents[0].hosts == ["pc-1", "pc-2", "pc-3"] and late.incidents[0].resolved_at == at(61)


def test_a_late_hit_before_an_operators_resolution_counts_into_it() -> None:
    # Resolved by alice at 10; a hit of minute 7 arrives at 12 (a file read late): it belongs to
    # what she resolved, and reopens nothing.
    stage = Stage2({"disk-full": Policy()})
    results = run(stage, [("signal", signal(0), 0), ("signal", signal(5), 5), ("command", command(A.RESOLVE, 10), 10),
                          ("signal", signal(7), 12)])
    late = results[-1]
    (counted,) = late.incidents
    assert late.changes == [] and late.state.incident is None
    assert (counted.status, counted.reason, counted.event_count, counted.resolved_at) == (
        IncidentStatus.RESOLVED, ChangeReason.OPERATOR_RESOLVED, 3, at(10))


QUIET_AT_45 = [("signal", signal(0), 0), ("signal", signal(10), 10), ("tick", None, 45)]  # 30 min after 10


def test_a_late_hit_a_quiet_timeout_had_passed_counts_into_the_resolved_incident() -> None:
    stage = Stage2({"disk-full": Policy()})
    late = run(stage, [*QUIET_AT_45, ("signal", signal(12), 46)])
    in_order = run(stage, [*QUIET_AT_45[:2], ("signal", signal(12), 12), QUIET_AT_45[2]])
    assert late[-1].changes == [] and late[-1].state.incident is None
    assert late[-1].incidents[0].event_count == 3 and late[-1].incidents[0].resolved_at == at(45)
    assert comparable(_final(late)) == comparable(_final(in_order))


def test_a_late_hit_inside_the_quiet_timeout_withdraws_its_resolution() -> None:
    # At 45 the incident was not quiet: a hit of minute 20 says so. It is live again, not
    # reopened, and the next tick 30 minutes after 20 resolves it, as in event time.
    stage = Stage2({"disk-full": Policy()})
    late = run(stage, [*QUIET_AT_45, ("signal", signal(20), 46), ("tick", None, 50)])
    withdrawn = late[-2]
    assert [(c.from_status, c.to_status) for c in withdrawn.changes] == [("resolved", "open")]
    assert "withdrawn" in withdrawn.changes[0].detail and withdrawn.incidents[0].reopen_count == 0
    in_order = run(stage, [*QUIET_AT_45[:2], ("signal", signal(20), 20), ("tick", None, 45), ("tick", None, 50)])
    assert _final(late)[withdrawn.incidents[0].id].resolved_at == at(50)
    assert comparable(_final(late)) == comparable(_final(in_order))


def test_a_late_recovery_earlier_than_the_resolving_one_moves_the_resolution_back() -> None:
    # Event time: hits at 0 and 5, recoveries at 10 and 20: resolved at 10. A partition read
    # again brings the recovery of 10 after the one of 20.
    stage = Stage2({"disk-full": Policy()})
    hits = [("signal", signal(m), m) for m in (0, 5)]
    recoveries = [("signal", signal(m, recovery=True), m) for m in (10, 20)]
    late = run(stage, [*hits, *recoveries[::-1]])
    assert late[-2].incidents[0].resolved_at == at(20)
    assert late[-1].changes == [] and late[-1].incidents[0].resolved_at == at(10)
    assert comparable(_final(late)) == comparable(_final(run(stage, [*hits, *recoveries])))


def test_a_late_recovery_earlier_than_its_hosts_kept_one_counts_while_others_still_fail() -> None:
    stage = Stage2({"disk-full": Policy(min_hosts=2)})
    hits = [("signal", signal(m, h), m) for m, h in ((0, "pc-1"), (1, "pc-2"))]
    steps = [("signal", signal(20, "pc-1", recovery=True), 20), ("signal", signal(10, "pc-1", recovery=True), 21),
             ("signal", signal(12, "pc-2", recovery=True), 22)]
    late = run(stage, [*hits, *steps])
    assert late[-1].incidents[0].resolved_at == at(12)  # pc-1 at 10, pc-2 at 12
    in_order = run(stage, [*hits, *sorted(steps, key=lambda step: step[1].last_seen)])
    assert comparable(_final(late)) == comparable(_final(in_order))


def test_the_opening_reason_counts_the_signals_at_or_before_the_opening_whatever_their_order() -> None:
    # Three events open. One signal carrying three (a dedup window's) opens alone: ``opened``; with
    # another signal before it in the window: ``threshold_reached``; one after it changes nothing.
    stage = Stage2({"disk-full": Policy(min_events=3)})
    alone, before, after = signal(10, count=3), signal(5), signal(12)
    for first, second, reason in ((alone, before, ChangeReason.THRESHOLD_REACHED), (after, alone, ChangeReason.OPENED)):
        in_order = run(stage, [("signal", s, 0) for s in sorted((first, second), key=lambda s: s.last_seen)])
        late = run(stage, [("signal", first, 0), ("signal", second, 0)])
        (incident,) = _final(late).values()
        assert (incident.reason, incident.opened_at, incident.event_count) == (reason, at(10), 4)
        assert comparable(_final(late)) == comparable(_final(in_order))


SITE_WIDE = Policy(min_events=3, min_hosts=2, window=timedelta(minutes=30), quiet={"workstation": None},
                  escalation=(Level(Severity.HIGH, min_hosts=3),))


def _site(minute: float, host: str, count: int = 1) -> tuple[str, object, float]:
    return ("signal", signal(minute, host, count=count), minute)


def test_a_late_hit_that_joins_the_opening_gives_it_the_opening_s_severity_and_reason() -> None:
    # Event time: pc-1, pc-2, pc-3 at 0, 1, 2 open at 2 with 3 hosts: high, threshold_reached.
    # pc-3's hit arrives last: it opened at 3 (pc-1 again) with 2 hosts, medium; pc-3 moves the
    # opening to 2 and its 3 hosts make it high there, not an escalation after it.
    stage = Stage2({"disk-full": SITE_WIDE})
    in_order = run(stage, [_site(0, "pc-1"), _site(1, "pc-2"), _site(2, "pc-3"), _site(3, "pc-1")])
    late = run(stage, [_site(0, "pc-1"), _site(1, "pc-2"), _site(3, "pc-1"), _site(2, "pc-3")])
    assert late[-2].incidents[0].severity is Severity.MEDIUM
    (incident,) = _final(late).values()
    assert (incident.severity, incident.reason, incident.opened_at) == (Severity.HIGH, ChangeReason.THRESHOLD_REACHED, at(2))
    assert [c.detail for c in late[-1].changes] == ["medium -> high at its opening"]
    assert comparable(_final(late)) == comparable(_final(in_order))


def test_a_hit_held_past_an_opening_escalates_it_after_it() -> None:
    # Event time: pc-1 (two events) at 0 and pc-2 at 1 open at 1, medium; pc-3 at 20 escalates.
    # pc-3's hit arrives first and is held: the opening at 1 counts it, but after it.
    stage = Stage2({"disk-full": SITE_WIDE})
    in_order = run(stage, [_site(0, "pc-1", 2), _site(1, "pc-2"), _site(20, "pc-3")])
    late = run(stage, [_site(20, "pc-3"), _site(1, "pc-2"), _site(0, "pc-1", 2)])
    assert [c.reason for c in late[-1].changes] == [ChangeReason.THRESHOLD_REACHED, ChangeReason.ESCALATED]
    (incident,) = _final(late).values()
    assert (incident.severity, incident.reason, incident.opened_at) == (Severity.HIGH, ChangeReason.ESCALATED, at(1))
    assert comparable(_final(late)) == comparable(_final(in_order))


def _final(results: list[Stage2Result]) -> dict[str, Incident]:
    """Each incident's last revision over a run's results."""
    return {i.id: i for result in results for i in result.incidents}


def test_reopen_within_window_keeps_id_and_counts() -> None:
    steps = [
        ("signal", signal(0), 0),
        ("command", command(A.ACK, 1), 1),
        ("tick", None, 31),
        ("signal", signal(50), 50),
    ]
    results = run(Stage2({"disk-full": Policy()}), steps)
    first, reopened = results[0].incidents[0], results[-1].incidents[0]
    assert reopened.id == first.id and reopened.revision == 4
    assert (reopened.status, reopened.reason, reopened.reopen_count) == (
        IncidentStatus.OPEN,
        ChangeReason.REOPENED,
        1,
    )
    assert (
        reopened.event_count == 2
        and reopened.resolved_at is None
        and reopened.acknowledged_by is None
    )


def test_hit_after_reopen_window_opens_a_new_incident() -> None:
    steps = [("signal", signal(0), 0), ("tick", None, 31), ("signal", signal(62), 62)]
    results = run(Stage2({"disk-full": Policy()}), steps)
    first, second = results[0].incidents[0], results[-1].incidents[0]
    assert second.id != first.id and second.revision == 1 and second.reason is ChangeReason.OPENED
    assert results[-1].state.last_resolved == results[1].incidents[0]


def test_no_reopen_window_means_always_new() -> None:
    steps = [
        ("signal", signal(0), 0),
        ("command", command(A.RESOLVE, 1), 1),
        ("signal", signal(2), 2),
    ]
    results = run(Stage2({"disk-full": Policy(reopen_window=None)}), steps)
    assert results[-1].incidents[0].id != results[0].incidents[0].id


def test_flapping_after_threshold_cycles_and_notifications_stop() -> None:
    policy = Policy(flap_threshold=3)
    steps: list[tuple[str, object, float]] = [("signal", signal(0), 0)]
    for cycle in range(4):
        steps += [
            ("command", command(A.RESOLVE, 10 * cycle + 5), 10 * cycle + 5),
            ("signal", signal(10 * cycle + 6), 10 * cycle + 6),
        ]
    results = run(Stage2({"disk-full": policy}), steps)
    reopens = [r for r in results if any(c.reason is ChangeReason.REOPENED for c in r.changes)]
    assert [any(c.reason is ChangeReason.FLAPPING for c in r.changes) for r in reopens] == [
        False,
        False,
        True,
        False,
    ]
    assert [c.notify for c in reopens[1].changes] == [True]
    assert all(not c.notify for r in reopens[2:] for c in r.changes)
    assert all(
        not c.notify for c in results[-2].changes
    )  # resolves of a flapping incident stay quiet too
    assert results[-1].incidents[0].flapping and results[-1].incidents[0].reopen_count == 4


def test_no_reopen_past_max_lifetime() -> None:
    policy = Policy(max_lifetime=timedelta(minutes=40), reopen_window=timedelta(minutes=30))
    steps = [("signal", signal(0), 0), ("tick", None, 31), ("signal", signal(41), 41)]
    results = run(Stage2({"disk-full": policy}), steps)
    assert [c.reason for c in results[-1].changes] == [ChangeReason.OPENED]
    assert results[-1].incidents[0].id != results[0].incidents[0].id


def test_the_default_pack_lets_acknowledgements_of_site_and_fleet_wide_incidents_lapse_after_a_working_day() -> None:
    from deskwatch.processors.rules import load_default_pack

    lapsing = {rule.id: rule.ack_timeout for rule in load_default_pack() if rule.ack_timeout is not None}
    assert lapsing == dict.fromkeys(("av-definitions-stale", "gpo-failure-site", "update-server-outage",
                                     "dns-timeouts-site", "spooler-failure-site", "app-crash-spread"),
                                    timedelta(hours=8))


def test_a_tick_a_pending_window_outlasts_gives_what_the_full_tick_gives() -> None:
    """on_tick hands back, untouched, a group with no live incident whose window entries are all
    newer than the window's cutoff (``tick_due``); the full tick, on the same states of a simulated
    fleet at times around each entry's cutoff, gives the same result: nothing changed or sent."""
    pack = load_default_pack()
    policies = {rule.id: rule for rule in pack}
    core = Stage2(policies)
    groups: dict[str, GroupState] = {}
    skipped = advanced = 0
    for n, (sig, now) in enumerate(fleet_signals(5)):
        result = core.on_signal(groups.get(sig.group_key), sig, now)
        groups[sig.group_key] = result.state
        for cmd in result.commands:
            groups[cmd.group_key] = core.on_command(groups.get(cmd.group_key), cmd, now).state
        if n % 50:
            continue
        for state in groups.values():
            if not core.tickable(state):
                continue
            policy = policies[state.rule_id]
            times = {now, *(e.last_seen + policy.window + d for e in state.window[:3]
                            for d in (timedelta(0), timedelta(microseconds=1)))}
            for tick in sorted(times):
                fast = core.on_tick(state, tick)
                if fast.state is state:  # handed back as it was: skipped
                    skipped += 1
                    assert full_tick(core, state, tick) == fast
                    due = core.tick_due(state)
                    assert due is not None and tick < due
                else:
                    advanced += 1
    assert skipped > 1000 and advanced > 100


def test_an_incident_a_new_rule_version_escalates_by_its_counts_is_due_at_the_next_tick() -> None:
    """A restart with a rule whose new escalation level the open incident's counts already reach:
    no signal comes to apply it, so the next tick must (its counts are no timer)."""
    before = Policy(quiet={"workstation": None})
    steps = [("signal", signal(0, "pc-1", count=3), 0)]
    state = run(Stage2({"disk-full": before}), steps)[-1].state
    assert state.incident is not None and state.incident.severity is Severity.MEDIUM
    after = Stage2({"disk-full": Policy(quiet={"workstation": None}, escalation=(Level(Severity.HIGH, min_events=2),))})
    result = after.on_tick(state, at(1))
    assert result == full_tick(after, state, at(1))
    assert [i.severity for i in result.incidents] == [Severity.HIGH]
