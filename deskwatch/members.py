"""The members of deskwatch's three consumer groups, and the removal of a static member for good.

Decision: every processor worker, sink and webhook relay is a static member of its group by default
(processors/group_member.py, sinks/static_member.py), so a restart is not a rebalance. The price is
that a static member never leaves its group when it stops: a component stopped *for good* (a
machine taken out, one worker fewer) keeps its partitions until its session times out (60 s for a
worker, 45 s for a sink or a relay), and nothing reads them meanwhile. Kafka's answer is an
administrator removing the member by its ``group.instance.id`` (KIP-345, LeaveGroup v3+), which is
what ``deskwatch members remove`` sends: the group rebalances at once and the members left take the
partitions over. Removing a member whose process still runs is harmless: it is told it is unknown
at its next heartbeat and joins again under the same id (one more rebalance).

A component whose ``leave_group_on_stop`` is set sends that removal itself (:func:`leave`) once a
SIGTERM or SIGINT has stopped it, after its last commit: a deployment that stops components only to
take them out says so once in its settings, instead of an operator running the command after each
stop. Off by default: a stop for a restart (an upgrade) would then cost the two rebalances that
static membership saves. Kafka Streams made the same choice (KIP-812: ``close`` leaves the group
only when asked to).
"""

from __future__ import annotations

from dataclasses import dataclass
from collections.abc import Sequence
from typing import Any

import structlog
from kafka.admin import KafkaAdminClient, MemberToRemove
from kafka.errors import KafkaError, NoError

from deskwatch.connect import kafka_python_options
from deskwatch.settings import Settings

log = structlog.get_logger(__name__)

ROLES = ("processor", "sink", "webhook")
# A stopping component's leave is best effort: a broker out of reach holds the exit 5 s, not
# kafka-python's 30 s (a Kubernetes pod has 30 s in all between its SIGTERM and its SIGKILL).
LEAVE_BOOTSTRAP_MS = 5_000


class MemberRemovalError(RuntimeError):
    """The member cannot be removed (not in the group, or the broker refused)."""


class NotAMemberError(MemberRemovalError):
    """The group holds no static member of that id (never joined, or already gone)."""


@dataclass(frozen=True)
class Member:
    member_id: str
    instance_id: str | None  # None: a dynamic member (it leaves its group itself when it stops)
    client_id: str
    host: str
    assigned: tuple[tuple[str, int], ...]  # (topic, partition) of each partition assigned to it

    @property
    def partitions(self) -> int:
        """Partitions assigned to it, over every topic."""
        return len(self.assigned)


@dataclass(frozen=True)
class Group:
    role: str
    group_id: str
    state: str  # the coordinator's: Stable, PreparingRebalance, CompletingRebalance, Empty, Dead
    members: tuple[Member, ...]


def group_ids(settings: Settings) -> dict[str, str]:
    """Each role's consumer group."""
    return {"processor": settings.processor.app_id, "sink": settings.sink.group_id,
            "webhook": settings.webhook.group_id}


def parse_group(role: str, group_id: str, described: dict[str, Any]) -> Group:
    """One group from kafka-python's ``describe_groups`` answer: a dict per member, its assignment
    decoded to ``{"assigned_partitions": [{"topic", "partitions"}], ...}`` when it follows the
    consumer protocol (faust's, the sink's and the relay's do; bytes it could not decode count 0)."""
    members = []
    for m in described.get("members") or ():
        assignment = m.get("member_assignment")
        assigned = assignment.get("assigned_partitions") or () if isinstance(assignment, dict) else ()
        members.append(Member(
            member_id=m.get("member_id") or "",
            instance_id=m.get("group_instance_id") or None,
            client_id=m.get("client_id") or "",
            host=(m.get("client_host") or "").lstrip("/"),
            assigned=tuple((t.get("topic") or "", p) for t in assigned for p in t.get("partitions") or ()),
        ))
    error = described.get("error")  # the broker's answer for this group, e.g. not authorized to describe it
    return Group(role, group_id, f"not described: {error}" if error else described.get("group_state") or "unknown",
                 tuple(sorted(members, key=lambda x: (x.instance_id or "", x.member_id))))


def describe(settings: Settings, roles: Sequence[str] = ROLES) -> list[Group]:
    """Deskwatch's groups (``roles``' groups) as the broker's coordinator sees them now."""
    admin = KafkaAdminClient(**kafka_python_options(settings.kafka))
    try:
        return _described(admin, settings, roles)
    finally:
        admin.close()


def _described(admin: KafkaAdminClient, settings: Settings, roles: Sequence[str]) -> list[Group]:
    ids = group_ids(settings)
    answer = admin.describe_groups([ids[role] for role in roles])
    return [parse_group(role, ids[role], answer.get(ids[role], {})) for role in roles]


def remove(settings: Settings, role: str, instance_id: str, reason: str, described: Group | None = None,
           bootstrap_timeout_ms: int | None = None) -> Group:
    """Remove the static member ``instance_id`` from ``role``'s group; the group as it was before
    (``described``, when the caller has just described it, instead of asking the broker again).
    ``bootstrap_timeout_ms``: the wait for a broker, when not ``kafka.bootstrap_timeout_s``."""
    if role not in ROLES:
        raise MemberRemovalError(f"no such role {role!r}: one of {', '.join(ROLES)}")
    options = kafka_python_options(settings.kafka)
    if bootstrap_timeout_ms is not None:
        options["bootstrap_timeout_ms"] = bootstrap_timeout_ms
    admin = KafkaAdminClient(**options)
    try:
        [before] = [described] if described is not None else _described(admin, settings, (role,))
        if instance_id not in {m.instance_id for m in before.members}:
            listed = ", ".join(m.instance_id for m in before.members if m.instance_id) or "none"
            raise NotAMemberError(f"{instance_id!r} is not a static member of group {before.group_id} "
                                     f"(its static members: {listed})")
        try:
            results = admin.remove_group_members(before.group_id,
                                                 [MemberToRemove(group_instance_id=instance_id, reason=reason)])
        except KafkaError as exc:
            raise MemberRemovalError(f"the broker refused to remove {instance_id!r} from {before.group_id}: "
                                     f"{exc!r}") from exc
    finally:
        admin.close()
    errors = {key: error for key, error in results.items() if error is not NoError}
    if errors:
        raise MemberRemovalError(f"the broker did not remove {instance_id!r} from {before.group_id}: "
                                 + ", ".join(f"{k}: {e.__name__}" for k, e in errors.items()))
    return before


def leave(settings: Settings, role: str, instance_id: str | None) -> bool:
    """A stopped component's own removal from ``role``'s group (``leave_group_on_stop``): whether it
    left. Never raises: a member already gone, or a broker that cannot be reached, is logged, and
    the partitions then wait for the member's session to end, as without the setting."""
    if instance_id is None:
        return False  # a dynamic member left its group when its consumer closed
    try:
        remove(settings, role, instance_id, "stopped for good (leave_group_on_stop)",
               bootstrap_timeout_ms=LEAVE_BOOTSTRAP_MS)
    except NotAMemberError:
        log.info("not in the group: nothing to leave", role=role, member=instance_id)
        return False
    except (MemberRemovalError, KafkaError) as exc:
        log.warning("did not leave the group; its partitions wait for this member's session to end",
                    role=role, member=instance_id, error=type(exc).__name__, detail=str(exc)[:300])
        return False
    log.info("left the group: the members left take its partitions now", role=role, member=instance_id)
    return True
