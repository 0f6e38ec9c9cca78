"""Signals: count a hit into the live incident, reopen the last one, or pend until thresholds."""

from __future__ import annotations

import bisect
from collections.abc import Mapping
from datetime import datetime

from deskwatch.processors.stage2.absorb import ChildKeys, send_absorbs, send_releases
from deskwatch.processors.stage2.advance import (
    end_lifetime,
    escalate,
    lifetime_over,
    reopenable,
    resolve_recovered,
)
from deskwatch.processors.stage2.draft import Draft
from deskwatch.processors.stage2.mute import apply_silences
from deskwatch.processors.stage2.policy import LifecyclePolicy, quiet_timeout
from deskwatch.processors.stage2.state import WINDOW_CAP, GroupState, WindowEntry, replace_incident
from deskwatch.processors.stage2.tally import (
    at_least,
    blank_incident,
    cleared_hits,
    crossing_time,
    earlier_opening,
    escalated_severity,
    event_order,
    fold,
    opening_time,
    threshold_population,
)
from deskwatch.processors.stage2.transition import Outcome, Trigger
from deskwatch.schemas.command import Silence
from deskwatch.schemas.incident import ChangeReason, Incident, Severity
from deskwatch.schemas.signal import Signal


def observe(
    draft: Draft, policy: LifecyclePolicy, signal: Signal, silences: Mapping[str, Silence], children: ChildKeys
) -> None:
    """Apply one new (not replayed) signal to the group; ``children`` names the groups a parent claims."""
    state = draft.state
    state.remember(signal.source_id)
    if not state.rule_id:  # a command (absorb) may have created the group before its first signal
        state.rule_id, state.group_key, state.group = (
            signal.rule_id,
            signal.group_key,
            dict(signal.group),
        )
    incident = state.incident
    if incident is not None and lifetime_over(policy, incident, signal.last_seen):
        end_lifetime(draft, policy, incident)
        incident = None
    if signal.recovery:
        _recover(draft, policy, incident, signal)
    elif (ended := _ended_before(policy, state, signal)) is not None:
        _count_late(draft, policy, ended, signal, children)
    elif incident is not None:
        _hit(draft, policy, incident, signal, children)
    elif (resolved := _contradicted(policy, state, signal)) is not None:
        _withdraw(draft, policy, resolved, signal, children)
    elif reopenable(policy, state.last_resolved, signal.last_seen) and _one_hit_opens(policy, state, signal):
        assert state.last_resolved is not None
        _reopen(draft, policy, state.last_resolved, [WindowEntry.of(signal)], signal.last_seen,
                f"hit on {signal.host}", children)
    else:
        _pend(draft, policy, signal, children)
    _end_lifetime(draft, policy)
    apply_silences(draft, silences, draft.now)


def _end_lifetime(draft: Draft, policy: LifecyclePolicy) -> None:
    """Resolve the live incident by its lifetime if what it has seen is past it: a late hit can
    move its opening back (``earlier_opening``), and with it the lifetime's end."""
    incident = draft.state.incident
    if incident is None or policy.max_lifetime is None:
        return
    latest = max((incident.last_seen, *draft.state.recovered.values()))
    if lifetime_over(policy, incident, latest):
        end_lifetime(draft, policy, incident)


def _recover(draft: Draft, policy: LifecyclePolicy, incident: Incident | None, signal: Signal) -> None:
    if incident is not None:
        _recover_host(draft, policy, incident, signal)
        return
    _recovered_sooner(draft, signal)
    # Held as an entry of the window, not applied by deleting the host's hits: other hosts' hits,
    # and this host's from other envelopes, reach the group in any order around it, and the
    # thresholds must see the recovery where it is in event time (tally.crossing_time).
    cleared = tuple(s.source_id for s in draft.state.window
                    if s.host == signal.host and not s.recovery and s.last_seen <= signal.last_seen)
    _hold(draft, signal)
    draft.decide(
        Outcome.RECOVERY_WITHOUT_INCIDENT, source_ids=cleared, detail="host's pending hits cleared"
    )


def _recovered_sooner(draft: Draft, signal: Signal) -> None:
    """A late recovery that is earlier than the one its host resolved the last incident with, and
    later than everything the incident counts, moves the resolution back to where event time has it.

    Decision: the resolution moves (its children are released again, at the new time). It stayed
    at the later recovery: an envelope read again after its host's later ones (a worker reading a
    partition again from its commit) brought a GPO failure's recovery after the next one, and the
    incident resolved 8 minutes late (2026-12-03)."""
    state = draft.state
    last = state.last_resolved
    if last is None or last.reason is not ChangeReason.RECOVERY_EVENT or state.incident is not None:
        return
    if last.resolved_at is None or signal.host not in state.recovered:
        return
    if not _mark_recovered(state.recovered, signal.host, signal.last_seen, last.last_seen):
        return
    at = max(state.recovered.values())
    if at >= last.resolved_at:
        return
    moved = draft.touch(last, resolved_at=at)
    draft.decide(Outcome.APPLIED, moved.id, source_ids=(signal.source_id,),
                 detail=f"resolution moved back to {at.isoformat()}: recovery on {signal.host}")
    if state.absorb_targets:
        send_releases(draft, moved)


def _recover_host(draft: Draft, policy: LifecyclePolicy, incident: Incident, signal: Signal) -> None:
    """Resolve once every host of the incident has recovered, at the latest recovery's time.

    One host's recovery does not end a fleet-wide incident while others still fail: resolving
    it there made a site-wide parent resolve and reopen with each recovering host, releasing and
    re-absorbing all its children every time.
    """
    state = draft.state
    if signal.host in state.hosts:
        _mark_recovered(state.recovered, signal.host, signal.last_seen, incident.last_seen)
    waiting = sum(1 for host in state.hosts if host not in state.recovered)
    if waiting:
        draft.decide(
            Outcome.RECOVERY_PARTIAL,
            incident.id,
            source_ids=(signal.source_id,),
            detail=f"recovery on {signal.host}; {waiting} hosts still failing",
        )
        return
    at = max(state.recovered.values(), default=signal.last_seen)
    resolve_recovered(draft, policy, incident, at, f"recovery on {signal.host}")


def _hit(draft: Draft, policy: LifecyclePolicy, incident: Incident, signal: Signal, children: ChildKeys) -> None:
    state = draft.state
    state.recovered.pop(signal.host, None)
    first_seen = incident.first_seen
    entry = WindowEntry.of(signal)
    earlier, readmitted = earlier_opening(policy, state, incident, entry)
    if earlier is not None:
        state.last_opened_at = earlier
        incident = replace_incident(incident, opened_at=earlier)
    if incident.opened_at is not None and entry.last_seen <= incident.opened_at:  # one of its opening's hits
        incident = _rejoin_opening(draft, policy, incident)
    new_hosts: list[str] = []  # hosts this call adds to the incident: each is claimed
    for old in readmitted:
        incident, new_host = fold(state, incident, old)
        if new_host:
            new_hosts.append(old.host)
    applied = tuple(s.source_id for s in readmitted)
    opened = incident.opened_at
    if opened is not None and entry.last_seen < opened - policy.window:
        # Late, and older than the opening's window: in event-time order it had expired.
        draft.decide(Outcome.OUTSIDE_WINDOW, source_ids=(signal.source_id,))
        if readmitted:
            incident = draft.touch(incident)
            draft.decide(Outcome.APPLIED, incident.id, source_ids=applied)
            _claim(draft, policy, incident, first_seen, new_hosts, children)
        return
    counted, new_host = fold(state, incident, entry)
    if new_host:
        new_hosts.append(signal.host)
    counted = draft.touch(counted)
    draft.decide(Outcome.APPLIED, counted.id, source_ids=(*applied, signal.source_id))
    counted = escalate(draft, policy, counted, signal.last_seen)
    _claim(draft, policy, counted, first_seen, new_hosts, children)


def _opening_entries(policy: LifecyclePolicy, entries: list[WindowEntry], at: datetime) -> list[WindowEntry]:
    """The hits an opening at ``at`` counts in event time: at or before it, inside its window, and
    not cleared by a recovery of their host before it."""
    cleared = cleared_hits(entries, at, at_until=False)
    since = at - policy.window
    return [e for e in entries if not e.recovery and since <= e.last_seen <= at and e.source_id not in cleared]


def _opening_level(policy: LifecyclePolicy, state: GroupState, incident: Incident, entries: list[WindowEntry],
                   at: datetime) -> tuple[ChangeReason, Severity]:
    """The reason and severity of an opening at ``at`` by its own hits among ``entries``:
    ``opened`` for one signal, ``threshold_reached`` for several; the severity their counts reach.

    Decision: by the hits at or before the opening, whichever arrived first. Two workers, a
    partition read again or a backlog bring a group's signals in another order around its opening.
    Counting what had arrived made a site-wide DNS incident open at medium and escalate as
    earlier hits arrived (reason ``escalated``) where stage 1's order opens it at high
    (``threshold_reached``): 23 of 32 shuffled and backlog orders of the recovery tests' fleet
    (2026-12-03). And a dedup window's signal that alone met the thresholds, then an earlier one,
    read ``opened`` where event time reads ``threshold_reached``."""
    counted = _opening_entries(policy, entries, at)
    reason = ChangeReason.OPENED if len(counted) <= 1 else ChangeReason.THRESHOLD_REACHED
    sized = replace_incident(incident, severity=policy.severity, event_count=sum(e.count for e in counted),
                             host_count=len({e.host for e in counted}))
    return reason, escalated_severity(policy, sized, state.population, at)


_OPENING_PATH = (ChangeReason.OPENED, ChangeReason.THRESHOLD_REACHED, ChangeReason.ESCALATED)


def _rejoin_opening(draft: Draft, policy: LifecyclePolicy, incident: Incident) -> Incident:
    """A late hit joined the incident's opening (``state.opening`` holds it): while its last
    transitions are its opening and escalations, its reason and severity are what the opening's
    own hits give. A severity raised so is a change (``escalate``) that keeps the opening's
    reason; an escalation the opening now explains (the opening reaches its severity) reads as
    the opening."""
    opened = incident.opened_at
    if opened is None or incident.reason not in _OPENING_PATH:
        return incident
    reason, severity = _opening_level(policy, draft.state, incident, draft.state.opening, opened)
    if incident.reason is ChangeReason.ESCALATED and not at_least(severity, incident.severity):
        return incident  # escalated past what its opening gives: by later hits or by age
    if reason is not incident.reason:
        incident = replace_incident(incident, reason=reason)
    if at_least(incident.severity, severity):
        return incident
    raised = draft.change(incident, Trigger.ESCALATE, opened, detail=f"{incident.severity} -> {severity} at its opening",
                          keep_reason=reason, severity=severity)
    return raised or incident


def _ended_before(policy: LifecyclePolicy, state: GroupState, signal: Signal) -> Incident | None:
    """The group's last incident, when this late hit is of the span it lived, inside what it
    counts and before its resolution, and the resolution stands: its lifetime ended it, or its
    hosts' recovery did and this hit's host recovered after the hit (else ``_contradicted``)."""
    last = state.last_resolved
    if last is None or last.opened_at is None or last.resolved_at is None:
        return None
    if signal.last_seen >= last.resolved_at or signal.last_seen < last.opened_at - policy.window:
        return None
    if last.reason in (ChangeReason.MAX_LIFETIME, ChangeReason.OPERATOR_RESOLVED):
        return last
    if state.incident is not None:  # ``recovered`` and ``device_classes`` are the newer one's
        return None
    if last.reason is ChangeReason.RECOVERY_EVENT:
        recovered = state.recovered.get(signal.host)
        return last if recovered is not None and recovered > signal.last_seen else None
    if last.reason is ChangeReason.QUIET_TIMEOUT:
        return None if _quiet_contradicted(policy, state, last, signal) else last
    return None


def _quiet_contradicted(policy: LifecyclePolicy, state: GroupState, last: Incident, signal: Signal) -> bool:
    """Whether a late hit says the incident was not quiet yet when a tick resolved it: the hit is
    within the quiet timeout before that resolution (of the group's device classes and the hit's;
    none, as for a laptop, means it would never have been quiet)."""
    assert last.resolved_at is not None
    timeout = quiet_timeout(policy, [*state.device_classes, signal.device_class])
    return timeout is None or last.resolved_at - signal.last_seen < timeout


def _count_late(draft: Draft, policy: LifecyclePolicy, ended: Incident, hit: Signal, children: ChildKeys) -> None:
    """Count a late hit into the resolved incident whose span it falls in; it stays resolved.

    Decision: so too for a resolution by recovery that the hit does not contradict (its host
    recovered after it). Such a hit used to be held as pending, never counted: a worker that
    reads a partition again from its commit (a heal, a second worker taking it over) can bring a
    group's first hit after its later ones and the recovery; moving one signal of the recovery
    tests' fleet after its group's next three changed the incidents in 3 of 204 such moves
    (2026-12-03), an update failure counted 2 where event time counts 3.

    Decision: the lifetime resolves an incident at ``opened_at + max_lifetime``, and the hits of
    that span count into it whenever they arrive. The resolution used to be at the time of the
    signal that found the lifetime over, and earlier hits arriving after it opened a second,
    back-dated incident: an 8- or 16-day backlog of the recovery tests' fleet (a site-wide DNS
    incident with a 2-day lifetime) ended otherwise in 20 of 20 orders, now in 8 and 6 of 20, by
    one hit's count (ARCHITECTURE.md; 2026-12-03). A late hit that moves the opening back moves
    the end with it.

    While the group has no newer incident, its hosts, opening and claims are still this one's:
    a host the hit adds has its child groups claimed and released at once, as the incident would
    have held them while live. Once a newer incident is live, those belong to it; the hit is
    counted, and its host's children are not claimed for the old one (a claim moves a child to
    its latest parent)."""
    state = draft.state
    assert ended.resolved_at is not None and ended.opened_at is not None  # _ended_before
    entry = WindowEntry.of(hit)
    first_seen, newest = ended.first_seen, state.incident is None
    readmitted: list[WindowEntry] = []
    updates: dict[str, datetime] = {}
    if newest:
        earlier, readmitted = earlier_opening(policy, state, ended, entry)
        if earlier is not None:
            state.last_opened_at = earlier
            updates = {"opened_at": earlier}
            if ended.reason is ChangeReason.MAX_LIFETIME:
                updates["resolved_at"] = earlier + (ended.resolved_at - ended.opened_at)
    hosts = state if newest else GroupState(hosts=list(ended.hosts), device_classes=list(ended.device_classes),
                                            population=state.population)
    counted, new_hosts = ended, []
    for one in (*readmitted, entry):
        counted, new_host = fold(hosts, counted, one)
        if new_host:
            new_hosts.append(one.host)
    if hosts is not state:
        state.population = hosts.population
    # Escalated as the live incident would have been by this hit, at its time.
    severity = escalated_severity(policy, counted, state.population, counted.last_seen)
    counted = draft.touch(counted, severity=severity, **updates)
    draft.decide(Outcome.APPLIED, counted.id, source_ids=(*(e.source_id for e in readmitted), hit.source_id),
                 detail=f"late, before its resolution ({ended.reason.value if ended.reason else ''})")
    if not (newest and policy.absorbs):
        return
    if counted.first_seen < first_seen or "resolved_at" in updates:  # what it explains, or its end, moved
        send_absorbs(draft, policy, counted, state.hosts, children, again=True)
        send_releases(draft, counted)
    elif new_hosts:
        send_absorbs(draft, policy, counted, new_hosts, children)
        send_releases(draft, counted, children.keys(policy, counted, new_hosts))


def _contradicted(policy: LifecyclePolicy, state: GroupState, signal: Signal) -> Incident | None:
    """The group's last incident, when this late hit says its resolution came too soon: by
    recovery, it resolved because every host it knew had recovered, and this hit is earlier than
    that, inside what the incident counts, from a host with no recovery after it; by quiet
    timeout, this hit is earlier than the resolution by less than the timeout."""
    last = state.last_resolved
    if last is None or last.reason not in (ChangeReason.RECOVERY_EVENT, ChangeReason.QUIET_TIMEOUT):
        return None
    if last.resolved_at is None or last.opened_at is None or signal.first_seen >= last.resolved_at:
        return None
    if signal.last_seen < last.opened_at - policy.window:
        return None  # older than the opening's window: it would not have counted (_hit)
    if last.reason is ChangeReason.QUIET_TIMEOUT:
        return last if _quiet_contradicted(policy, state, last, signal) else None
    recovered = state.recovered.get(signal.host)
    return last if recovered is None or recovered <= signal.last_seen else None


def _withdraw(draft: Draft, policy: LifecyclePolicy, resolved: Incident, signal: Signal,
              children: ChildKeys) -> None:
    """Take back a resolution that a late, earlier hit contradicts, and count the hit as if it had
    arrived before the resolution; the incident resolves again once its hosts have recovered, or
    once a tick finds it quiet again.

    Decision: withdraw, not reopen. A multi-host incident resolves when every host it knows has
    recovered, and a backlog (the demo's file, a catch-up) brings one stage-1 partition's hosts,
    each with its day's hits and its recovery, long before another's: the incident resolved
    before the other hosts' earlier hits arrived, and each of those reopened it. On the 24-hour
    evaluation fleet of seed 1, stage 1's own order reopened the site-wide GPO incident three
    times (``reopen_count`` 3, where event time has none), and 18 of 20 backlog orders ended with
    another count or opening (ARCHITECTURE.md). Withdrawn, the final incident is the one event
    time gives. The change reads ``reopened`` downstream (the status is open again), with a detail
    that says why; it does not count as a reopening (no resolve/reopen cycle happened in event
    time), and the incident's ``reason`` goes back to the one it had before it resolved, as in
    event-time order. An acknowledgement is cleared, as a reopening clears it.

    The hits and recoveries held since the resolution count as they would have on the live
    incident, in event-time order; those older than its window stay held."""
    state = draft.state
    assert resolved.resolved_at is not None and resolved.opened_at is not None
    live = draft.change(
        resolved,
        Trigger.WITHDRAW,
        signal.first_seen,
        detail=f"resolution at {resolved.resolved_at.isoformat()} withdrawn: hit on {signal.host} "
               f"at {signal.first_seen.isoformat()}",
        keep_reason=state.resolved_from,
        resolved_at=None,
        acknowledged_by=None,
        acknowledged_at=None,
    )
    if live is None:
        return
    if policy.absorbs and state.absorb_targets:
        send_absorbs(draft, policy, live, (), children, again=True)  # what the resolution released
    since = resolved.opened_at - policy.window
    held = state.window
    state.window = [e for e in held if e.last_seen < since]
    _hit(draft, policy, live, signal, children)
    # A recovery of the hit's own host held from before the hit does not recover it from the hit.
    _count_held(draft, policy, [e for e in held if e.last_seen >= since and not (
        e.recovery and e.host == signal.host and e.last_seen < signal.last_seen)], children)


def _count_held(draft: Draft, policy: LifecyclePolicy, held: list[WindowEntry], children: ChildKeys) -> None:
    """Count held hits and recoveries into the live incident in event-time order, then resolve it
    if every host has recovered."""
    state = draft.state
    incident = state.incident
    if incident is None or not held:
        return
    first_seen, new_hosts = incident.first_seen, []
    for entry in sorted(held, key=event_order):
        if entry.recovery:
            if entry.host in state.hosts:
                _mark_recovered(state.recovered, entry.host, entry.last_seen, incident.last_seen)
            continue
        state.recovered.pop(entry.host, None)
        incident, new_host = fold(state, incident, entry)
        if new_host:
            new_hosts.append(entry.host)
    incident = draft.touch(incident)
    draft.decide(Outcome.APPLIED, incident.id, source_ids=tuple(e.source_id for e in held))
    incident = escalate(draft, policy, incident, max(e.last_seen for e in held))
    _claim(draft, policy, incident, first_seen, new_hosts, children)
    if all(host in state.recovered for host in state.hosts):
        resolve_recovered(draft, policy, incident, max(state.recovered.values()), "every host recovered")


def _claim(draft: Draft, policy: LifecyclePolicy, incident: Incident, was: datetime, new_hosts: list[str],
           children: ChildKeys) -> None:
    """Claim the child groups a hit adds to a parent: every one again when its first event moved
    earlier than ``was`` (a late, earlier hit widens what it explains), else those of the hosts it
    brought, the held hits it readmitted included.

    Decision: readmitted hosts too. Only the signal's own host used to be claimed: a host whose
    held hits an earlier opening readmitted was counted but never claimed when the parent's first
    event stayed where it was (another host's repeats began earlier still), and its per-host
    incident stayed apart. The demo on 4 partitions showed one in 2 runs of 7 (2026-12-02)."""
    if not policy.absorbs:
        return
    if incident.first_seen < was:
        send_absorbs(draft, policy, incident, draft.state.hosts, children, again=True)
    elif new_hosts:
        send_absorbs(draft, policy, incident, new_hosts, children)


def _one_hit_opens(policy: LifecyclePolicy, state: GroupState, signal: Signal) -> bool:
    """Whether this hit alone meets the rule's thresholds (a rule that opens on one event)."""
    entry = [WindowEntry.of(signal)]
    return crossing_time(policy, entry, threshold_population(policy, entry, state.population)) is not None


def _reopen(draft: Draft, policy: LifecyclePolicy, last: Incident, entries: list[WindowEntry], at: datetime,
            detail: str, children: ChildKeys) -> Incident | None:
    """Reopen ``last`` at ``at`` with ``entries`` counted into it."""
    counted = last
    for entry in entries:
        draft.state.recovered.pop(entry.host, None)
        counted, _ = fold(draft.state, counted, entry)
    reopened = draft.change(
        counted,
        Trigger.REOPEN,
        at,
        detail=detail,
        reopen_count=last.reopen_count + 1,
        resolved_at=None,
        parent_id=None,
        acknowledged_by=None,
        acknowledged_at=None,
    )
    if reopened is None:
        return None
    draft.decide(Outcome.APPLIED, reopened.id, source_ids=tuple(e.source_id for e in entries))
    threshold = policy.flap_threshold
    if threshold is not None and reopened.reopen_count >= threshold and not reopened.flapping:
        reopened = (
            draft.change(
                reopened,
                Trigger.FLAP,
                at,
                flapping=True,
                detail=f"{reopened.reopen_count} resolve/reopen cycles",
            )
            or reopened
        )
    reopened = escalate(draft, policy, reopened, at)
    if policy.absorbs:
        send_absorbs(draft, policy, reopened, draft.state.hosts, children, again=True)
    return reopened


def _pend(draft: Draft, policy: LifecyclePolicy, signal: Signal, children: ChildKeys) -> None:
    """Hold the hit; open when the held hits inside one window meet the thresholds.

    Held hits are kept in event-time order and none is dropped for arriving late (only the cap,
    and ticks by wall time, expire them): the crossing is then a function of the set of hits.
    """
    state = draft.state
    _hold(draft, signal)
    population = threshold_population(policy, state.window, state.population)
    crossed = crossing_time(policy, state.window, population)
    if crossed is None:
        draft.decide(Outcome.PENDING, source_ids=(signal.source_id,))
    elif state.last_resolved is not None and reopenable(policy, state.last_resolved, crossed):
        _reopen_at_crossing(draft, policy, state.last_resolved, crossed, children)
    else:
        _open(draft, policy, signal, children)


def _reopen_at_crossing(draft: Draft, policy: LifecyclePolicy, last: Incident, crossed: datetime,
                        children: ChildKeys) -> None:
    """A rule that needs more than one hit reopens its last incident when its thresholds are met
    again within the reopen window, with the held hits of that window counted.

    Decision: not on the first hit. A site's DNS incident (>= 3 hosts, >= 10 timeouts in 30 min)
    resolved by quiet and was reopened four times in a simulated day (seed 2) by one background
    timeout on one host each time, each a notification: the site was not failing again. The
    opening's time floor and held entries (``opening_time``) stay the first opening's: they move
    that opening back for late hits, and a reopening does not move.
    """
    state = draft.state
    held, state.window = state.window, []
    entries = _counted(draft, policy, held, crossed)
    hosts = len({e.host for e in entries})
    reopened = _reopen(draft, policy, last, sorted(entries, key=lambda e: (e.first_seen, e.sample)), crossed,
                       f"thresholds met again: {len(entries)} hits on {hosts} hosts", children)
    if reopened is not None:
        _recover_after(draft, policy, reopened, held, crossed)


def _hold(draft: Draft, signal: Signal) -> None:
    """Keep a hit or a recovery in the window, in event-time order, within its cap."""
    window = draft.state.window
    bisect.insort(window, WindowEntry.of(signal), key=event_order)
    overflow = window[:-WINDOW_CAP]
    if overflow:
        del window[:-WINDOW_CAP]
        draft.decide(Outcome.WINDOW_EXPIRED, source_ids=tuple(s.source_id for s in overflow))


def _counted(draft: Draft, policy: LifecyclePolicy, held: list[WindowEntry], at: datetime) -> list[WindowEntry]:
    """The held hits an opening (or reopening) at ``at`` counts: those inside its window that no
    recovery of their host cleared before it; the older ones are decided expired.

    A recovery at that instant comes after the crossing hit (event_order): it does not clear hits
    the crossing counted, it recovers its host of the incident (_recover_after). Clearing them too
    opened an incident without a single counted hit."""
    cleared = cleared_hits(held, at, at_until=False)
    hits = [s for s in held if not s.recovery]
    expired = tuple(s.source_id for s in hits if s.last_seen < at - policy.window)
    if expired:
        draft.decide(Outcome.WINDOW_EXPIRED, source_ids=expired, detail=f"before {at}")
    return [s for s in hits if s.last_seen >= at - policy.window and s.source_id not in cleared]


def _open(draft: Draft, policy: LifecyclePolicy, crossing: Signal, children: ChildKeys) -> None:
    state = draft.state
    held, state.window = state.window, []
    opened_at = opening_time(policy, state, held)
    entries = _counted(draft, policy, held, opened_at)
    state.last_opened_at = opened_at
    state.hosts, state.device_classes, state.children, state.absorb_targets = [], [], [], []
    state.recovered = {}
    incident = blank_incident(policy, state, crossing, opened_at)
    state.episodes += 1
    for entry in sorted(entries, key=lambda e: (e.first_seen, e.sample)):
        incident, _ = fold(state, incident, entry)
    # By the hits at or before the opening (_opening_level); the later ones held meanwhile came
    # after it in event time, and escalate it as they would have.
    reason, severity = _opening_level(policy, state, incident, entries, opened_at)
    trigger = Trigger.FIRST_HIT if reason is ChangeReason.OPENED else Trigger.THRESHOLD
    opened = draft.open(replace_incident(incident, severity=severity), trigger, opened_at)
    if opened is None:
        return
    draft.decide(Outcome.APPLIED, opened.id, source_ids=tuple(s.source_id for s in entries))
    opened = escalate(draft, policy, opened, max((e.last_seen for e in entries), default=opened_at))
    if policy.absorbs:
        send_absorbs(draft, policy, opened, state.hosts, children)
    _recover_after(draft, policy, opened, held, opened_at)


def _recover_after(draft: Draft, policy: LifecyclePolicy, incident: Incident, held: list[WindowEntry],
                   opened_at: datetime) -> None:
    """Recoveries held at or past the opening count as if they had arrived after it, in event-time
    order: a host recovers, fails again, recovers; once every host has recovered, it resolves."""
    state = draft.state
    recovered = False
    for entry in sorted((s for s in held if s.last_seen >= opened_at), key=event_order):
        if not entry.recovery:
            state.recovered.pop(entry.host, None)
        elif entry.host in state.hosts:
            _mark_recovered(state.recovered, entry.host, entry.last_seen, incident.last_seen)
            recovered = True
    if recovered and all(host in state.recovered for host in state.hosts):
        at = max(state.recovered.values())
        resolve_recovered(draft, policy, incident, at, "every host recovered")


def _mark_recovered(recovered: dict[str, datetime], host: str, at: datetime, after: datetime) -> bool:
    """A host recovered at its first recovery since its last hit (a hit takes it out of
    ``recovered``): a repeated recovery (an agent reporting "healthy" again) does not move that
    time. Keeping the latest made the order of arrival matter: two recoveries held before the
    opening put the resolution at the second, where in event-time order the first had already
    let the incident resolve.

    A late recovery earlier than the one kept replaces it when nothing the incident counts is
    later than it (``after``, the incident's last event): no hit of the host lies between them.
    True when the host's time was set or moved."""
    kept = recovered.get(host)
    if kept is not None and not after <= at < kept:
        return False
    recovered[host] = at
    return True
