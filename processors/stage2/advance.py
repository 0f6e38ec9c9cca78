"""Transitions shared by signals, ticks and commands: resolve (and release children), escalate, and
an acknowledgement's lapse."""

from __future__ import annotations

from datetime import datetime

from deskwatch.processors.stage2.absorb import send_releases
from deskwatch.processors.stage2.draft import Draft
from deskwatch.processors.stage2.policy import LifecyclePolicy
from deskwatch.processors.stage2.tally import escalated_severity
from deskwatch.processors.stage2.transition import Trigger
from deskwatch.schemas.incident import ChangeReason, Incident, IncidentStatus


def resolve(
    draft: Draft,
    incident: Incident,
    trigger: Trigger,
    at: datetime,
    *,
    actor: str | None = None,
    detail: str = "",
) -> Incident | None:
    """Resolve through the table; a parent releases the child groups it absorbed."""
    if trigger in (Trigger.RECOVERY, Trigger.QUIET):  # a late hit may withdraw it (observe._withdraw)
        draft.state.resolved_from = incident.reason
    resolved = draft.change(incident, trigger, at, actor=actor, detail=detail, resolved_at=at)
    if resolved is not None and draft.state.absorb_targets:
        send_releases(draft, resolved)
    return resolved


def resolve_recovered(
    draft: Draft, policy: LifecyclePolicy, incident: Incident, at: datetime, detail: str
) -> Incident | None:
    """Resolve an incident whose hosts have all recovered, the latest at ``at``: by its lifetime
    instead when that ended first (an opening a late hit moved back can put it there)."""
    if lifetime_over(policy, incident, at):
        return end_lifetime(draft, policy, incident)
    return resolve(draft, incident, Trigger.RECOVERY, at, detail=detail)


def end_lifetime(draft: Draft, policy: LifecyclePolicy, incident: Incident, detail: str = "max_lifetime reached") -> (
        Incident | None):
    """Resolve by its lifetime, at the lifetime's end (whatever later time found it over)."""
    end = lifetime_end(policy, incident)
    assert end is not None, "end_lifetime on an incident without a lifetime"
    return resolve(draft, incident, Trigger.LIFETIME, end, detail=detail)


def escalate(draft: Draft, policy: LifecyclePolicy, incident: Incident, at: datetime) -> Incident:
    """Raise the severity to the highest escalation level reached, if any is new."""
    severity = escalated_severity(policy, incident, draft.state.population, at)
    if severity == incident.severity:
        return incident
    raised = draft.change(
        incident,
        Trigger.ESCALATE,
        at,
        detail=f"{incident.severity} -> {severity}",
        severity=severity,
    )
    return raised or incident


def lapse_ack(draft: Draft, policy: LifecyclePolicy, incident: Incident, at: datetime) -> Incident:
    """An acknowledgement older than the rule's ``ack_timeout`` lapses while the incident is still
    active: back to open, the acknowledgement cleared (the history keeps who and when), so that
    someone looks again. A timer of its own: quiet timeout and lifetime end the incident, this only
    the acknowledgement."""
    timeout, acked = policy.ack_timeout, incident.acknowledged_at
    if timeout is None or acked is None or incident.status is not IncidentStatus.ACKNOWLEDGED or at - acked < timeout:
        return incident
    lapsed = draft.change(incident, Trigger.ACK_EXPIRE, at,
                          detail=f"acknowledged by {incident.acknowledged_by} at {acked.isoformat()}, {timeout} ago",
                          acknowledged_by=None, acknowledged_at=None)
    return lapsed or incident


def lifetime_over(policy: LifecyclePolicy, incident: Incident, at: datetime) -> bool:
    """Whether the incident has been open for ``max_lifetime`` as of ``at``."""
    end = lifetime_end(policy, incident)
    return end is not None and at >= end


def lifetime_end(policy: LifecyclePolicy, incident: Incident) -> datetime | None:
    """When the incident's ``max_lifetime`` ends (None without one): where it resolves, whichever
    later signal or tick finds it over."""
    limit = policy.max_lifetime
    return None if limit is None or incident.opened_at is None else incident.opened_at + limit


def reopenable(policy: LifecyclePolicy, last: Incident | None, at: datetime) -> bool:
    """A hit at ``at`` reopens ``last`` if within ``reopen_window`` of its resolution.

    An incident closed by ``max_lifetime``, or that would be past it, never reopens: the cap
    exists to start a fresh one.
    """
    window = policy.reopen_window
    if last is None or window is None or last.resolved_at is None:
        return False
    if last.reason is ChangeReason.MAX_LIFETIME or lifetime_over(policy, last, at):
        return False
    return at <= last.resolved_at + window
