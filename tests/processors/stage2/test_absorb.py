"""Absorption: a fleet-wide parent suppresses the per-host children it explains, across groups."""

from __future__ import annotations

from deskwatch.processors.rules.group import group_key
from deskwatch.processors.stage2 import GroupState, Outcome, Stage2, child_group_key
from deskwatch.schemas.command import Command
from deskwatch.schemas.command import CommandAction as A
from deskwatch.schemas.incident import ChangeReason
from deskwatch.schemas.signal import Signal

from .build import Policy, at, command, signal

PARENT = Policy(id="fleet-disk", min_hosts=2, absorbs=("disk-full", "disk-slow"))
CHILD = Policy()
STAGE = Stage2({"fleet-disk": PARENT, "disk-full": CHILD})
FLEET = {"site": "paris"}


def _parent_open() -> tuple[GroupState, list[Command]]:
    first = STAGE.on_signal(None, signal(0, "pc-1", rule="fleet-disk", group=FLEET), at(0))
    second = STAGE.on_signal(first.state, signal(1, "pc-2", rule="fleet-disk", group=FLEET), at(1))
    return second.state, second.commands


def _child_open(host: str = "pc-1") -> GroupState:
    sig = signal(0, host, group={"host.name": host})
    assert sig.group_key == child_group_key("disk-full", host)
    return STAGE.on_signal(None, sig, at(0)).state


def test_parent_opening_sends_one_absorb_per_child_rule_and_host() -> None:
    state, commands = _parent_open()
    assert [(c.action, c.group_key) for c in commands] == [
        (A.ABSORB, "disk-full|host.name=pc-1"),
        (A.ABSORB, "disk-slow|host.name=pc-1"),
        (A.ABSORB, "disk-full|host.name=pc-2"),
        (A.ABSORB, "disk-slow|host.name=pc-2"),
    ]
    assert state.incident is not None
    assert {c.parent_id for c in commands} == {state.incident.id}
    assert {c.parent_group_key for c in commands} == {"fleet-disk|site=paris"}


def test_a_child_grouped_by_host_and_a_parent_field_is_claimed_with_the_parents_value() -> None:
    """An application crashing on many hosts claims each host's incident of that application (the
    child groups by host.name, then process.name, which the parent groups by), not its others."""
    spread = Policy(id="app-spread", group_by=("process.name",), min_hosts=2, absorbs=("app-crash",))
    stage = Stage2({"app-spread": spread, "app-crash": Policy(id="app-crash", group_by=("host.name", "process.name"))})
    app = {"process.name": "excel|x.exe"}  # a value the key format escapes
    first = stage.on_signal(None, signal(0, "pc-1", rule="app-spread", group=app), at(0))
    second = stage.on_signal(first.state, signal(1, "pc-2", rule="app-spread", group=app), at(1))
    assert [(c.action, c.group_key) for c in second.commands] == [
        (A.ABSORB, "app-crash|host.name=pc-1|process.name=excel%7Cx.exe"),
        (A.ABSORB, "app-crash|host.name=pc-2|process.name=excel%7Cx.exe"),
    ]
    # the key stage 1 gives the child's group (the rules package's format)
    assert group_key("app-crash", {"host.name": "pc-1", **app}) == second.commands[0].group_key


def test_new_host_on_open_parent_sends_absorbs_for_it_only() -> None:
    state, _ = _parent_open()
    more = STAGE.on_signal(state, signal(2, "pc-3", rule="fleet-disk", group=FLEET), at(2))
    assert [c.group_key for c in more.commands] == [
        "disk-full|host.name=pc-3",
        "disk-slow|host.name=pc-3",
    ]
    again = STAGE.on_signal(more.state, signal(3, "pc-3", rule="fleet-disk", group=FLEET), at(3))
    assert again.commands == []


def test_round_trip_absorb_link_release_unlink() -> None:
    parent_state, commands = _parent_open()
    absorb = commands[0]
    child = STAGE.on_command(_child_open(), absorb, at(2))
    assert [(c.reason, c.notify) for c in child.changes] == [(ChangeReason.ABSORBED, False)]
    child_incident = child.incidents[0]
    assert child_incident.parent_id == absorb.parent_id and child_incident.event_count == 1
    [link] = child.commands
    assert (link.action, link.group_key, link.child_id) == (
        A.LINK_CHILD,
        absorb.parent_group_key,
        child_incident.id,
    )

    parent = STAGE.on_command(parent_state, link, at(3))
    assert [c.reason for c in parent.changes] == [ChangeReason.CHILD_ABSORBED]
    assert (parent.incidents[0].absorbed_count, parent.incidents[0].children) == (
        1,
        [child_incident.id],
    )
    assert (
        STAGE.on_command(parent.state, link, at(4)).decisions[0].outcome
        is Outcome.IGNORED_ALREADY_LINKED
    )

    # Released with nothing new since: what it saw, its parent explained; it stays absorbed, silent.
    quiet = STAGE.on_command(child.state, command(A.RELEASE, 5, key=absorb.group_key), at(5))
    assert quiet.changes == [] and quiet.commands == []
    assert quiet.state.incident is not None and quiet.state.incident.parent_id == absorb.parent_id
    # A hit after the release is new evidence: now it shows on its own.
    released = STAGE.on_signal(quiet.state, signal(6, "pc-1", group={"host.name": "pc-1"}), at(6))
    assert [(c.reason, c.notify) for c in released.changes] == [(ChangeReason.RELEASED, True)]
    assert released.incidents[0].parent_id is None and released.incidents[0].event_count == 2
    # The child lived while the parent claimed it: it stays counted among the parent's children.
    assert released.commands == []
    assert released.incidents[0].reason is ChangeReason.OPENED  # absorb/release keep the reason


def test_absorb_before_the_child_opens_is_held() -> None:
    _, commands = _parent_open()
    held = STAGE.on_command(None, commands[0], at(2))
    assert [d.outcome for d in held.decisions] == [Outcome.ABSORB_HELD] and held.changes == []
    opened = STAGE.on_signal(held.state, signal(3, "pc-1", group={"host.name": "pc-1"}), at(3))
    assert [(c.reason, c.notify) for c in opened.changes] == [
        (ChangeReason.OPENED, False),
        (ChangeReason.ABSORBED, False),
    ]
    assert [c.action for c in opened.commands] == [A.LINK_CHILD]


def test_parent_resolving_releases_its_children_and_reopen_absorbs_again() -> None:
    state, commands = _parent_open()
    resolved = STAGE.on_command(state, command(A.RESOLVE, 5, key="fleet-disk|site=paris"), at(5))
    assert [(c.action, c.group_key) for c in resolved.commands] == [
        (A.RELEASE, c.group_key) for c in commands
    ]
    # One host again is not the fleet failing again: it waits for the parent's thresholds (2 hosts).
    one = STAGE.on_signal(resolved.state, signal(6, "pc-1", rule="fleet-disk", group=FLEET), at(6))
    assert one.changes == [] and [d.outcome for d in one.decisions] == [Outcome.PENDING]
    reopened = STAGE.on_signal(one.state, signal(7, "pc-2", rule="fleet-disk", group=FLEET), at(7))
    assert [c.reason for c in reopened.changes] == [ChangeReason.REOPENED]
    assert reopened.incidents[-1].id == resolved.incidents[-1].id and reopened.incidents[-1].reopen_count == 1
    assert [(c.action, c.group_key) for c in reopened.commands] == [
        (A.ABSORB, c.group_key) for c in commands
    ]


def test_stale_release_from_an_old_parent_is_ignored() -> None:
    _, commands = _parent_open()
    child = STAGE.on_command(_child_open(), commands[0], at(2))
    stale = command(A.RELEASE, 3, key=commands[0].group_key, parent_id="older-parent")
    result = STAGE.on_command(child.state, stale, at(3))
    assert [d.outcome for d in result.decisions] == [Outcome.IGNORED_STALE_PARENT]
    assert (
        result.state.incident is not None
        and result.state.incident.parent_id == commands[0].parent_id
    )


def test_group_created_by_a_held_absorb_still_times_out() -> None:
    _, commands = _parent_open()
    held = STAGE.on_command(None, commands[0], at(2))
    opened = STAGE.on_signal(held.state, signal(3, "pc-1", group={"host.name": "pc-1"}), at(3))
    quiet = STAGE.on_tick(opened.state, at(3 + 31))
    assert [c.reason for c in quiet.changes] == [ChangeReason.QUIET_TIMEOUT]


def test_a_host_a_late_hit_readmits_is_claimed_even_when_the_first_seen_stays() -> None:
    """Found by the demo (4 partitions, 2 runs in 7): an update outage's parent counted a host whose
    held hits an earlier opening readmitted, but never claimed its per-host incident, because the
    parent's first event did not move (a repeat signal of another host began earlier still)."""
    parent = Policy(id="fleet-disk", min_hosts=2, absorbs=("disk-full",))  # 10 min window
    stage = Stage2({"fleet-disk": parent, "disk-full": CHILD})

    def hit(first: float, last: float, host: str) -> Signal:
        return signal(last, host, rule="fleet-disk", group=FLEET).model_copy(update={"first_seen": at(first)})

    state: GroupState | None = None
    claimed: list[str] = []
    for sig in (hit(0, 30, "pc-1"),  # repeats from minute 0 to 30: one signal
                hit(35, 35, "pc-2"),  # opens at 35, counting pc-1 (first event at 0)
                hit(12, 12, "pc-3"),  # older than the opening's window: held
                hit(20, 20, "pc-4")):  # with pc-3, the thresholds crossed at 20: pc-3 is readmitted
        result = stage.on_signal(state, sig, sig.last_seen)
        state = result.state
        claimed += [c.group_key for c in result.commands if c.action is A.ABSORB]
    assert state is not None and state.incident is not None
    assert state.incident.opened_at == at(20) and state.incident.first_seen == at(0)
    assert state.incident.hosts == ["pc-1", "pc-2", "pc-3", "pc-4"]
    assert sorted(set(claimed)) == [child_group_key("disk-full", h) for h in ("pc-1", "pc-2", "pc-3", "pc-4")]


def test_a_late_hit_earlier_than_a_resolution_by_recovery_withdraws_it_and_claims_again() -> None:
    # A backlog's order: pc-1 and pc-2 failed and recovered; pc-3's hit at minute 3 arrives after
    # both recoveries. In event time the site incident never resolved at 6: pc-3 was failing.
    stage = Stage2({"fleet-disk": Policy(id="fleet-disk", min_hosts=2, absorbs=("disk-full",)), "disk-full": CHILD})
    state, _ = _parent_open_in(stage)
    for minute, host in ((5, "pc-1"), (6, "pc-2")):
        resolved = stage.on_signal(state, signal(minute, host, rule="fleet-disk", group=FLEET, recovery=True), at(minute))
        state = resolved.state
    assert resolved.incidents[-1].status == "resolved" and resolved.incidents[-1].resolved_at == at(6)
    assert {c.action for c in resolved.commands} == {A.RELEASE}

    late = stage.on_signal(state, signal(3, "pc-3", rule="fleet-disk", group=FLEET), at(7))
    (change,) = late.changes
    assert (change.from_status, change.to_status, change.reason) == ("resolved", "open", ChangeReason.REOPENED)
    assert "withdrawn" in change.detail
    live = late.incidents[-1]
    assert (live.status, live.resolved_at, live.reopen_count) == ("open", None, 0)
    assert live.reason is ChangeReason.THRESHOLD_REACHED  # as before it resolved: event time's
    assert live.hosts == ["pc-1", "pc-2", "pc-3"]
    # Every child the resolution released is claimed again, and pc-3's for the first time.
    assert sorted({c.group_key for c in late.commands if c.action is A.ABSORB}) == [
        child_group_key("disk-full", h) for h in ("pc-1", "pc-2", "pc-3")]

    again = stage.on_signal(late.state, signal(8, "pc-3", rule="fleet-disk", group=FLEET, recovery=True), at(8))
    assert (again.incidents[-1].status, again.incidents[-1].resolved_at) == ("resolved", at(8))
    assert again.incidents[-1].reason is ChangeReason.RECOVERY_EVENT


def test_a_late_hit_before_the_window_at_the_resolution_or_before_its_hosts_recovery_leaves_it_standing() -> None:
    stage = Stage2({"fleet-disk": Policy(id="fleet-disk", min_hosts=2, absorbs=("disk-full",)), "disk-full": CHILD})
    state, _ = _parent_open_in(stage)
    for minute, host in ((5, "pc-1"), (6, "pc-2")):
        state = stage.on_signal(state, signal(minute, host, rule="fleet-disk", group=FLEET, recovery=True), at(minute)).state
    for late in (signal(-20, "pc-3", rule="fleet-disk", group=FLEET),  # before the opening's window
                 signal(6, "pc-3", rule="fleet-disk", group=FLEET)):  # at the resolution: not before it
        result = stage.on_signal(state, late, at(7))
        assert result.changes == [] and result.state.incident is None, late.host
        assert [d.outcome for d in result.decisions] == [Outcome.PENDING]
    # pc-2 recovered after this hit, at 6: the resolution stands, and the hit counts into it, as
    # it would have before the recovery in event time.
    counted = stage.on_signal(state, signal(4, "pc-2", rule="fleet-disk", group=FLEET), at(7))
    assert counted.changes == [] and counted.state.incident is None and counted.commands == []
    assert [d.outcome for d in counted.decisions] == [Outcome.APPLIED]
    (resolved,) = counted.incidents
    assert (resolved.status, resolved.resolved_at, resolved.event_count) == ("resolved", at(6), 3)


def _parent_open_in(stage: Stage2) -> tuple[GroupState, list[Command]]:
    first = stage.on_signal(None, signal(0, "pc-1", rule="fleet-disk", group=FLEET), at(0))
    second = stage.on_signal(first.state, signal(1, "pc-2", rule="fleet-disk", group=FLEET), at(1))
    return second.state, second.commands


def test_a_claim_read_again_is_answered_with_the_links_held() -> None:
    """A parent whose state rolled back by a crash reads its children's links again, maybe before
    the opening they answer, and drops them (the incident is unknown to it); its replayed opening
    sends the same claim again. The child answers it with its link again, whose copy the parent's
    set absorbs; it used to ignore the claim, and the link was lost (CI, 2026-12-07)."""
    state, commands = _parent_open()
    child = STAGE.on_command(_child_open(), commands[0], at(2))
    (link,) = child.commands
    assert link.action is A.LINK_CHILD
    # The rolled-back parent: no incident yet, so the link names an unknown one.
    dropped = STAGE.on_command(None, link, at(3))
    assert [d.outcome for d in dropped.decisions] == [Outcome.IGNORED_UNKNOWN_INCIDENT]
    again = STAGE.on_command(child.state, commands[0], at(4))
    assert [d.outcome for d in again.decisions] == [Outcome.IGNORED_ALREADY_ABSORBED]
    assert [(c.action, c.child_id, c.incident_id) for c in again.commands] == [
        (A.LINK_CHILD, link.child_id, state.incident.id if state.incident else None)
    ]
    linked = STAGE.on_command(state, again.commands[0], at(5))
    assert linked.incidents[0].absorbed_count == 1 and linked.incidents[0].children == [link.child_id]
    # ... and a copy once linked changes nothing.
    copy = STAGE.on_command(linked.state, again.commands[0], at(6))
    assert [d.outcome for d in copy.decisions] == [Outcome.IGNORED_ALREADY_LINKED] and copy.incidents == []
