"""Operator commands: ack, assign, resolve; each a transition with its actor, or a refusal."""

from __future__ import annotations

from deskwatch.processors.stage2 import Outcome, Stage2
from deskwatch.schemas.command import CommandAction as A
from deskwatch.schemas.incident import ChangeReason, IncidentStatus

from .build import Policy, at, command, run, signal

STAGE = Stage2({"disk-full": Policy()})


def test_ack_assign_resolve_in_order() -> None:
    steps = [
        ("signal", signal(0), 0),
        ("command", command(A.ACK, 1, comment="on it"), 1),
        ("command", command(A.ASSIGN, 2, assignee="carol"), 2),
        ("command", command(A.RESOLVE, 3), 3),
    ]
    results = run(STAGE, steps)
    changes = [c for r in results for c in r.changes]
    assert [(c.from_status, c.to_status, c.reason, c.revision) for c in changes] == [
        (None, IncidentStatus.OPEN, ChangeReason.OPENED, 1),
        (IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED, ChangeReason.ACKNOWLEDGED, 2),
        (IncidentStatus.ACKNOWLEDGED, IncidentStatus.ACKNOWLEDGED, ChangeReason.ASSIGNED, 3),
        (IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED, ChangeReason.OPERATOR_RESOLVED, 4),
    ]
    assert [c.actor for c in changes[1:]] == ["alice"] * 3 and changes[1].detail == "on it"
    final = results[-1].incidents[0]
    assert (final.acknowledged_by, final.acknowledged_at, final.assignee) == (
        "alice",
        at(1),
        "carol",
    )
    assert final.resolved_at == at(3)


def test_ack_of_a_resolved_incident_is_ignored_with_reason() -> None:
    results = run(
        STAGE, [("signal", signal(0), 0), ("tick", None, 31), ("command", command(A.ACK, 32), 32)]
    )
    last = results[-1]
    assert [(d.outcome, d.incident_id) for d in last.decisions] == [
        (Outcome.IGNORED_ALREADY_RESOLVED, results[0].incidents[0].id)
    ]
    assert last.changes == [] and last.incidents == []


def test_command_naming_an_older_incident_does_not_touch_the_current_one() -> None:
    steps = [("signal", signal(0), 0), ("tick", None, 31), ("signal", signal(70), 70)]
    results = run(STAGE, steps)
    old_id = results[0].incidents[0].id
    newer = results[-1].state
    ack_old = STAGE.on_command(newer, command(A.ACK, 71, incident_id=old_id), at(71))
    assert [(d.outcome, d.incident_id) for d in ack_old.decisions] == [
        (Outcome.IGNORED_ALREADY_RESOLVED, old_id)
    ]
    assert ack_old.state == newer and ack_old.changes == []
    unknown = STAGE.on_command(newer, command(A.ACK, 71, incident_id="never-existed"), at(71))
    assert [d.outcome for d in unknown.decisions] == [Outcome.IGNORED_UNKNOWN_INCIDENT]


def test_resolve_then_recovery_signal_changes_nothing_more() -> None:
    results = run(
        STAGE,
        [
            ("signal", signal(0), 0),
            ("command", command(A.RESOLVE, 1), 1),
            ("signal", signal(2, recovery=True), 2),
        ],
    )
    assert results[-1].changes == [] and results[-1].incidents == []
    assert [d.outcome for d in results[-1].decisions] == [Outcome.RECOVERY_WITHOUT_INCIDENT]


def test_recovery_before_threshold_clears_the_pending_window() -> None:
    results = run(
        Stage2({"disk-full": Policy(min_events=3)}),
        [
            ("signal", signal(0), 0),
            ("signal", signal(1, recovery=True), 1),
            ("signal", signal(2), 2),
            ("signal", signal(3), 3),
        ],
    )
    assert results[1].decisions[0].source_ids == (signal(0).source_id,)
    assert all(r.incidents == [] for r in results)


def test_a_recovery_arriving_early_clears_only_the_hits_before_it_in_event_time() -> None:
    """The two-worker run's order: one host's hits and its later recovery reach the site group
    before the other hosts' hits that, in event time, opened the incident with it."""
    stage = Stage2({"disk-full": Policy(min_hosts=3)})
    a_hit, a_recovery = signal(0, "a"), signal(30, "a", recovery=True)
    others = [signal(1, "b"), signal(2, "c")]
    in_order = run(stage, [("signal", s, s.last_seen.minute) for s in (a_hit, *others, a_recovery)])
    arrived = run(stage, [("signal", s, 40) for s in (a_hit, a_recovery, *others)])
    opened = [i for r in arrived for i in r.incidents if i.status is IncidentStatus.OPEN]
    assert opened and opened[0].hosts == ["a", "b", "c"] and opened[0].opened_at == at(2)
    assert [d.outcome for d in arrived[1].decisions] == [Outcome.RECOVERY_WITHOUT_INCIDENT]
    assert arrived[-1].state.recovered == {"a": at(30)}, "a's recovery counts after the opening"
    assert arrived[-1].state.window == [] and in_order[-1].state.recovered == {"a": at(30)}


def test_recoveries_after_the_opening_resolve_it_when_every_host_recovered() -> None:
    stage = Stage2({"disk-full": Policy(min_hosts=2)})
    signals = [signal(0, "a"), signal(5, "a", recovery=True), signal(6, "b", recovery=True), signal(1, "b")]
    results = run(stage, [("signal", s, 10) for s in signals])
    final = results[-1].incidents[-1]
    assert final.status is IncidentStatus.RESOLVED and final.resolved_at == at(6)
    assert final.opened_at == at(1) and final.hosts == ["a", "b"]
