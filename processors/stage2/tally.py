"""Count signals into windows and incidents: thresholds, folding, escalation levels.

Opening (as the rule model documents it): within ``window``, ``min_events`` must be reached, and
when ``min_hosts`` or ``min_population_pct`` is set, at least one of them too ("on N hosts or p %
of the site"). The population is the latest one a signal carried; unknown means "not reached".
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from deskwatch.processors.construct import constructor
from deskwatch.processors.rules.group import MISSING
from deskwatch.processors.stage2.policy import EscalationLevel, LifecyclePolicy
from deskwatch.processors.stage2.state import (
    ALWAYS,
    HOSTS_CAP,
    INCIDENT_HOSTS_CAP,
    LABELS_CAP,
    WINDOW_CAP,
    GroupState,
    WindowEntry,
    replace_incident,
)
from deskwatch.schemas.incident import Incident, Severity, episode_incident_id
from deskwatch.schemas.signal import Signal

_RANK = {s: i for i, s in enumerate(Severity)}


def at_least(severity: Severity, other: Severity) -> bool:
    """Whether ``severity`` is ``other`` or higher."""
    return _RANK[severity] >= _RANK[other]
# A new incident is built from values stage 2 has typed: a signal's, a policy's (state.py).
_incident = constructor(Incident)
_TICK = timedelta(microseconds=1)


def population_pct(hosts: int, population: int | None) -> float | None:
    """Share of the group's inventory that is affected, in percent; None when unknown."""
    if not population:
        return None
    return 100.0 * hosts / population


def event_order(entry: WindowEntry) -> tuple[datetime, bool, str]:
    """The window's order: event time; at one instant hits before recoveries (a recovery clears the
    hits at its own time), then source id, so that equal times still sort one way."""
    return entry.last_seen, entry.recovery, entry.source_id


def cleared_hits(entries: Sequence[WindowEntry], until: datetime, *, at_until: bool = True) -> set[str]:
    """Source ids of the hits a recovery of their host cleared at or before ``until`` (before it,
    when not ``at_until``): in event time the host had recovered from them, whatever order the
    signals arrived in."""
    cleared: set[str] = set()
    pending: dict[str, list[str]] = {}
    for entry in sorted(entries, key=event_order):
        if entry.last_seen > until or (entry.last_seen == until and entry.recovery and not at_until):
            break
        if entry.recovery:
            cleared.update(pending.pop(entry.host, ()))
        else:
            pending.setdefault(entry.host, []).append(entry.source_id)
    return cleared


def threshold_population(
    policy: LifecyclePolicy, window: Sequence[WindowEntry], known: int | None
) -> int | None:
    """The population a percentage threshold reads: the latest one a held hit carried, else
    ``known`` (the group's). None without such a threshold, where nothing reads it: the window
    is then not scanned. Groups the inventory does not count (not a host's, not a site's) carry
    no population, and the scan went through all their held hits (up to WINDOW_CAP) per signal:
    ~10 % of stage 2 on a sparse fleet."""
    if policy.min_population_pct is None:
        return None
    return next((s.population for s in reversed(window) if s.population), known)


def crossing_time(
    policy: LifecyclePolicy, entries: Sequence[WindowEntry], population: int | None
) -> datetime | None:
    """The earliest event time at which the hits inside one window met the thresholds.

    A function of the set of entries, not of their arrival order: hits and recoveries from several
    stage-1 partitions reach a multi-host group in any order, and the opening time must not depend
    on it. A recovery takes its host's hits until then out of the count, as it did when it arrived
    in event-time order and cleared the host's pending hits.
    """
    ordered = sorted(entries, key=event_order)
    hosts: Counter[str] = Counter()
    counted: dict[str, list[int]] = {}  # per host, the indices of its hits in the count
    events, start = 0, 0
    for at, entry in enumerate(ordered):
        while ordered[start].last_seen < entry.last_seen - policy.window:
            old = ordered[start]
            mine = counted.get(old.host)
            if not old.recovery and mine and mine[0] == start:
                mine.pop(0)
                events -= old.count
                hosts[old.host] -= 1
                if not hosts[old.host]:
                    del hosts[old.host]
            start += 1
        if entry.recovery:
            for index in counted.pop(entry.host, ()):
                events -= ordered[index].count
            hosts.pop(entry.host, None)
            continue
        counted.setdefault(entry.host, []).append(at)
        events += entry.count
        hosts[entry.host] += 1
        if _met(policy, events, len(hosts), population):
            return entry.last_seen
    return None


def _met(policy: LifecyclePolicy, events: int, hosts: int, population: int | None) -> bool:
    if events < policy.min_events:
        return False
    if policy.min_hosts is None and policy.min_population_pct is None:
        return True
    if policy.min_hosts is not None and hosts >= policy.min_hosts:
        return True
    pct = population_pct(hosts, population)
    return (
        policy.min_population_pct is not None
        and pct is not None
        and pct >= policy.min_population_pct
    )


def _insert_sorted(items: list[str], value: str, cap: int) -> bool:
    """Insert into a sorted capped list; True when it was new and kept."""
    at = bisect.bisect_left(items, value)
    if at < len(items) and items[at] == value:
        return False
    if len(items) >= cap:
        return False
    items.insert(at, value)
    return True


def fold(state: GroupState, incident: Incident, hit: WindowEntry) -> tuple[Incident, bool]:
    """The incident with one more signal counted; True when the signal brought a new host.

    The sample message is the earliest hit's (then the smallest): the same whatever the order.
    """
    new_host = _insert_sorted(state.hosts, hit.host, HOSTS_CAP)
    if hit.device_class is not None:
        _insert_sorted(state.device_classes, hit.device_class, LABELS_CAP)
    if hit.population is not None:
        state.population = hit.population
    codes, providers = list(incident.event_codes), list(incident.providers)
    _insert_sorted(codes, hit.event_code, LABELS_CAP)
    _insert_sorted(providers, hit.provider, LABELS_CAP)
    updated = replace_incident(
        incident,
        event_count=incident.event_count + hit.count,
        deduplicated_count=incident.deduplicated_count + hit.deduplicated,
        first_seen=min(incident.first_seen, hit.first_seen),
        last_seen=max(incident.last_seen, hit.last_seen),
        hosts=state.hosts[:INCIDENT_HOSTS_CAP],
        host_count=len(state.hosts),
        device_classes=list(state.device_classes),
        event_codes=codes,
        providers=providers,
        sample_message=hit.sample if _earliest(hit, incident) else incident.sample_message,
    )
    return updated, new_host


def _earliest(hit: WindowEntry, incident: Incident) -> bool:
    if not hit.sample:
        return False
    if not incident.sample_message:
        return True
    return (hit.first_seen, hit.sample) < (incident.first_seen, incident.sample_message)


TITLE_SCOPE_MAX = 120  # characters of group values in a title; the group itself is kept whole


def scoped_title(title: str, group: Mapping[str, str]) -> str:
    """The rule's title and the group it is about: "Group Policy failures across a site: DOS",
    "Disk or NTFS errors: PC-LYO-0142". An operator reads the scope in a list of incidents (the
    search table, a notification) without opening each; values a group lacks (``-``) are left out,
    and a fleet-wide rule's title stays as it is."""
    scope = " / ".join(v for v in group.values() if v and v != MISSING)
    if len(scope) > TITLE_SCOPE_MAX:
        scope = scope[: TITLE_SCOPE_MAX - 1] + "…"
    return f"{title}: {scope}" if scope else title


def blank_incident(
    policy: LifecyclePolicy, state: GroupState, first: Signal, opened_at: datetime
) -> Incident:
    """A fresh incident with nothing counted yet; its id comes from rule, group and episode number.

    Not from the opening time: a multi-host threshold is crossed by whichever signal arrives
    first from stage 1's partitions, so the crossing time depends on arrival order, which differs
    between a run and its crash-and-restart twin. The episode number does not.
    """
    return _incident(
        id=episode_incident_id(first.rule_id, first.group_key, state.episodes),
        rule_id=first.rule_id,
        rule_version=first.rule_version,
        group_key=first.group_key,
        group=dict(first.group),
        title=scoped_title(policy.title, first.group),
        remediation=policy.remediation,
        severity=policy.severity,
        first_seen=first.first_seen,
        last_seen=first.last_seen,
        opened_at=opened_at,
        event_count=0,
        revision=1,
        window_seconds=int(policy.window.total_seconds()),
        parent_id=None,
        hosts=[],
        event_codes=[],
        providers=[],
        children=[],
        device_classes=[],
    )


def opening_time(
    policy: LifecyclePolicy, state: GroupState, window: Sequence[WindowEntry]
) -> datetime:
    """When the window crossed the thresholds, kept after the group's previous opening.

    Sets ``state.opening_floor`` and keeps in ``state.opening`` the entries at or before it, so
    that a hit arriving late with an earlier time can move the opening back (``reopening_time``).
    """
    crossed = crossing_time(policy, window, threshold_population(policy, window, state.population))
    at = crossed if crossed is not None else max(s.last_seen for s in window)
    floor = None if state.last_opened_at is None else state.last_opened_at + _TICK
    state.opening_floor = floor
    at = at if floor is None else max(at, floor)
    state.opening = sorted((s for s in window if s.last_seen <= at), key=event_order)[-WINDOW_CAP:]
    return at


def earlier_opening(
    policy: LifecyclePolicy, state: GroupState, incident: Incident, hit: WindowEntry
) -> tuple[datetime | None, list[WindowEntry]]:
    """If a late hit makes the thresholds cross sooner: the earlier opening, and the held hits
    that its window now counts (they had expired before the old opening's window)."""
    opened = incident.opened_at
    if opened is None or hit.last_seen >= opened:
        return None, []
    previous = state.opening
    opening = list(previous)  # a new list: forks share this one (GroupState.fork)
    bisect.insort(opening, hit, key=event_order)
    del opening[:-WINDOW_CAP]
    state.opening = opening
    if opened == state.opening_floor:
        return None, []
    crossed = crossing_time(policy, state.opening, state.population)
    if crossed is None or crossed >= opened:
        return None, []
    at = crossed if state.opening_floor is None else max(crossed, state.opening_floor)
    if at >= opened:
        return None, []
    since, before = at - policy.window, opened - policy.window
    cleared = cleared_hits(state.opening, at)
    readmitted = [e for e in previous
                  if since <= e.last_seen < before and not e.recovery and e.source_id not in cleared]
    state.opening = [e for e in state.opening if e.last_seen <= at]
    return at, readmitted


def _level_reached(
    level: EscalationLevel, incident: Incident, population: int | None, at: datetime
) -> bool:
    return _counts_reached(level, incident, population) or (
        level.after is not None and incident.opened_at is not None and at - incident.opened_at >= level.after
    )


def _counts_reached(level: EscalationLevel, incident: Incident, population: int | None) -> bool:
    pct = population_pct(incident.host_count, population)
    return any(
        (
            level.min_events is not None and incident.event_count >= level.min_events,
            level.min_hosts is not None and incident.host_count >= level.min_hosts,
            level.min_population_pct is not None
            and pct is not None
            and pct >= level.min_population_pct,
        )
    )


def escalation_due(policy: LifecyclePolicy, incident: Incident, population: int | None) -> datetime | None:
    """The earliest time from which ``escalated_severity`` rises above the incident's severity:
    ALWAYS when its counts reach a higher level already, else the earliest ``opened_at + after``
    of a higher level; None when no time can."""
    due: datetime | None = None
    for level in policy.escalation:
        if _RANK[level.severity] <= _RANK[incident.severity]:
            continue
        if _counts_reached(level, incident, population):
            return ALWAYS
        if level.after is not None and incident.opened_at is not None:
            at = incident.opened_at + level.after
            due = at if due is None or at < due else due
    return due


def escalated_severity(
    policy: LifecyclePolicy, incident: Incident, population: int | None, at: datetime
) -> Severity:
    """The highest severity reached so far; an incident never de-escalates."""
    best = incident.severity
    for level in policy.escalation:
        if _RANK[level.severity] > _RANK[best] and _level_reached(level, incident, population, at):
            best = level.severity
    return best
