"""Every row of the transition table, driven through the public API; and every refusal."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import pytest

from deskwatch.processors.stage2 import TRANSITIONS, Outcome, Row, Stage2, Trigger
from deskwatch.schemas.command import CommandAction as A
from deskwatch.schemas.command import Silence
from deskwatch.schemas.incident import IncidentStatus, Severity

from .build import Level, Policy, command, run, signal, silence

S = IncidentStatus
Step = tuple[str, object, float]


@dataclass
class Scenario:
    act: list[Step]
    policy: Policy = field(default_factory=Policy)
    silences: dict[str, Silence] = field(default_factory=dict)
    setup: list[Step] = field(default_factory=lambda: [("signal", signal(0), 0)])


# An absorb's time is the event time its claim covers from; a release's, the parent's resolution.
ABSORB = command(A.ABSORB, 0, parent_id="p1", parent_group_key="fleet|site=paris")
SCENARIOS: dict[Trigger, Scenario] = {
    Trigger.FIRST_HIT: Scenario(setup=[], act=[("signal", signal(0), 0)]),
    Trigger.THRESHOLD: Scenario(
        setup=[],
        policy=Policy(min_events=2),
        act=[("signal", signal(0), 0), ("signal", signal(1), 1)],
    ),
    Trigger.ESCALATE: Scenario(
        policy=Policy(escalation=(Level(Severity.HIGH, min_events=2),)),
        act=[("signal", signal(5), 5)],
    ),
    Trigger.ACK: Scenario(act=[("command", command(A.ACK, 5), 5)]),
    # Acknowledged at minute 2 (_prefix); the tick at 13 is past its 10 minutes, before the quiet 30.
    Trigger.ACK_EXPIRE: Scenario(policy=Policy(ack_timeout=timedelta(minutes=10)), act=[("tick", None, 13)]),
    Trigger.ASSIGN: Scenario(act=[("command", command(A.ASSIGN, 5, assignee="carol"), 5)]),
    Trigger.RECOVERY: Scenario(act=[("signal", signal(5, recovery=True), 5)]),
    Trigger.QUIET: Scenario(act=[("tick", None, 31)]),
    Trigger.LIFETIME: Scenario(
        policy=Policy(max_lifetime=timedelta(minutes=20)), act=[("tick", None, 25)]
    ),
    Trigger.OPERATOR_RESOLVE: Scenario(act=[("command", command(A.RESOLVE, 5), 5)]),
    Trigger.REOPEN: Scenario(act=[("signal", signal(10), 10)]),
    # Resolved by pc-1's recovery at 5; pc-2's hit at 3, arriving after it, was before it.
    Trigger.WITHDRAW: Scenario(act=[("signal", signal(5, recovery=True), 5), ("signal", signal(3, "pc-2"), 6)]),
    Trigger.FLAP: Scenario(
        policy=Policy(flap_threshold=2),
        act=[
            ("command", command(A.RESOLVE, 6), 6),
            ("signal", signal(7), 7),
            ("command", command(A.RESOLVE, 8), 8),
            ("signal", signal(9), 9),
        ],
    ),
    Trigger.SILENCE: Scenario(
        silences={"s1": silence("s1", 4, 60, site="paris")}, act=[("tick", None, 5)]
    ),
    Trigger.UNSILENCE: Scenario(
        silences={"s1": silence("s1", 0, 6, site="paris")}, act=[("tick", None, 7)]
    ),
    Trigger.ABSORB: Scenario(act=[("command", ABSORB, 5)]),
    # Released at minute 1: after the incident opened (0), before its last hit (2): a child shows
    # again only with a hit after its parent's release; the resolved row resolves at minute 2.
    Trigger.RELEASE: Scenario(setup=[("signal", signal(0), 0), ("signal", signal(2), 2)],
                              act=[("command", ABSORB, 5), ("command", command(A.RELEASE, 1), 6)]),
    Trigger.LINK_CHILD: Scenario(act=[("command", command(A.LINK_CHILD, 5, child_id="c1"), 5)]),
    Trigger.UNLINK_CHILD: Scenario(
        act=[
            ("command", command(A.LINK_CHILD, 5, child_id="c1"), 5),
            ("command", command(A.UNLINK_CHILD, 6, child_id="c1"), 6),
        ]
    ),
}


def _prefix(status: IncidentStatus | None) -> list[Step]:
    """Steps that bring the open incident of the setup into ``status``."""
    if status is S.ACKNOWLEDGED:
        return [("command", command(A.ACK, 2), 2)]
    if status is S.RESOLVED:
        return [("command", command(A.RESOLVE, 2), 2)]
    return []


def _row_id(row: Row) -> str:
    return f"{row.from_status or 'none'}-{row.trigger}-{row.to_status}"


@pytest.mark.parametrize("row", TRANSITIONS, ids=[_row_id(r) for r in TRANSITIONS])
def test_every_row_is_reachable_and_recorded(row: Row) -> None:
    scenario = SCENARIOS[row.trigger]
    stage = Stage2({"disk-full": scenario.policy}, scenario.silences)
    steps = scenario.setup + _prefix(row.from_status) + scenario.act
    if row.trigger in (Trigger.FLAP, Trigger.WITHDRAW):
        steps = scenario.setup + scenario.act  # they only ever follow a reopen, a recovery
    last = run(stage, steps)[-1]
    seen = [(c.from_status, c.to_status, c.reason) for c in last.changes]
    assert (row.from_status, row.to_status, row.reason) in seen
    assert all(c.reason for c in last.changes)


def test_table_has_one_row_per_status_and_trigger() -> None:
    keys = [(r.from_status, r.trigger) for r in TRANSITIONS]
    assert len(keys) == len(set(keys))
    assert {r.trigger for r in TRANSITIONS} == set(Trigger)


OPEN_PC1 = [("signal", signal(0), 0)]
RESOLVED = OPEN_PC1 + [("command", command(A.RESOLVE, 1), 1)]
ACKED = OPEN_PC1 + [("command", command(A.ACK, 1), 1)]
ASSIGNED = OPEN_PC1 + [("command", command(A.ASSIGN, 1, assignee="carol"), 1)]
ABSORBED = OPEN_PC1 + [("command", ABSORB, 1)]
REFUSALS = [
    ("ack-resolved", RESOLVED, command(A.ACK, 2), Outcome.IGNORED_ALREADY_RESOLVED),
    ("resolve-resolved", RESOLVED, command(A.RESOLVE, 2), Outcome.IGNORED_ALREADY_RESOLVED),
    (
        "assign-resolved",
        RESOLVED,
        command(A.ASSIGN, 2, assignee="x"),
        Outcome.IGNORED_ALREADY_RESOLVED,
    ),
    ("ack-acked", ACKED, command(A.ACK, 2, actor="dave"), Outcome.IGNORED_ALREADY_ACKNOWLEDGED),
    (
        "assign-same",
        ASSIGNED,
        command(A.ASSIGN, 2, assignee="carol"),
        Outcome.IGNORED_ALREADY_ASSIGNED,
    ),
    (
        "ack-unknown-id",
        OPEN_PC1,
        command(A.ACK, 2, incident_id="nope"),
        Outcome.IGNORED_UNKNOWN_INCIDENT,
    ),
    ("ack-empty-group", [], command(A.ACK, 2), Outcome.NO_INCIDENT),
    ("release-unabsorbed", OPEN_PC1, command(A.RELEASE, 2), Outcome.IGNORED_NOT_ABSORBED),
    (
        "release-stale-parent",
        ABSORBED,
        command(A.RELEASE, 2, parent_id="p0"),
        Outcome.IGNORED_STALE_PARENT,
    ),
    ("absorb-twice", ABSORBED, ABSORB, Outcome.IGNORED_ALREADY_ABSORBED),
    (
        "unlink-unknown",
        OPEN_PC1,
        command(A.UNLINK_CHILD, 2, child_id="c9"),
        Outcome.IGNORED_NOT_LINKED,
    ),
    (
        "link-twice",
        OPEN_PC1 + [("command", command(A.LINK_CHILD, 1, child_id="c1"), 1)],
        command(A.LINK_CHILD, 2, child_id="c1"),
        Outcome.IGNORED_ALREADY_LINKED,
    ),
]


@pytest.mark.parametrize(
    ("prefix", "cmd", "outcome"), [r[1:] for r in REFUSALS], ids=[r[0] for r in REFUSALS]
)
def test_refused_commands_change_nothing_and_say_why(
    prefix: list[Step], cmd: object, outcome: Outcome
) -> None:
    stage = Stage2({"disk-full": Policy()})
    results = run(stage, prefix + [("command", cmd, 3)])
    last = results[-1]
    assert [d.outcome for d in last.decisions] == [outcome]
    assert last.changes == [] and last.incidents == []
    if results[:-1]:
        assert last.state == results[-2].state


def test_described_table_lists_every_row() -> None:
    from deskwatch.processors.stage2 import describe_transitions

    lines = describe_transitions().splitlines()
    assert len(lines) == 2 + len(TRANSITIONS)
    assert "| resolved | reopen | open | reopened |" in lines
    assert "| (none) | threshold | open | threshold_reached |" in lines
