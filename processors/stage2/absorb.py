"""Absorption across groups: a parent incident suppresses the per-host incidents it explains.

Effects across partitions travel as commands keyed by the target group. Assumption: the child
rules a parent ``absorbs`` group by ``host.name`` alone, so a child's group key is derivable from
the parent's hosts: ``<child rule id>|host.name=<host>`` (the rules package's ``group_key``
format). The child answers ``link_child``/``unlink_child`` to the parent's group, which counts it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

from deskwatch.processors.stage2.draft import Draft
from deskwatch.processors.stage2.policy import LifecyclePolicy
from deskwatch.processors.stage2.state import (
    ABSORB_TARGETS_CAP,
    CHILDREN_CAP,
    INCIDENT_CHILDREN_CAP,
    ParentLink,
)
from deskwatch.processors.stage2.transition import Outcome, Trigger
from deskwatch.schemas.command import Command, CommandAction
from deskwatch.schemas.incident import Incident

ACTOR = "deskwatch:stage2"
_ESCAPES = str.maketrans({"%": "%25", "|": "%7C", "=": "%3D"})


def child_group_key(child_rule_id: str, host: str) -> str:
    """Group key of a per-host child rule's group for ``host``."""
    return f"{child_rule_id}|host.name={host.translate(_ESCAPES)}"


def _command(draft: Draft, action: CommandAction, group_key: str, **fields: str | None) -> Command:
    h = hashlib.blake2b(digest_size=16)
    for part in (
        action.value,
        group_key,
        draft.now.isoformat(),
        *(f"{k}={v}" for k, v in sorted(fields.items())),
    ):
        h.update(part.encode() + b"\x1f")
    return Command(
        command_id=h.hexdigest(),
        action=action,
        group_key=group_key,
        actor=ACTOR,
        at=draft.now,
        **fields,  # type: ignore[arg-type]
    )


def send_absorbs(
    draft: Draft,
    policy: LifecyclePolicy,
    parent: Incident,
    hosts: Iterable[str],
    *,
    again: bool = False,
) -> None:
    """Tell the child groups of ``hosts`` to absorb into ``parent``; ``again`` re-sends all."""
    targets = draft.state.absorb_targets
    keys = [child_group_key(child, host) for host in hosts for child in sorted(policy.absorbs)]
    if again:
        keys = list(targets) + [k for k in keys if k not in targets]
    for key in keys:
        if key not in targets:
            if len(targets) >= ABSORB_TARGETS_CAP:
                continue
            targets.append(key)
        draft.commands.append(
            _command(
                draft,
                CommandAction.ABSORB,
                key,
                parent_id=parent.id,
                parent_group_key=parent.group_key,
            )
        )


def send_releases(draft: Draft, parent: Incident) -> None:
    """Release every child group this parent told to absorb (the parent resolved)."""
    for key in draft.state.absorb_targets:
        draft.commands.append(_command(draft, CommandAction.RELEASE, key, parent_id=parent.id))


def join_parent(draft: Draft, incident: Incident, command: Command | None = None) -> None:
    """Absorb the group's live incident into the linked parent and tell the parent."""
    link = draft.state.parent
    if link is None or incident.parent_id == link.parent_id:
        return
    actor = None if command is None else command.actor
    joined = draft.change(
        incident,
        Trigger.ABSORB,
        draft.now,
        actor=actor,
        detail=f"absorbed by {link.parent_id}",
        parent_id=link.parent_id,
    )
    if joined is not None:
        draft.commands.append(
            _command(
                draft,
                CommandAction.LINK_CHILD,
                link.parent_group_key,
                incident_id=link.parent_id,
                child_id=joined.id,
            )
        )


def on_absorb(draft: Draft, command: Command) -> None:
    """Child side of ``absorb``: hold the link, absorb the live incident if there is one."""
    assert command.parent_id is not None and command.parent_group_key is not None
    if draft.state.parent is not None and draft.state.parent.parent_id == command.parent_id:
        draft.decide(Outcome.IGNORED_ALREADY_ABSORBED, command.parent_id)
        return
    draft.state.parent = ParentLink(
        parent_id=command.parent_id, parent_group_key=command.parent_group_key
    )
    if draft.state.incident is None:
        draft.decide(Outcome.ABSORB_HELD, command.parent_id, detail="no live incident; link kept")
        return
    join_parent(draft, draft.state.incident, command)


def on_release(draft: Draft, command: Command) -> None:
    """Child side of ``release``: drop the link, un-suppress the live incident, tell the parent."""
    link = draft.state.parent
    if link is None:
        draft.decide(Outcome.IGNORED_NOT_ABSORBED)
        return
    if command.parent_id is not None and command.parent_id != link.parent_id:
        draft.decide(
            Outcome.IGNORED_STALE_PARENT, command.parent_id, detail=f"linked to {link.parent_id}"
        )
        return
    draft.state.parent = None
    incident = draft.state.incident
    if incident is None or incident.parent_id != link.parent_id:
        draft.decide(Outcome.APPLIED, link.parent_id, detail="link dropped")
        return
    released = draft.change(
        incident,
        Trigger.RELEASE,
        command.at,
        actor=command.actor,
        detail=f"released from {link.parent_id}",
        parent_id=None,
    )
    if released is not None:
        draft.commands.append(
            _command(
                draft,
                CommandAction.UNLINK_CHILD,
                link.parent_group_key,
                incident_id=link.parent_id,
                child_id=released.id,
            )
        )


def on_link(draft: Draft, command: Command, target: Incident) -> None:
    """Parent side of ``link_child`` / ``unlink_child``: count the child in or out."""
    child = command.child_id
    assert child is not None
    children = draft.state.children
    linking = command.action is CommandAction.LINK_CHILD
    if linking == (child in children):
        draft.decide(
            Outcome.IGNORED_ALREADY_LINKED if linking else Outcome.IGNORED_NOT_LINKED, target.id
        )
        return
    if not target.active:
        draft.decide(Outcome.IGNORED_ALREADY_RESOLVED, target.id, detail=f"child {child}")
        return
    if linking:
        if len(children) < CHILDREN_CAP:
            children.append(child)
        count = target.absorbed_count + 1
    else:
        children.remove(child)
        count = target.absorbed_count - 1
    trigger = Trigger.LINK_CHILD if linking else Trigger.UNLINK_CHILD
    draft.change(
        target,
        trigger,
        command.at,
        actor=command.actor,
        detail=f"child {child}",
        absorbed_count=count,
        children=children[:INCIDENT_CHILDREN_CAP],
    )
