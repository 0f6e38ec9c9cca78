"""Score suspected changes on simulated fleets: where the simulator injected a problem's cause (an
update's KB), does ``processors/suspects.py`` rank it first for the incident found?

The replay's event digests are what the sink would index; ``DigestLog`` keeps the part a ranking
reads (change events, events counted in incidents, and each host's activity times), and
``check_cause`` ranks as ``deskwatch incident changes`` does against Elasticsearch.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from deskwatch.processors.rules.host_change import ChangeDefinition, codes_of
from deskwatch.processors.suspects import Suspect, first_failures, host_changes, rank, span_of
from deskwatch.producers.simulate import InjectedIncident
from deskwatch.schemas.digest import EventDigest
from deskwatch.schemas.incident import Incident

from .incidents import matches


@dataclass
class DigestLog:
    """The digests a ranking reads, collected from a replay (``replay(..., on_digests=log.add)``)."""

    codes: frozenset[str]
    changes: list[EventDigest] = field(default_factory=list)
    counted: list[EventDigest] = field(default_factory=list)
    activity: dict[str, list[float]] = field(default_factory=dict)  # host -> first_seen epochs, sorted at use

    @classmethod
    def for_definitions(cls, definitions: Sequence[ChangeDefinition]) -> DigestLog:
        return cls(frozenset(codes_of(definitions)))

    def add(self, digests: Iterable[EventDigest]) -> None:
        for d in digests:
            if d.event_code in self.codes:
                self.changes.append(d)
            if d.rule_ids:
                self.counted.append(d)
            self.activity.setdefault(d.host, []).append(d.first_seen.timestamp())

    def active_hosts(self, start: float, end: float) -> set[str]:
        """Hosts with a digest whose first event falls in ``[start, end]``."""
        active = set()
        for host, times in self.activity.items():
            times.sort()
            if bisect_right(times, end) > bisect_left(times, start):
                active.add(host)
        return active


@dataclass(frozen=True)
class CauseCheck:
    """One injected cause against the ranking of its incident."""

    cause: str
    incident_id: str | None  # the found incident ranked (None: none matched)
    suspects: tuple[Suspect, ...] = ()

    @property
    def rank(self) -> int | None:
        """1-based position of the cause among the suspects, None when not among them."""
        names = [s.name for s in self.suspects]
        return names.index(self.cause) + 1 if self.cause in names else None


def check_cause(truth: InjectedIncident, incidents: Iterable[Incident], log: DigestLog,
                definitions: Sequence[ChangeDefinition], limit: int = 5) -> CauseCheck | None:
    """Rank the suspects of the incident that matches ``truth`` (the earliest when several do);
    None when the truth names no cause."""
    if truth.cause is None:
        return None
    found = sorted((i for i in incidents if matches(i, truth)), key=lambda i: (i.first_seen, i.id))
    if not found:
        return CauseCheck(truth.cause, None)
    incident = found[0]
    failures = first_failures(log.counted, incident)
    if not failures:
        return CauseCheck(truth.cause, incident.id)
    start, end = span_of(failures, definitions)
    in_span = [d for d in log.changes if start <= d.first_seen <= end]
    others = len(log.active_hosts(start.timestamp(), end.timestamp()) - failures.keys())
    suspects = rank(failures, host_changes(in_span, definitions), others, limit)
    return CauseCheck(truth.cause, incident.id, tuple(suspects))
