"""Commands: operators acknowledge, assign and resolve; groups absorb, release and link children."""

from __future__ import annotations

from collections.abc import Mapping

from deskwatch.processors.stage2.absorb import on_absorb, on_link, on_release
from deskwatch.processors.stage2.advance import resolve
from deskwatch.processors.stage2.draft import Draft
from deskwatch.processors.stage2.mute import apply_silences
from deskwatch.processors.stage2.transition import Outcome, Trigger
from deskwatch.schemas.command import Command, CommandAction, Silence
from deskwatch.schemas.incident import Incident

A = CommandAction


def obey(draft: Draft, command: Command, silences: Mapping[str, Silence]) -> None:
    """Apply one command to the group it is keyed by."""
    if not draft.state.group_key:
        draft.state.group_key = command.group_key
    if command.action is A.ABSORB:
        on_absorb(draft, command)
    elif command.action is A.RELEASE:
        on_release(draft, command)
    else:
        target = _target(draft, command)
        if target is not None:
            _operate(draft, command, target)
    apply_silences(draft, silences, draft.now)


def _target(draft: Draft, command: Command) -> Incident | None:
    """The incident the command names, or the group's current/last one when it names none."""
    for candidate in (draft.state.incident, draft.state.last_resolved):
        if candidate is not None and command.incident_id in (None, candidate.id):
            return candidate
    outcome = Outcome.IGNORED_UNKNOWN_INCIDENT if command.incident_id else Outcome.NO_INCIDENT
    draft.decide(outcome, command.incident_id, detail=command.action.value)
    return None


def _operate(draft: Draft, command: Command, target: Incident) -> None:
    action, at, actor = command.action, command.at, command.actor
    if action in (A.LINK_CHILD, A.UNLINK_CHILD):
        on_link(draft, command, target)
        return
    if action is A.ACK:
        done = draft.change(
            target,
            Trigger.ACK,
            at,
            actor=actor,
            detail=command.comment,
            acknowledged_by=actor,
            acknowledged_at=at,
        )
    elif action is A.ASSIGN and target.active and target.assignee == command.assignee:
        draft.decide(Outcome.IGNORED_ALREADY_ASSIGNED, target.id, detail=f"{command.assignee}")
        return
    elif action is A.ASSIGN:
        done = draft.change(
            target,
            Trigger.ASSIGN,
            at,
            actor=actor,
            detail=command.comment,
            assignee=command.assignee,
        )
    else:
        done = resolve(
            draft, target, Trigger.OPERATOR_RESOLVE, at, actor=actor, detail=command.comment
        )
    if done is not None:
        draft.decide(Outcome.APPLIED, done.id, detail=action.value)
