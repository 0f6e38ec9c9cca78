"""Signals: count a hit into the live incident, reopen the last one, or pend until thresholds."""

from __future__ import annotations

from collections.abc import Mapping

from deskwatch.processors.stage2.absorb import join_parent, send_absorbs
from deskwatch.processors.stage2.advance import escalate, lifetime_over, reopenable, resolve
from deskwatch.processors.stage2.draft import Draft
from deskwatch.processors.stage2.mute import apply_silences
from deskwatch.processors.stage2.policy import LifecyclePolicy
from deskwatch.processors.stage2.state import WINDOW_CAP, WindowEntry
from deskwatch.processors.stage2.tally import (
    blank_incident,
    escalated_severity,
    fold,
    opening_time,
    thresholds_met,
)
from deskwatch.processors.stage2.transition import Outcome, Trigger
from deskwatch.schemas.command import Silence
from deskwatch.schemas.incident import Incident
from deskwatch.schemas.signal import Signal


def observe(
    draft: Draft, policy: LifecyclePolicy, signal: Signal, silences: Mapping[str, Silence]
) -> None:
    """Apply one new (not replayed) signal to the group."""
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
        resolve(draft, incident, Trigger.LIFETIME, signal.last_seen, detail="max_lifetime reached")
        incident = None
    if signal.recovery:
        _recover(draft, incident, signal)
    elif incident is not None:
        _hit(draft, policy, incident, signal)
    elif reopenable(policy, state.last_resolved, signal.last_seen):
        assert state.last_resolved is not None
        _reopen(draft, policy, state.last_resolved, signal)
    else:
        _pend(draft, policy, signal)
    apply_silences(draft, silences, draft.now)


def _recover(draft: Draft, incident: Incident | None, signal: Signal) -> None:
    if incident is not None:
        resolve(
            draft, incident, Trigger.RECOVERY, signal.last_seen, detail=f"recovery on {signal.host}"
        )
        return
    dropped = tuple(s.source_id for s in draft.state.window)
    draft.state.window.clear()
    draft.decide(
        Outcome.RECOVERY_WITHOUT_INCIDENT, source_ids=dropped, detail="pending window cleared"
    )


def _hit(draft: Draft, policy: LifecyclePolicy, incident: Incident, signal: Signal) -> None:
    counted, new_host = fold(draft.state, incident, WindowEntry.of(signal), signal.sample_message)
    counted = draft.touch(counted)
    draft.decide(Outcome.APPLIED, counted.id, source_ids=(signal.source_id,))
    counted = escalate(draft, policy, counted, signal.last_seen)
    if new_host and policy.absorbs:
        send_absorbs(draft, policy, counted, [signal.host])


def _reopen(draft: Draft, policy: LifecyclePolicy, last: Incident, signal: Signal) -> None:
    counted, _ = fold(draft.state, last, WindowEntry.of(signal), signal.sample_message)
    reopened = draft.change(
        counted,
        Trigger.REOPEN,
        signal.last_seen,
        detail=f"hit on {signal.host}",
        reopen_count=last.reopen_count + 1,
        resolved_at=None,
        parent_id=None,
        acknowledged_by=None,
        acknowledged_at=None,
    )
    if reopened is None:
        return
    draft.decide(Outcome.APPLIED, reopened.id, source_ids=(signal.source_id,))
    threshold = policy.flap_threshold
    if threshold is not None and reopened.reopen_count >= threshold and not reopened.flapping:
        reopened = (
            draft.change(
                reopened,
                Trigger.FLAP,
                signal.last_seen,
                flapping=True,
                detail=f"{reopened.reopen_count} resolve/reopen cycles",
            )
            or reopened
        )
    reopened = escalate(draft, policy, reopened, signal.last_seen)
    if policy.absorbs:
        send_absorbs(draft, policy, reopened, draft.state.hosts, again=True)
    join_parent(draft, reopened)


def _pend(draft: Draft, policy: LifecyclePolicy, signal: Signal) -> None:
    state = draft.state
    newest = max([signal.last_seen, *(s.last_seen for s in state.window)])
    cutoff = newest - policy.window
    if signal.last_seen < cutoff:
        draft.decide(
            Outcome.OUTSIDE_WINDOW, source_ids=(signal.source_id,), detail=f"before {cutoff}"
        )
        return
    kept = [s for s in state.window if s.last_seen >= cutoff] + [WindowEntry.of(signal)]
    expired = [s for s in state.window if s.last_seen < cutoff] + kept[:-WINDOW_CAP]
    state.window = kept[-WINDOW_CAP:]
    if expired:
        draft.decide(Outcome.WINDOW_EXPIRED, source_ids=tuple(s.source_id for s in expired))
    population = next(
        (s.population for s in reversed(state.window) if s.population), state.population
    )
    if thresholds_met(policy, state.window, population):
        _open(draft, policy, signal)
    else:
        draft.decide(Outcome.PENDING, source_ids=(signal.source_id,))


def _open(draft: Draft, policy: LifecyclePolicy, crossing: Signal) -> None:
    state = draft.state
    entries, state.window = state.window, []
    opened_at = opening_time(state, entries)
    state.last_opened_at = opened_at
    state.hosts, state.device_classes, state.children, state.absorb_targets = [], [], [], []
    incident = blank_incident(policy, state, crossing, opened_at)
    state.episodes += 1
    for entry in entries:
        incident, _ = fold(state, incident, entry, crossing.sample_message)
    incident = incident.model_copy(
        update={"severity": escalated_severity(policy, incident, state.population, opened_at)}
    )
    trigger = Trigger.FIRST_HIT if len(entries) == 1 else Trigger.THRESHOLD
    opened = draft.open(incident, trigger, opened_at)
    if opened is None:
        return
    draft.decide(Outcome.APPLIED, opened.id, source_ids=tuple(s.source_id for s in entries))
    if policy.absorbs:
        send_absorbs(draft, policy, opened, state.hosts)
    join_parent(draft, opened)
