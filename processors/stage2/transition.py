"""The lifecycle as data: every legal (from-status, trigger) -> (to-status, reason), and outcomes.

A transition not in the table is not an error: the caller gets a ``Decision`` saying why nothing
happened (e.g. an ack of a resolved incident -> ``IGNORED_ALREADY_RESOLVED``).
"""

from __future__ import annotations

from enum import StrEnum
from typing import NamedTuple

from deskwatch.schemas.incident import ChangeReason as R
from deskwatch.schemas.incident import IncidentStatus

OPEN, ACK, RESOLVED = IncidentStatus.OPEN, IncidentStatus.ACKNOWLEDGED, IncidentStatus.RESOLVED


class Trigger(StrEnum):
    """What happened to an incident."""

    FIRST_HIT = "first_hit"  # the first signal alone meets the thresholds
    THRESHOLD = "threshold"  # a pending window reached its thresholds
    ESCALATE = "escalate"
    ACK = "ack"
    ACK_EXPIRE = "ack_expire"  # the rule's ack_timeout passed while the incident stayed active
    ASSIGN = "assign"
    RECOVERY = "recovery"
    QUIET = "quiet"
    LIFETIME = "lifetime"
    OPERATOR_RESOLVE = "operator_resolve"
    REOPEN = "reopen"
    WITHDRAW = "withdraw"  # a late hit, earlier than a resolution by recovery, says it came too soon
    FLAP = "flap"
    SILENCE = "silence"
    UNSILENCE = "unsilence"
    ABSORB = "absorb"
    RELEASE = "release"
    LINK_CHILD = "link_child"
    UNLINK_CHILD = "unlink_child"


class Row(NamedTuple):
    from_status: IncidentStatus | None
    trigger: Trigger
    to_status: IncidentStatus
    reason: R


def _on_active(trigger: Trigger, reason: R, to: IncidentStatus | None = None) -> list[Row]:
    """The same row for open and acknowledged; ``to`` None keeps the status."""
    return [Row(s, trigger, to or s, reason) for s in (OPEN, ACK)]


def _on_any(trigger: Trigger, reason: R) -> list[Row]:
    """The same status-keeping row for open, acknowledged and resolved."""
    return [Row(s, trigger, s, reason) for s in (OPEN, ACK, RESOLVED)]


TRANSITIONS: tuple[Row, ...] = (
    Row(None, Trigger.FIRST_HIT, OPEN, R.OPENED),
    Row(None, Trigger.THRESHOLD, OPEN, R.THRESHOLD_REACHED),
    Row(OPEN, Trigger.ACK, ACK, R.ACKNOWLEDGED),
    Row(ACK, Trigger.ACK_EXPIRE, OPEN, R.ACK_EXPIRED),
    Row(RESOLVED, Trigger.REOPEN, OPEN, R.REOPENED),
    # Downstream, a withdrawn resolution is a reopening (the status goes back to open); only the
    # trigger, the change's detail and an unchanged reopen_count tell it apart (observe._withdraw).
    Row(RESOLVED, Trigger.WITHDRAW, OPEN, R.REOPENED),
    Row(OPEN, Trigger.FLAP, OPEN, R.FLAPPING),
    *_on_active(Trigger.ESCALATE, R.ESCALATED),
    *_on_active(Trigger.ASSIGN, R.ASSIGNED),
    *_on_active(Trigger.RECOVERY, R.RECOVERY_EVENT, RESOLVED),
    *_on_active(Trigger.QUIET, R.QUIET_TIMEOUT, RESOLVED),
    *_on_active(Trigger.LIFETIME, R.MAX_LIFETIME, RESOLVED),
    *_on_active(Trigger.OPERATOR_RESOLVE, R.OPERATOR_RESOLVED, RESOLVED),
    *_on_active(Trigger.SILENCE, R.SILENCED),
    *_on_active(Trigger.UNSILENCE, R.UNSILENCED),
    *_on_any(Trigger.ABSORB, R.ABSORBED),
    *_on_any(Trigger.RELEASE, R.RELEASED),
    *_on_any(Trigger.LINK_CHILD, R.CHILD_ABSORBED),
    *_on_any(Trigger.UNLINK_CHILD, R.CHILD_RELEASED),
)
# Notes from other groups: legal in every status (a resolved incident can still learn that it
# was absorbed, or gained a child, while it lived), never moving the status nor the ``reason``.
SIDE_TRIGGERS = frozenset({Trigger.ABSORB, Trigger.RELEASE, Trigger.LINK_CHILD, Trigger.UNLINK_CHILD})

_BY_KEY: dict[tuple[IncidentStatus | None, Trigger], Row] = {
    (r.from_status, r.trigger): r for r in TRANSITIONS
}
LEGAL: frozenset[tuple[IncidentStatus | None, IncidentStatus, R]] = frozenset(
    (r.from_status, r.to_status, r.reason) for r in TRANSITIONS
)


def lookup(status: IncidentStatus | None, trigger: Trigger) -> Row | None:
    """The table row for this status and trigger, or None when the transition is not legal."""
    return _BY_KEY.get((status, trigger))


class Outcome(StrEnum):
    """What stage 2 decided about one input, beside (or instead of) any transition."""

    APPLIED = "applied"
    PENDING = "pending"
    DUPLICATE_SIGNAL = "duplicate_signal"
    OUTSIDE_WINDOW = "outside_window"
    WINDOW_EXPIRED = "window_expired"
    UNKNOWN_RULE = "unknown_rule"
    RECOVERY_WITHOUT_INCIDENT = "recovery_without_incident"
    RECOVERY_PARTIAL = "recovery_partial"  # one host recovered; others of the incident have not
    NO_INCIDENT = "no_incident"
    ABSORB_HELD = "absorb_held"
    IGNORED_ALREADY_RESOLVED = "ignored_already_resolved"
    IGNORED_ALREADY_ACKNOWLEDGED = "ignored_already_acknowledged"
    IGNORED_ALREADY_ASSIGNED = "ignored_already_assigned"
    IGNORED_UNKNOWN_INCIDENT = "ignored_unknown_incident"
    IGNORED_ALREADY_ABSORBED = "ignored_already_absorbed"
    IGNORED_NOT_ABSORBED = "ignored_not_absorbed"
    IGNORED_STALE_PARENT = "ignored_stale_parent"
    IGNORED_ALREADY_LINKED = "ignored_already_linked"
    IGNORED_NOT_LINKED = "ignored_not_linked"
    IGNORED_ILLEGAL_TRANSITION = "ignored_illegal_transition"


def refusal(status: IncidentStatus | None, trigger: Trigger) -> Outcome:
    """Why a transition missing from the table was refused, as specifically as we can say."""
    if status is RESOLVED:
        return Outcome.IGNORED_ALREADY_RESOLVED
    if status is ACK and trigger is Trigger.ACK:
        return Outcome.IGNORED_ALREADY_ACKNOWLEDGED
    if status is None:
        return Outcome.NO_INCIDENT
    return Outcome.IGNORED_ILLEGAL_TRANSITION


def describe_transitions() -> str:
    """The table as Markdown, for the architecture doc: it is generated, so it cannot drift."""
    lines = ["| from | trigger | to | reason |", "|---|---|---|---|"]
    for row in TRANSITIONS:
        source = row.from_status.value if row.from_status else "(none)"
        lines.append(
            f"| {source} | {row.trigger.value} | {row.to_status.value} | {row.reason.value} |"
        )
    return "\n".join(lines)
