"""Absorption across groups: a parent incident suppresses the per-host incidents it explains.

Effects across partitions travel as commands keyed by the target group. Assumption (checked by
the rules package when a set loads): a child rule a parent ``absorbs`` groups by ``host.name``
first, then only by fields the parent groups by too, so a child's group key is derivable from
the parent's hosts and group: ``<child rule id>|host.name=<host>[|<field>=<the parent's value>…]``
(the rules package's ``group_key`` format; ``ChildKeys``).

The outcome must not depend on the order in which commands from other partitions meet a group's
own signals, nor on replays. So nothing here counts deltas:

- the parent announces its *claim* on a child group (``absorb``, carrying the event time from
  which it explains events) and its *release* (``release``, carrying its resolution time); the
  child keeps the latest announcement (``ParentLink``) — messages from one group to another keep
  their order on the topic, and a replay re-sends a suffix, so the last one read is the last sent;
- the child derives, by event time, which of its incidents the claim covers (``covered``) and
  which are absorbed now (``absorbed_by``), and re-announces ``link_child`` / ``unlink_child``
  when that derived fact flips (``reconcile``), and every link it holds when the parent claims it
  again (``_answer_again``: a parent rolled back by a crash may have dropped them);
- the parent keeps the SET of linked children; ``absorbed_count`` is its size. Adding a present
  child or removing an absent one changes nothing, so duplicates are harmless.

Absorb/release/link changes are recorded as transitions (history, ``notify``) but keep the
incident's ``reason``: that field says where the lifecycle stands, and the order in which a
cross-partition note meets a lifecycle transition must not decide it.
"""

from __future__ import annotations

import bisect
import hashlib
from collections.abc import Iterable, Mapping
from datetime import datetime

from deskwatch.processors.rules.group import MISSING, group_key
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


def child_group_key(child_rule_id: str, host: str, fields: Mapping[str, str] | None = None) -> str:
    """Group key of a per-host child rule's group for ``host`` (and its other group_by ``fields``,
    in the child's order), as stage 1 makes it (``group_key``)."""
    return group_key(child_rule_id, {"host.name": host, **(fields or {})})


class ChildKeys:
    """The child group keys a parent's claim goes to: for each child rule it absorbs and each of
    its hosts, the child's group key (``child_group_key``), its fields beyond ``host.name`` valued
    as the parent's group (an application crashing on many hosts claims each host's incident of
    that application, not its others)."""

    def __init__(self, policies: Mapping[str, LifecyclePolicy]) -> None:
        # child rule id -> its group_by fields after host.name (none for a child not loaded)
        self._fields = {rule_id: tuple(p.group_by[1:]) for rule_id, p in policies.items()}

    def keys(self, policy: LifecyclePolicy, parent: Incident, hosts: Iterable[str]) -> list[str]:
        """Each host's key of each child rule of ``policy``, host by host."""
        children = [(child, {name: parent.group.get(name, MISSING) for name in self._fields.get(child, ())})
                    for child in sorted(policy.absorbs)]
        return [child_group_key(child, host, fields) for host in hosts for child, fields in children]


def _command(action: CommandAction, group_key: str, at: datetime, **fields: str | None) -> Command:
    """A stage-2 command; its id hashes everything it says, so a re-send has the same id."""
    h = hashlib.blake2b(digest_size=16)
    said = sorted(fields.items())
    for part in (action.value, group_key, at.isoformat(), *(f"{k}={v}" for k, v in said)):
        h.update(part.encode() + b"\x1f")
    return Command(
        command_id=h.hexdigest(),
        action=action,
        group_key=group_key,
        actor=ACTOR,
        at=at,
        **fields,  # type: ignore[arg-type]
    )


def send_absorbs(
    draft: Draft,
    policy: LifecyclePolicy,
    parent: Incident,
    hosts: Iterable[str],
    children: ChildKeys,
    *,
    again: bool = False,
) -> None:
    """Claim the child groups of ``hosts`` for ``parent``; ``again`` re-claims every target.

    The claim covers child incidents whose last event is at most one parent window before the
    parent's first event: older ones are a separate, earlier problem.
    """
    targets = draft.state.absorb_targets
    keys = children.keys(policy, parent, hosts)
    if again:
        keys = list(targets) + [k for k in keys if k not in targets]
    since = parent.first_seen - policy.window
    for key in keys:
        if key not in targets:
            if len(targets) >= ABSORB_TARGETS_CAP:
                continue
            targets.append(key)
        draft.commands.append(
            _command(
                CommandAction.ABSORB,
                key,
                since,
                parent_id=parent.id,
                parent_group_key=parent.group_key,
            )
        )


def send_releases(draft: Draft, parent: Incident, keys: Iterable[str] | None = None) -> None:
    """Release the child groups this parent claimed (``keys``, else all), as of its resolution time."""
    at = parent.resolved_at or draft.now
    for key in draft.state.absorb_targets if keys is None else keys:
        draft.commands.append(_command(CommandAction.RELEASE, key, at, parent_id=parent.id))


def covered(link: ParentLink, incident: Incident) -> bool:
    """Whether the claim's event-time span meets the incident's (it counts as the parent's child)."""
    if link.claimed_at is not None and incident.last_seen < link.claimed_at:
        return False
    opened = incident.opened_at or incident.first_seen
    return link.released_at is None or opened < link.released_at


def absorbed_by(link: ParentLink | None, incident: Incident) -> str | None:
    """The parent suppressing the incident now: covered by its claim, and either the claim still
    holds or the incident has seen nothing since it was released.

    Decision: a released child shows again only on new evidence, a hit after the release. It used
    to show again whenever it was still open at the release (or had resolved after it): a fleet-
    or site-wide parent that resolved by quiet timeout released every per-host child that had
    not logged a recovery yet (laptops never time out, update failures last two days), each as a
    notification. On 24 simulated hours (seeds 1-3) that was 226-251 released children, 172-200
    of them still open at the end, after nine problems."""
    if link is None or not covered(link, incident):
        return None
    if link.released_at is None or incident.last_seen <= link.released_at:
        return link.parent_id
    return None


def on_absorb(draft: Draft, command: Command) -> None:
    """Child side of ``absorb``: hold (or renew) the parent's claim."""
    assert command.parent_id is not None and command.parent_group_key is not None
    link = draft.state.parent
    if link is not None and link.parent_id == command.parent_id:
        _answer_again(draft, link)
        claimed = min(link.claimed_at or command.at, command.at)
        if link.released_at is None and claimed == link.claimed_at:
            draft.decide(Outcome.IGNORED_ALREADY_ABSORBED, link.parent_id,
                         detail=f"claim held already; {len(draft.state.linked)} links sent again")
            return
        draft.state.parent = link.model_copy(update={"claimed_at": claimed, "released_at": None})
    else:
        draft.state.parent = ParentLink(
            parent_id=command.parent_id,
            parent_group_key=command.parent_group_key,
            claimed_at=command.at,
        )
        draft.state.linked = []
    if draft.state.incident is None:
        draft.decide(Outcome.ABSORB_HELD, command.parent_id, detail="no live incident; claim kept")
    else:
        draft.decide(Outcome.APPLIED, command.parent_id, detail="claim held")


def _answer_again(draft: Draft, link: ParentLink) -> None:
    """A claim from the parent the child already holds, read again or widened: send the parent
    every link it holds again, before ``reconcile`` announces those the claim adds.

    Decision: every claim is answered in full. A parent whose state rolled back (a crash between
    state writes, a second worker taking its partition) reads again the links its children sent,
    on the commands topic, and its own signals, on the signals topic, in another order: a link
    read before the opening signal it answers names an incident the group does not know yet
    (``obey._target``) and is dropped, and the claim the replayed opening sends again (the same
    one, or one reaching further back, as the replay's order may make its first event earlier)
    found the link held here, so nothing re-sent it and the link was lost. The SIGKILL test on the
    real broker lost one so in CI (a site-wide parent absorbing 16 children of 17, 2026-12-07); the
    crash model of tests/processors/stage2/test_converge.py lost one in 22 of 100 orders of the
    recovery tests' fleet (a crash after 5 % of the deliveries), 0 of 100 since. The parent's set
    makes the copies harmless (``on_link``); the cost is one command per held link for each claim
    read again or widened.
    """
    for incident_id in draft.state.linked:
        incident = draft.find(incident_id)
        at = incident.last_seen if incident is not None else link.claimed_at or draft.now
        _tell_parent(draft, link, CommandAction.LINK_CHILD, incident_id, at)


def on_release(draft: Draft, command: Command) -> None:
    """Child side of ``release``: the claim ends at the command's time (the parent's resolution)."""
    link = draft.state.parent
    if link is None:
        draft.decide(Outcome.IGNORED_NOT_ABSORBED)
        return
    if command.parent_id is not None and command.parent_id != link.parent_id:
        draft.decide(
            Outcome.IGNORED_STALE_PARENT, command.parent_id, detail=f"linked to {link.parent_id}"
        )
        return
    if link.released_at == command.at:
        draft.decide(Outcome.IGNORED_NOT_ABSORBED, link.parent_id, detail="already released")
        return
    draft.state.parent = link.model_copy(update={"released_at": command.at})
    draft.decide(Outcome.APPLIED, link.parent_id, detail="claim released")


def reconcile(draft: Draft, actor: str | None = None) -> None:
    """Bring the group's incidents and the parent's view in line with the claim, by event time."""
    link = draft.state.parent
    if link is None:
        return
    for incident in (*draft.state.earlier, draft.state.last_resolved, draft.state.incident):
        if incident is None or incident.parent_id not in (None, link.parent_id):
            continue  # absorbed by an earlier parent of this group: that stays its history
        _announce(draft, link, incident)
        current = draft.find(incident.id)
        if current is not None:
            _suppress(draft, link, current, actor)


def _announce(draft: Draft, link: ParentLink, incident: Incident) -> None:
    """Tell the parent when this incident starts or stops counting as its child."""
    linked = draft.state.linked
    wanted = covered(link, incident)
    if wanted == (incident.id in linked):
        return
    if wanted:
        bisect.insort(linked, incident.id)
    else:
        linked.remove(incident.id)
    action = CommandAction.LINK_CHILD if wanted else CommandAction.UNLINK_CHILD
    _tell_parent(draft, link, action, incident.id, incident.last_seen)


def _tell_parent(draft: Draft, link: ParentLink, action: CommandAction, child_id: str, at: datetime) -> None:
    """Send ``link_child`` / ``unlink_child`` of ``child_id`` to the claiming parent."""
    draft.commands.append(
        _command(action, link.parent_group_key, at, incident_id=link.parent_id, child_id=child_id)
    )


def _suppress(draft: Draft, link: ParentLink, incident: Incident, actor: str | None) -> None:
    """Set or clear the incident's ``parent_id`` as the claim says."""
    wanted = absorbed_by(link, incident)
    if wanted == incident.parent_id:
        return
    trigger = Trigger.ABSORB if wanted is not None else Trigger.RELEASE
    detail = f"absorbed by {wanted}" if wanted else f"released from {link.parent_id}"
    at = draft.now if wanted is not None or link.released_at is None else link.released_at
    draft.change(incident, trigger, at, actor=actor, detail=detail, parent_id=wanted)


def on_link(draft: Draft, command: Command, target: Incident) -> None:
    """Parent side of ``link_child`` / ``unlink_child``: add the child to, or drop it from, the set."""
    child = command.child_id
    assert child is not None
    superseded = draft.state.incident is not None and draft.state.incident.id != target.id
    # A newer episode owns the group's set; a late link to the older parent edits its own list.
    children = list(target.children) if superseded else draft.state.children
    linking = command.action is CommandAction.LINK_CHILD
    if linking == (child in children):
        draft.decide(
            Outcome.IGNORED_ALREADY_LINKED if linking else Outcome.IGNORED_NOT_LINKED, target.id
        )
        return
    if linking and len(children) >= CHILDREN_CAP:
        draft.decide(Outcome.IGNORED_ALREADY_LINKED, target.id, detail=f"cap {CHILDREN_CAP} reached")
        return
    if linking:
        bisect.insort(children, child)
    else:
        children.remove(child)
    draft.change(
        target,
        Trigger.LINK_CHILD if linking else Trigger.UNLINK_CHILD,
        command.at,
        actor=command.actor,
        detail=f"child {child}",
        absorbed_count=len(children),
        children=children[:INCIDENT_CHILDREN_CAP],
    )

