"""Draft: the working copy for one input — state, revisions, changes, commands and decisions.

Every transition goes through ``Draft.change`` (the table decides) and bumps the revision once;
count-only updates (``touch``) share the next revision, or get one of their own at ``finish``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from deskwatch.processors.construct import replacer
from deskwatch.processors.stage2.state import GroupState, replace_incident
from deskwatch.processors.stage2.transition import SIDE_TRIGGERS, Outcome, Trigger, lookup, refusal
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.command import Command
from deskwatch.schemas.incident import ChangeReason, Incident, IncidentStatus

# Changes that record a parent's links, never worth a notification. Decision: each absorbed child
# was one notice per host to every receiver (the demo's 9 problems: 111 child_absorbed notices);
# the parent's notice at its threshold gives the scope, and its escalations by hosts or share of
# a site say when the scope grows enough to matter. They stay on incident-changes (notify false)
# for receivers that take every change (webhook.notify_only false) and in the history index.
BOOKKEEPING = frozenset({ChangeReason.CHILD_ABSORBED, ChangeReason.CHILD_RELEASED})

# Copies of the changes this input made (their notify flag): model_copy's generic steps, without.
_replace_change = replacer(IncidentChange)


@dataclass(frozen=True)
class Decision:
    """One outcome with its reason; ``source_ids`` are the signals it applied or dropped."""

    outcome: Outcome
    incident_id: str | None = None
    source_ids: tuple[str, ...] = ()
    detail: str = ""


@dataclass(frozen=True)
class Stage2Result:
    """New state, the latest revision per changed incident, transitions, outgoing commands."""

    state: GroupState
    incidents: list[Incident] = field(default_factory=list)
    changes: list[IncidentChange] = field(default_factory=list)
    commands: list[Command] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)


class Draft:
    """Mutable scratch for one input; the caller's state is copied, never modified."""

    def __init__(self, state: GroupState, now: datetime, history: int = 0) -> None:
        """``history``: how many resolved incidents older than ``last_resolved`` to keep."""
        self.state = state.fork()
        self.now = now
        self._history = history
        self.changes: list[IncidentChange] = []
        self.commands: list[Command] = []
        self.decisions: list[Decision] = []
        self._emitted: dict[str, Incident] = {}
        self._dirty: dict[str, None] = {}

    def decide(
        self,
        outcome: Outcome,
        incident_id: str | None = None,
        *,
        source_ids: tuple[str, ...] = (),
        detail: str = "",
    ) -> None:
        self.decisions.append(Decision(outcome, incident_id, source_ids, detail))

    def touch(self, incident: Incident, **updates: Any) -> Incident:
        """Update counts without a transition; the revision is bumped once later."""
        # An incident is frozen: without updates it is placed as it is, not copied (35 fields).
        updated = replace_incident(incident, **updates) if updates else incident
        self._place(updated)
        self._dirty[updated.id] = None
        return updated

    def change(
        self,
        incident: Incident | None,
        trigger: Trigger,
        at: datetime,
        *,
        actor: str | None = None,
        detail: str = "",
        keep_reason: ChangeReason | None = None,
        **updates: Any,
    ) -> Incident | None:
        """Apply one table transition; returns the new revision, or None (with a decision).

        ``keep_reason``: the incident's ``reason`` after it, where not the row's (the change still
        records the row's)."""
        status = None if incident is None else incident.status
        row = lookup(status, trigger)
        if row is None or incident is None:
            self.decide(
                refusal(status, trigger),
                None if incident is None else incident.id,
                detail=f"{trigger.value} on {status}",
            )
            return None
        # Cross-group notes (absorb, link) keep the lifecycle's reason: their arrival order
        # relative to the group's own transitions is a race, the final incident must not be.
        reason = incident.reason if trigger in SIDE_TRIGGERS else keep_reason or row.reason
        updated = replace_incident(
            incident,
            **{**updates, "status": row.to_status, "reason": reason, "revision": incident.revision + 1,
               "updated_at": self.now},
        )
        self._place(updated)
        self._emitted[updated.id] = updated
        self._dirty.pop(updated.id, None)
        self._record(updated, status, row.reason, at, actor, detail)
        return updated

    def open(self, incident: Incident, trigger: Trigger, at: datetime) -> Incident | None:
        """Bring a new incident (revision 1) into being through the table."""
        row = lookup(None, trigger)
        if row is None:
            self.decide(refusal(None, trigger), incident.id)
            return None
        opened = replace_incident(
            incident, status=row.to_status, reason=row.reason, revision=1, updated_at=self.now
        )
        self._place(opened)
        self._emitted[opened.id] = opened
        self._record(opened, None, row.reason, at)
        return opened

    def _record(self, incident: Incident, from_status: IncidentStatus | None, reason: ChangeReason,
                at: datetime, actor: str | None = None, detail: str = "") -> None:
        """The change that brought ``incident`` (its new revision) from ``from_status``."""
        self.changes.append(
            IncidentChange(
                incident_id=incident.id,
                revision=incident.revision,
                rule_id=incident.rule_id,
                rule_version=incident.rule_version,
                group_key=incident.group_key,
                from_status=from_status,
                to_status=incident.status,
                reason=reason,
                severity=incident.severity,
                at=at,
                actor=actor,
                detail=detail,
            )
        )

    def find(self, incident_id: str) -> Incident | None:
        """The current, last resolved or an earlier kept incident with this id."""
        for incident in (self.state.incident, self.state.last_resolved, *self.state.earlier):
            if incident is not None and incident.id == incident_id:
                return incident
        return None

    def _place(self, incident: Incident) -> None:
        if incident.status is IncidentStatus.RESOLVED:
            state = self.state
            if state.incident is not None and state.incident.id == incident.id:
                state.incident = None
            for at, old in enumerate(state.earlier):
                if old.id == incident.id:  # a new list: forks share this one (GroupState.fork)
                    state.earlier = [*state.earlier[:at], incident, *state.earlier[at + 1 :]]
                    return
            last = state.last_resolved
            if last is not None and last.id != incident.id and self._history:
                state.earlier = (state.earlier + [last])[-self._history :]
            state.last_resolved = incident
        else:
            if self.state.last_resolved is not None and self.state.last_resolved.id == incident.id:
                self.state.last_resolved = None
            self.state.incident = incident

    def finish(self) -> Stage2Result:
        """Bump touched incidents once, set ``notify`` from each incident's final state."""
        for incident_id in self._dirty:
            current = self.find(incident_id)
            if current is not None:
                bumped = replace_incident(current, revision=current.revision + 1, updated_at=self.now)
                self._place(bumped)
                self._emitted[incident_id] = bumped
        changes = [
            _replace_change(c, notify=c.reason not in BOOKKEEPING and not self._emitted[c.incident_id].suppressed)
            for c in self.changes
        ]
        return Stage2Result(
            self.state, list(self._emitted.values()), changes, self.commands, self.decisions
        )
