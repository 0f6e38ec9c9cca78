"""Ticks: wall time reaches the partition, so quiet timeouts, lifetimes and windows can end."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta

from deskwatch.processors.stage2.advance import end_lifetime, escalate, lapse_ack, lifetime_end, lifetime_over, resolve
from deskwatch.processors.stage2.draft import Draft
from deskwatch.processors.stage2.mute import apply_silences
from deskwatch.processors.stage2.policy import LifecyclePolicy, quiet_timeout
from deskwatch.processors.stage2.state import ALWAYS, GroupState
from deskwatch.processors.stage2.tally import escalation_due
from deskwatch.processors.stage2.transition import Outcome, Trigger
from deskwatch.schemas.command import Silence
from deskwatch.schemas.incident import IncidentStatus

_STEP = timedelta(microseconds=1)  # a datetime's resolution: "after D" is "at D + _STEP or later"


def expire(
    draft: Draft, policy: LifecyclePolicy, tick_time: datetime, silences: Mapping[str, Silence]
) -> None:
    """Apply one tick: resolve by quiet timeout or lifetime, lapse an old acknowledgement, escalate
    by age, expire the window."""
    state = draft.state
    incident = state.incident
    if incident is not None:
        timeout = quiet_timeout(policy, state.device_classes)
        if timeout is not None and tick_time - incident.last_seen >= timeout:
            resolve(draft, incident, Trigger.QUIET, tick_time, detail=f"quiet for {timeout}")
        elif lifetime_over(policy, incident, tick_time):
            end_lifetime(draft, policy, incident, detail=f"open for {policy.max_lifetime}")
        else:
            escalate(draft, policy, lapse_ack(draft, policy, incident, tick_time), tick_time)
    cutoff = tick_time - policy.window
    expired = tuple(s.source_id for s in state.window if s.last_seen < cutoff)
    if expired:
        state.window = [s for s in state.window if s.last_seen >= cutoff]
        draft.decide(Outcome.WINDOW_EXPIRED, source_ids=expired, detail=f"before {cutoff}")
    apply_silences(draft, silences, tick_time)


def tick_due(state: GroupState, policy: LifecyclePolicy) -> datetime | None:
    """The first time at which ``expire`` (and the ``reconcile`` after it) can change ``state``: a
    tick before it changes nothing and sends nothing. None when no time can.

    Each timer ``expire`` reads, for a live incident: its quiet timeout, its lifetime, its
    acknowledgement's lapse, a higher escalation level by age (or at once, should its counts
    reach one); and for pending signals, the oldest leaving the window. A silenced incident is
    due at once (``ALWAYS``): its silence may end or be expired at any tick. Whether a silence
    starts to apply is not the state's to say: the caller asks whether one is active at the
    tick (``Stage2.on_tick``). ``reconcile`` already ran on this very state at its last input,
    and it is idempotent.
    """
    dues: list[datetime] = []
    incident = state.incident
    if incident is not None:
        if incident.silenced_by is not None:
            return ALWAYS
        timeout = quiet_timeout(policy, state.device_classes)
        if timeout is not None:
            dues.append(incident.last_seen + timeout)
        end = lifetime_end(policy, incident)
        if end is not None:
            dues.append(end)
        acked = incident.acknowledged_at
        if policy.ack_timeout is not None and acked is not None and incident.status is IncidentStatus.ACKNOWLEDGED:
            dues.append(acked + policy.ack_timeout)
        escalation = escalation_due(policy, incident, state.population)
        if escalation is not None:
            dues.append(escalation)
    if state.window:  # an entry leaves once it is older than the window (``cutoff`` above)
        dues.append(min(entry.last_seen for entry in state.window) + policy.window + _STEP)
    return min(dues) if dues else None
