"""Ticks: wall time reaches the partition, so quiet timeouts, lifetimes and windows can end."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from deskwatch.processors.stage2.advance import escalate, lapse_ack, lifetime_over, resolve
from deskwatch.processors.stage2.draft import Draft
from deskwatch.processors.stage2.mute import apply_silences
from deskwatch.processors.stage2.policy import LifecyclePolicy, quiet_timeout
from deskwatch.processors.stage2.transition import Outcome, Trigger
from deskwatch.schemas.command import Silence


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
            resolve(
                draft,
                incident,
                Trigger.LIFETIME,
                tick_time,
                detail=f"open for {policy.max_lifetime}",
            )
        else:
            escalate(draft, policy, lapse_ack(draft, policy, incident, tick_time), tick_time)
    cutoff = tick_time - policy.window
    expired = tuple(s.source_id for s in state.window if s.last_seen < cutoff)
    if expired:
        state.window = [s for s in state.window if s.last_seen >= cutoff]
        draft.decide(Outcome.WINDOW_EXPIRED, source_ids=expired, detail=f"before {cutoff}")
    apply_silences(draft, silences, tick_time)
