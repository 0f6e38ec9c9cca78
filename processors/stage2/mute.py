"""Silences: mark a live incident silenced (still tracked) while a matching silence is active.

Matcher names: ``rule_id``, ``group_key``, ``host`` (every host of the incident must match, so a
maintenance silence on one PC does not mute a fleet-wide incident that merely includes it), and
any group field by name (``site``) or as ``group.site``.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from deskwatch.processors.stage2.draft import Draft
from deskwatch.processors.stage2.transition import Trigger
from deskwatch.schemas.command import Matcher, Silence
from deskwatch.schemas.incident import Incident


def _matches(matcher: Matcher, incident: Incident, hosts: list[str]) -> bool:
    if matcher.name == "host":
        return bool(hosts) and all(matcher.test(h) for h in hosts)
    if matcher.name == "rule_id":
        return matcher.test(incident.rule_id)
    if matcher.name == "group_key":
        return matcher.test(incident.group_key)
    return matcher.test(incident.group.get(matcher.name.removeprefix("group.")))


def silence_for(
    silences: Mapping[str, Silence], incident: Incident, hosts: list[str], at: datetime
) -> str | None:
    """Id of the first (by id, for determinism) active silence matching the incident. A silence
    gone between the listing and the reading (the table's follower thread expired it) is none."""
    for silence_id in sorted(silences):
        silence = silences.get(silence_id)
        if silence is None or not silence.active_at(at):
            continue
        if all(_matches(m, incident, hosts) for m in silence.matchers):
            return silence.id
    return None


def apply_silences(draft: Draft, silences: Mapping[str, Silence], at: datetime) -> None:
    """Silence, re-silence or unsilence the group's live incident as of ``at``."""
    incident = draft.state.incident
    if incident is None:
        return
    wanted = silence_for(silences, incident, draft.state.hosts, at)
    if wanted == incident.silenced_by:
        return
    if wanted is None:
        draft.change(
            incident,
            Trigger.UNSILENCE,
            at,
            detail=f"silence {incident.silenced_by} ended",
            silenced_by=None,
        )
    else:
        draft.change(incident, Trigger.SILENCE, at, detail=f"silence {wanted}", silenced_by=wanted)
