"""Suspected changes: which changes to its hosts came shortly before an incident, ranked by how much
more often its failing hosts had them than the rest of the fleet did.

Pure: event digests in (Elasticsearch's event documents, sinks/elasticsearch/suspects.py reads
them), ranked suspects out. A host's change counts for the incident when it happened within its
definition's lookback before that host's first failure in the incident. The same change on the
hosts outside the incident, over the same span, is the base rate: a Defender definitions update
that every host installs every day is on all failing hosts and explains nothing; an update that
36 of 38 failing hosts installed and 2 % of the others did is the suspect. The score is the
difference of the two shares (failing hosts with it, other active hosts with it), so a change
every host had scores about zero, and ties go to the change with more failing hosts, then by name.

Decision: ranked when asked (``deskwatch incident show|changes``), not carried in the incident:
the question is diagnostic, it reads the events index's whole retention rather than a state each
host would have to keep in stage 1, and the definitions can change without reprocessing anything.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from deskwatch.processors.rules.host_change import ChangeDefinition, ChangeKind
from deskwatch.schemas.digest import EventDigest
from deskwatch.schemas.incident import Incident


def digest_view(digest: EventDigest) -> dict[str, Any]:
    """The fields a change definition may read (``DIGEST_FIELDS``), named as in an event's view."""
    view: dict[str, Any] = {
        "event.provider": digest.provider, "event.code": digest.event_code, "host.name": digest.host,
        "message": digest.sample_message, "log.level": digest.level, "asset.site": digest.site,
        "asset.directorate": digest.directorate, "asset.os_build": digest.os_build,
        "asset.device_class": digest.device_class,
    }
    return {key: value for key, value in view.items() if value is not None}


@dataclass(frozen=True)
class HostChange:
    """One change one host reported: which definition saw it, what it names, when."""

    host: str
    definition: ChangeDefinition
    name: str
    at: datetime


def host_changes(digests: Iterable[EventDigest], definitions: Sequence[ChangeDefinition]) -> list[HostChange]:
    """The changes these digests record (each digest's first event time; one per definition that
    names it)."""
    found = []
    for digest in digests:
        view = digest_view(digest)
        for definition in definitions:
            name = definition.name(view)
            if name is not None:
                found.append(HostChange(digest.host, definition, name, digest.first_seen))
    return found


@dataclass(frozen=True)
class Suspect:
    """One change, on how many of the incident's failing hosts before they failed, and elsewhere."""

    definition_id: str
    kind: ChangeKind
    title: str
    name: str
    hosts: tuple[str, ...]  # failing hosts that had it within the lookback before their failure
    failing: int  # failing hosts considered
    elsewhere: int  # other active hosts that had it in the span
    others: int  # other active hosts in the span
    first_at: datetime
    last_at: datetime
    lead_min: timedelta = field(default=timedelta(0))  # shortest time from the change to the host's failure
    lead_max: timedelta = field(default=timedelta(0))

    @property
    def share(self) -> float:
        """Share of the failing hosts with this change."""
        return len(self.hosts) / self.failing if self.failing else 0.0

    @property
    def base_rate(self) -> float:
        """Share of the other active hosts with this change (0 when there are none)."""
        return self.elsewhere / self.others if self.others else 0.0

    @property
    def score(self) -> float:
        return self.share - self.base_rate


def first_failures(digests: Iterable[EventDigest], incident: Incident) -> dict[str, datetime]:
    """host -> its first event time among the digests counted in the incident (its rule and group,
    overlapping its range): what sinks/elasticsearch/suspects.py asks Elasticsearch to aggregate."""
    failures: dict[str, datetime] = {}
    for d in digests:
        if (incident.group_key in d.group_keys and incident.rule_id in d.rule_ids
                and d.last_seen >= incident.first_seen and d.first_seen <= incident.last_seen):
            earlier = failures.get(d.host)
            failures[d.host] = d.first_seen if earlier is None else min(earlier, d.first_seen)
    return failures


def span_of(failures: Mapping[str, datetime], definitions: Sequence[ChangeDefinition]) -> tuple[datetime, datetime]:
    """The event-time span a search must cover: the longest lookback before the first failure, to
    the last failure."""
    lookback = max((d.lookback for d in definitions), default=timedelta(0))
    return min(failures.values()) - lookback, max(failures.values())


def rank(failures: Mapping[str, datetime], changes: Iterable[HostChange], others: int,
         limit: int = 5) -> list[Suspect]:
    """The suspects of an incident whose hosts first failed at ``failures`` (host -> time), from
    the ``changes`` any host reported in ``span_of``; ``others`` is how many other hosts reported
    anything in that span (the base rate's denominator). Best first, at most ``limit``."""
    before: dict[tuple[str, str], dict[str, tuple[datetime, timedelta]]] = {}
    elsewhere: dict[tuple[str, str], set[str]] = {}
    definitions: dict[str, ChangeDefinition] = {}
    for change in changes:
        key = (change.definition.id, change.name)
        definitions[change.definition.id] = change.definition
        failed = failures.get(change.host)
        if failed is None:
            elsewhere.setdefault(key, set()).add(change.host)
            continue
        lead = failed - change.at
        if timedelta(0) <= lead <= change.definition.lookback:
            seen = before.setdefault(key, {})
            earlier = seen.get(change.host)
            if earlier is None or change.at < earlier[0]:
                seen[change.host] = (change.at, lead)
    suspects = []
    for (definition_id, name), hosts in before.items():
        definition = definitions[definition_id]
        times = [at for at, _ in hosts.values()]
        leads = [lead for _, lead in hosts.values()]
        suspects.append(Suspect(
            definition_id=definition_id, kind=definition.kind, title=definition.title, name=name,
            hosts=tuple(sorted(hosts)), failing=len(failures), elsewhere=len(elsewhere.get((definition_id, name), ())),
            others=others, first_at=min(times), last_at=max(times), lead_min=min(leads), lead_max=max(leads),
        ))
    suspects.sort(key=lambda s: (-s.score, -len(s.hosts), s.name, s.definition_id))
    return suspects[:limit]
