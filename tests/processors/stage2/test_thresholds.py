"""Opening thresholds over an event-time window, and escalation by levels."""

from __future__ import annotations

from datetime import timedelta

import pytest

from deskwatch.processors.stage2 import Outcome, Stage2
from deskwatch.processors.stage2.state import WindowEntry
from deskwatch.processors.stage2.tally import threshold_population
from deskwatch.schemas.incident import ChangeReason, IncidentStatus, Severity

from .build import Level, Policy, at, run, signal

# (id, policy, signals as (minute, host, count, population), opens at index or None)
CASES = [
    (
        "min-events-reached",
        Policy(min_events=3),
        [(0, "a", 1, None), (1, "a", 1, None), (2, "a", 1, None)],
        2,
    ),
    ("min-events-by-count", Policy(min_events=3), [(0, "a", 1, None), (1, "a", 2, None)], 1),
    ("min-events-short", Policy(min_events=4), [(0, "a", 1, None), (1, "a", 2, None)], None),
    (
        "min-events-window-slides",
        Policy(min_events=3),
        [(0, "a", 2, None), (11, "a", 1, None)],
        None,
    ),
    (
        "min-hosts-reached",
        Policy(min_hosts=3),
        [(0, "a", 5, None), (1, "b", 1, None), (2, "c", 1, None)],
        2,
    ),
    (
        "min-hosts-repeats-dont-count",
        Policy(min_hosts=2),
        [(0, "a", 1, None), (1, "a", 1, None)],
        None,
    ),
    ("pct-reached", Policy(min_population_pct=10), [(0, "a", 1, 20), (1, "b", 1, 20)], 1),
    ("pct-short", Policy(min_population_pct=10), [(0, "a", 1, 30), (1, "b", 1, 30)], None),
    (
        "pct-unknown-population",
        Policy(min_population_pct=10),
        [(0, "a", 1, None), (1, "b", 1, None)],
        None,
    ),
    (
        "hosts-or-pct-pct",
        Policy(min_hosts=5, min_population_pct=10),
        [(0, "a", 1, 20), (1, "b", 1, 20)],
        1,
    ),
    (
        "hosts-or-pct-hosts",
        Policy(min_hosts=2, min_population_pct=50),
        [(0, "a", 1, 100), (1, "b", 1, 100)],
        1,
    ),
    (
        "events-and-hosts",
        Policy(min_events=4, min_hosts=2),
        [(0, "a", 1, None), (1, "b", 1, None), (2, "b", 1, None), (3, "a", 1, None)],
        3,
    ),
]


@pytest.mark.parametrize(
    ("policy", "hits", "opens_at"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_opens_only_when_thresholds_hold(
    policy: Policy, hits: list[tuple[int, str, int, int | None]], opens_at: int | None
) -> None:
    steps = [("signal", signal(m, h, count=n, population=p), m) for m, h, n, p in hits]
    results = run(Stage2({"disk-full": policy}), steps)
    opened = [i for i, r in enumerate(results) if r.incidents]
    assert (opened[0] if opened else None) == opens_at
    for r in results[: opens_at if opens_at is not None else len(results)]:
        assert r.state.incident is None and r.changes == []
        assert Outcome.PENDING in [d.outcome for d in r.decisions]


def test_opening_counts_every_signal_of_the_window() -> None:
    policy = Policy(min_events=5, min_hosts=2)
    steps = [("signal", signal(m, h, count=2), m) for m, h in [(0, "a"), (1, "b"), (2, "a")]]
    incident = run(Stage2({"disk-full": policy}), steps)[-1].incidents[0]
    assert (incident.event_count, incident.host_count, incident.hosts) == (6, 2, ["a", "b"])
    assert (incident.first_seen, incident.last_seen, incident.opened_at) == (at(0), at(2), at(2))
    assert incident.reason is ChangeReason.THRESHOLD_REACHED and incident.revision == 1
    assert (incident.rule_id, incident.rule_version, incident.window_seconds) == (
        "disk-full",
        3,
        600,
    )


@pytest.mark.parametrize("recovery_first", [False, True])
def test_a_hit_and_its_hosts_recovery_at_one_instant_open_and_resolve_in_either_arrival_order(
    recovery_first: bool,
) -> None:
    # At one instant a hit comes before a recovery (event_order): the hit opens the incident,
    # the recovery resolves it. A random run found the recovery-first order opening an incident
    # with no counted hit (event_count 0): the recovery had cleared the very hit that crossed.
    hit, recovery = signal(0, "c"), signal(0, "c", recovery=True)
    arrivals = [recovery, hit] if recovery_first else [hit, recovery]
    results = run(Stage2({"disk-full": Policy(min_events=1)}), [("signal", s, 0) for s in arrivals])
    latest = {i.id: i for r in results for i in r.incidents}
    (incident,) = latest.values()
    assert (incident.event_count, incident.hosts, incident.opened_at) == (1, ["c"], at(0))
    assert (incident.status, incident.resolved_at) == (IncidentStatus.RESOLVED, at(0))
    applied = {sid for r in results for d in r.decisions
               if d.outcome is Outcome.APPLIED and d.incident_id == incident.id for sid in d.source_ids}
    assert applied == {hit.source_id}


def test_a_late_signal_is_held_in_event_time_order_and_counts_only_in_its_window() -> None:
    # Signals from several stage-1 partitions arrive in any order: a late one is not dropped,
    # and the crossing is computed over the held set by event time (window 10 min).
    results = run(
        Stage2({"disk-full": Policy(min_events=2)}),
        [("signal", signal(20), 20), ("signal", signal(5), 21), ("signal", signal(7), 22)],
    )
    assert [d.outcome for d in results[1].decisions] == [Outcome.PENDING]
    assert [s.source_id for s in results[1].state.window] == [signal(5).source_id, signal(20).source_id]
    opened = results[-1].incidents[0]
    assert (opened.opened_at, opened.event_count) == (at(7), 3)  # 5 and 7 cross; 20 is a later hit
    assert results[-1].state.window == []


def test_a_late_signal_older_than_the_opening_window_is_not_counted() -> None:
    results = run(
        Stage2({"disk-full": Policy(min_events=2)}),
        [("signal", signal(20), 20), ("signal", signal(21), 21), ("signal", signal(5), 22)],
    )
    assert [d.outcome for d in results[-1].decisions] == [Outcome.OUTSIDE_WINDOW]
    assert results[-1].state.incident is not None and results[-1].state.incident.event_count == 2


def test_tick_expires_the_pending_window() -> None:
    results = run(
        Stage2({"disk-full": Policy(min_events=3)}),
        [("signal", signal(0), 0), ("signal", signal(1), 1), ("tick", None, 11.5)],
    )
    assert results[-1].decisions[0].outcome is Outcome.WINDOW_EXPIRED
    assert results[-1].decisions[0].source_ids == (signal(0).source_id, signal(1).source_id)
    assert results[-1].state.window == []


LEVELS = (Level(Severity.HIGH, min_events=10), Level(Severity.CRITICAL, min_hosts=3))


def test_escalates_by_levels_and_never_back() -> None:
    stage = Stage2({"disk-full": Policy(escalation=LEVELS)})
    results = run(
        stage,
        [
            ("signal", signal(0, "a", count=4), 0),
            ("signal", signal(1, "a", count=6), 1),
            ("signal", signal(2, "b"), 2),
            ("signal", signal(3, "c"), 3),
        ],
    )
    assert [r.incidents[0].severity for r in results] == [
        Severity.MEDIUM,
        Severity.HIGH,
        Severity.HIGH,
        Severity.CRITICAL,
    ]
    assert [c.reason for c in results[1].changes] == [ChangeReason.ESCALATED]
    assert results[1].changes[0].detail == "medium -> high"


def test_opening_already_escalated_emits_no_separate_escalation() -> None:
    stage = Stage2({"disk-full": Policy(escalation=LEVELS)})
    result = run(stage, [("signal", signal(0, "a", count=12), 0)])[-1]
    assert result.incidents[0].severity is Severity.HIGH
    assert [c.reason for c in result.changes] == [ChangeReason.OPENED]


def test_escalates_by_age_on_tick() -> None:
    policy = Policy(
        escalation=(Level(Severity.HIGH, after=timedelta(minutes=5)),), quiet={"workstation": None}
    )
    results = run(
        Stage2({"disk-full": policy}),
        [("signal", signal(0), 0), ("tick", None, 4), ("tick", None, 6)],
    )
    assert results[1].changes == []
    assert [(c.reason, c.to_status) for c in results[2].changes] == [
        (ChangeReason.ESCALATED, IncidentStatus.OPEN)
    ]


def test_escalates_by_population_share() -> None:
    policy = Policy(escalation=(Level(Severity.HIGH, min_population_pct=50),))
    results = run(
        Stage2({"disk-full": policy}),
        [("signal", signal(0, "a", population=4), 0), ("signal", signal(1, "b", population=4), 1)],
    )
    assert [r.incidents[0].severity for r in results] == [Severity.MEDIUM, Severity.HIGH]


def test_the_population_a_percentage_threshold_reads_is_the_latest_carried_and_only_it_reads_one() -> None:
    window = [WindowEntry.of(signal(m, host, population=p)) for m, host, p in
              ((0, "a", 40), (1, "b", None), (2, "c", 30), (3, "d", None))]
    assert threshold_population(Policy(min_population_pct=10), window, 99) == 30
    assert threshold_population(Policy(min_population_pct=10), window[1:2], 99) == 99  # none carried: the group's
    assert threshold_population(Policy(min_hosts=2), window, 99) is None  # nothing reads it


@pytest.mark.parametrize(("group", "title"), [
    ({"site": "paris"}, "Disk full: paris"),
    ({"host.name": "PC-LYO-0142", "drive": "C:"}, "Disk full: PC-LYO-0142 / C:"),
    ({"asset.site": "-"}, "Disk full"),  # a value the group lacks is left out
    ({}, "Disk full"),  # a fleet-wide rule
    ({"site": "x" * 200}, "Disk full: " + "x" * 119 + "…"),
])
def test_an_incident_title_names_its_scope(group: dict[str, str], title: str) -> None:
    """The search table and notifications show the scope without opening the incident."""
    incident = run(Stage2({"disk-full": Policy()}), [("signal", signal(0, group=group), 0)])[-1].incidents[0]
    assert incident.title == title
