"""Property tests on the lifecycle: random signals, ticks and commands from an empty group."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from deskwatch.processors.stage2 import LEGAL, GroupState, Outcome, Stage2, Stage2Result
from deskwatch.processors.stage2.state import ALWAYS
from deskwatch.schemas.command import Command, Silence
from deskwatch.schemas.command import CommandAction as A
from deskwatch.schemas.incident import Severity
from deskwatch.schemas.signal import Signal

from .build import Level, Policy, command, full_tick, run, signal, silence

Step = tuple[str, object, float]

POLICIES = st.builds(
    Policy,
    min_events=st.integers(1, 4),
    min_hosts=st.sampled_from([None, 2]),
    min_population_pct=st.sampled_from([None, 30.0]),
    reopen_window=st.sampled_from([None, timedelta(minutes=20)]),
    flap_threshold=st.sampled_from([None, 2]),
    max_lifetime=st.sampled_from([None, timedelta(minutes=45)]),
    ack_timeout=st.sampled_from([None, timedelta(minutes=15)]),
    escalation=st.sampled_from(
        [(), (Level(Severity.HIGH, min_events=5), Level(Severity.CRITICAL, min_hosts=3)),
         (Level(Severity.HIGH, after=timedelta(minutes=25)), Level(Severity.CRITICAL, min_events=8))]
    ),
    absorbs=st.sampled_from([(), ("child",)]),
)
SILENCES = st.sampled_from([{}, {"m": silence("m", 20, 40, site="paris")}])


@st.composite
def steps(draw: st.DrawFn) -> list[Step]:
    out: list[Step] = []
    now = 0.0
    for _ in range(draw(st.integers(1, 30))):
        now += draw(st.sampled_from([0, 0.5, 1, 3, 7, 16, 35]))
        kind = draw(st.sampled_from(["signal"] * 5 + ["tick"] * 2 + ["command"] * 2))
        if kind == "signal":
            late = draw(st.sampled_from([0, 0, 0, 2, 12]))
            out.append(
                (
                    "signal",
                    signal(
                        now - late,
                        draw(st.sampled_from(["a", "b", "c", "d"])),
                        count=draw(st.integers(1, 5)),
                        recovery=draw(st.booleans())
                        and draw(st.booleans())
                        and draw(st.booleans()),
                        device_class=draw(st.sampled_from(["workstation", "laptop", "server"])),
                        population=draw(st.sampled_from([None, 5])),
                    ),
                    now,
                )
            )
        elif kind == "tick":
            out.append(("tick", None, now))
        else:
            out.append(("command", draw(_commands(now)), now))
    return out


@st.composite
def _commands(draw: st.DrawFn, now: float) -> Command:
    action = draw(st.sampled_from(list(A)))
    extra: dict[str, Any] = {"actor": draw(st.sampled_from(["alice", "bob"]))}
    if action is A.ASSIGN:
        extra["assignee"] = draw(st.sampled_from(["carol", "dave"]))
    if action in (A.ABSORB, A.RELEASE):
        extra["parent_id"] = draw(st.sampled_from(["p1", "p2"]))
        extra["parent_group_key"] = "fleet|site=paris"
    if action in (A.LINK_CHILD, A.UNLINK_CHILD):
        extra["child_id"] = draw(st.sampled_from(["c1", "c2"]))
    return command(action, now, **extra)


@settings(max_examples=300, deadline=None)
@given(POLICIES, SILENCES, steps())
def test_revisions_increase_and_changes_are_legal(
    policy: Policy, silences: dict[str, Silence], plan: list[Step]
) -> None:
    results = run(Stage2({"disk-full": policy}, silences), plan)
    last_revision: dict[str, int] = {}
    for result in results:
        for change in result.changes:
            assert change.reason is not None
            assert (change.from_status, change.to_status, change.reason) in LEGAL
            assert change.revision > last_revision.get(change.incident_id, 0)
            last_revision[change.incident_id] = change.revision
        for incident in result.incidents:
            assert incident.revision >= last_revision.get(incident.id, 0)
            last_revision[incident.id] = incident.revision
        emitted = {i.id: i.revision for i in result.incidents}
        assert len(emitted) == len(result.incidents)  # latest revision per id, once
        for change in result.changes:
            assert change.revision <= emitted[change.incident_id]
    # revisions strictly increase per id across every emitted revision
    seen: dict[str, list[int]] = defaultdict(list)
    for result in results:
        for incident in result.incidents:
            seen[incident.id].append(incident.revision)
    assert all(revs == sorted(set(revs)) for revs in seen.values())


@settings(max_examples=200, deadline=None)
@given(POLICIES, SILENCES, steps(), st.data())
def test_replaying_a_prefix_of_signals_changes_nothing(
    policy: Policy,
    silences: dict[str, Silence],
    plan: list[Step],
    data: st.DataObject,
) -> None:
    stage = Stage2({"disk-full": policy}, silences)
    results = run(stage, plan)
    cut = data.draw(st.integers(0, len(plan) - 1))
    state = results[cut].state
    replay = [s for s in plan[: cut + 1] if s[0] == "signal"]
    for result in run(stage, replay, state):
        assert result.state == state
        assert result.incidents == [] and result.changes == [] and result.commands == []


@settings(max_examples=200, deadline=None)
@given(POLICIES, SILENCES, steps())
def test_event_count_is_the_sum_of_distinct_applied_signals(
    policy: Policy,
    silences: dict[str, Silence],
    plan: list[Step],
) -> None:
    counts = {p.source_id: p.count for kind, p, _ in plan if isinstance(p, Signal)}
    applied: dict[str, set[str]] = defaultdict(set)
    latest: dict[str, int] = {}
    for result in run(Stage2({"disk-full": policy}, silences), plan):
        for decision in result.decisions:
            if decision.outcome is Outcome.APPLIED and decision.incident_id and decision.source_ids:
                assert not applied[decision.incident_id] & set(decision.source_ids)
                applied[decision.incident_id] |= set(decision.source_ids)
        latest.update({i.id: i.event_count for i in result.incidents})
    assert latest.keys() == applied.keys()
    for incident_id, event_count in latest.items():
        assert event_count == sum(counts[s] for s in applied[incident_id])


@settings(max_examples=100, deadline=None)
@given(POLICIES, SILENCES, steps())
def test_same_inputs_give_identical_outputs(
    policy: Policy, silences: dict[str, Silence], plan: list[Step]
) -> None:
    def dump(results: list[Stage2Result]) -> list[str]:
        return [
            repr(
                (
                    r.state.model_dump_json(),
                    [i.model_dump_json() for i in r.incidents],
                    [c.model_dump_json() for c in r.changes],
                    [c.model_dump_json() for c in r.commands],
                    r.decisions,
                )
            )
            for r in results
        ]

    assert dump(run(Stage2({"disk-full": policy}, silences), plan)) == dump(
        run(Stage2({"disk-full": policy}, silences), plan)
    )


@settings(max_examples=100, deadline=None)
@given(POLICIES, SILENCES, steps())
def test_no_call_mutates_an_earlier_state(policy: Policy, silences: dict[str, Silence], plan: list[Step]) -> None:
    stage = Stage2({"disk-full": policy}, silences)
    state: GroupState | None = None
    kept: list[tuple[GroupState, str]] = []
    for step in plan:
        result = run(stage, [step], state)[0]
        state = result.state
        kept.append((state, state.model_dump_json()))
    assert all(s.model_dump_json() == snapshot for s, snapshot in kept)


_STEP = timedelta(microseconds=1)


def _around(state: GroupState, policy: Policy, silences: dict[str, Silence]) -> set[datetime]:
    """Each time the state holds, plus each duration its rule has, a microsecond before, at and
    after; and each silence's start and end, as closely."""
    incident = state.incident
    bases = [e.last_seen for e in state.window] + [s.starts_at for s in silences.values()] + [
        s.ends_at for s in silences.values()]
    if incident is not None:
        bases += [t for t in (incident.first_seen, incident.last_seen, incident.opened_at,
                              incident.acknowledged_at) if t is not None]
    durations = {timedelta(0), policy.window, *(t for t in policy.quiet.values() if t is not None),
                 *(t for t in (policy.max_lifetime, policy.ack_timeout) if t is not None),
                 *(level.after for level in policy.escalation if level.after is not None)}
    return {base + d + step for base in bases for d in durations for step in (-_STEP, timedelta(0), _STEP)}


@settings(max_examples=300, deadline=None)
@given(POLICIES, SILENCES, steps())
def test_a_tick_gives_what_the_full_tick_gives_at_every_time_around_a_timer(
    policy: Policy, silences: dict[str, Silence], plan: list[Step]
) -> None:
    """After each step, ``on_tick`` (which skips a state up to its ``tick_due`` while no silence
    is active) equals the full tick at every time around the state's timers: quiet timeouts,
    lifetime, acknowledgement lapse, escalation by age, window ends, silences."""
    stage = Stage2({"disk-full": policy}, silences)
    for result in run(stage, plan):
        for tick in sorted(_around(result.state, policy, silences)):
            assert stage.on_tick(result.state, tick) == full_tick(stage, result.state, tick)
        due = stage.tick_due(result.state)
        if due is not None and due != ALWAYS:  # and no earlier: the full tick at it changes the state
            assert full_tick(stage, result.state, due).state != result.state
