"""Score the incidents a replay found against the simulator's ground truth (injected incidents).

Matching (issue 5): a found incident matches an injected one when it carries the scenario's rule
id, shares at least one of its hosts and overlaps its time span. Two more kinds of found incident
are explained rather than false: an absorbed child (it was ever absorbed by a parent that matches
an injected incident) counts as matched through its parent, and an incident of a rule the truth
lists in ``also_fires`` on the same hosts and span is a correct side effect. Everything else found
is a false positive. precision = explained found ÷ found; recall = matched injected ÷ injected.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from deskwatch.producers.simulate import InjectedIncident
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.incident import ChangeReason, Incident
from deskwatch.sinks.webhook.hold import NotificationHold


@dataclass(frozen=True)
class GpoWave:
    """Whether the site-wide GPO wave became one parent absorbing its per-host incidents."""

    parents: int  # gpo-failure-site incidents that match the injected wave
    children: int  # gpo-failure-host incidents on the wave's hosts during its span
    absorbed: int  # of those, absorbed by the matching parent

    @property
    def one_parent(self) -> bool:
        """ONE parent, and every per-host incident of the wave absorbed by it."""
        return self.parents == 1 and self.absorbed == self.children


@dataclass(frozen=True)
class IncidentScore:
    """One replay's figures against its truth."""

    events: int
    injected: int
    found: int
    matched_injected: int
    matched_found: int  # by rule + host + time
    absorbed_found: int  # children explained by a matched parent
    also_fired_found: int  # side effects the truth declares
    false_positives: list[Incident] = field(default_factory=list)
    missed: list[InjectedIncident] = field(default_factory=list)
    gpo_wave: GpoWave | None = None
    top_level: int = 0  # found incidents no parent ever absorbed: the problems an operator is shown
    notified: int = 0  # changes a notify_only webhook relay would POST, holding children (hold.py)
    notified_unheld: int = 0  # the same without the hold

    @property
    def explained(self) -> int:
        """Found incidents that are not false positives."""
        return self.matched_found + self.absorbed_found + self.also_fired_found

    @property
    def precision(self) -> float:
        return self.explained / self.found if self.found else 1.0

    @property
    def recall(self) -> float:
        return self.matched_injected / self.injected if self.injected else 1.0

    @property
    def noise_reduction(self) -> float:
        """Events per incident opened (the fewer incidents for the same events, the better)."""
        return self.events / self.found if self.found else float(self.events)

    @property
    def operator_reduction(self) -> float:
        """Events per incident no parent ever absorbed (each child folded into its parent)."""
        return self.events / self.top_level if self.top_level else float(self.events)


def overlaps(incident: Incident, start: datetime, end: datetime) -> bool:
    """Whether the incident's [first_seen, last_seen] meets [start, end]."""
    return incident.first_seen <= end and incident.last_seen >= start


def matches(incident: Incident, truth: InjectedIncident, rule_ids: Iterable[str] | None = None) -> bool:
    """Rule id (the truth's, or one of ``rule_ids``), a shared host, and overlapping time."""
    rules = {truth.rule_id} if rule_ids is None else set(rule_ids)
    return (incident.rule_id in rules and not set(incident.hosts).isdisjoint(truth.hosts)
            and overlaps(incident, truth.start, truth.end))


def absorbed_ids(changes: Iterable[IncidentChange]) -> dict[str, str]:
    """Child incident id -> the parent it was (last) absorbed by, from the transitions' details."""
    parents: dict[str, str] = {}
    for change in changes:
        if change.reason is ChangeReason.ABSORBED:
            parents[change.incident_id] = change.detail.removeprefix("absorbed by ").strip()
    return parents


def score(incidents: dict[str, Incident], changes: list[IncidentChange], truth: list[InjectedIncident],
          events: int) -> IncidentScore:
    """Match found incidents to injected ones; see the module docstring for the rules."""
    found = list(incidents.values())
    matched = {i.id for i in found if any(matches(i, t) for t in truth)}
    hit = [t for t in truth if any(matches(i, t) for i in found)]
    parents = absorbed_ids(changes)
    absorbed = {i.id for i in found if i.id not in matched and parents.get(i.id) in matched}
    also = {i.id for i in found if i.id not in matched | absorbed
            and any(matches(i, t, t.also_fires) for t in truth)}
    false = [i for i in found if i.id not in matched | absorbed | also]
    return IncidentScore(
        events=events, injected=len(truth), found=len(found), matched_injected=len(hit),
        matched_found=len(matched), absorbed_found=len(absorbed), also_fired_found=len(also),
        false_positives=sorted(false, key=lambda i: (i.rule_id, i.first_seen)),
        missed=[t for t in truth if t not in hit], gpo_wave=gpo_wave(found, parents, truth),
        top_level=sum(1 for i in found if i.id not in parents),
    )


def notifications(changes: Sequence[IncidentChange], times: Sequence[datetime], children: frozenset[str],
                  wait_s: float) -> int:
    """The changes a ``notify_only`` webhook relay would POST, with its hold of ``children``'s new
    incidents for ``wait_s``: the replay's clock (event time) standing for the relay's."""
    hold = NotificationHold(children, wait_s)
    sent = 0
    for change, at in zip(changes, times, strict=True):
        now = at.timestamp()
        sent += sum(1 for c, _ in hold.due(now) if c.notify)
        sent += sum(1 for c, _ in hold.offer(change, None, now) if c.notify)
    return sent + sum(1 for c, _ in hold.due(math.inf) if c.notify)


def gpo_wave(found: list[Incident], parents: dict[str, str], truth: list[InjectedIncident]) -> GpoWave | None:
    """The GPO wave's parent and children, or None when the simulation injected no wave."""
    wave = next((t for t in truth if t.scenario == "gpo-failure-site"), None)
    if wave is None:
        return None
    tops = [i for i in found if matches(i, wave)]
    kids = [i for i in found if matches(i, wave, wave.absorbs)]
    top_ids = {i.id for i in tops}
    return GpoWave(parents=len(tops), children=len(kids),
                   absorbed=sum(1 for i in kids if parents.get(i.id) in top_ids))
