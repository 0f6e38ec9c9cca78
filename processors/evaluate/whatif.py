"""What-if: the same past events through the rules in service and through a candidate rule set,
and the difference in the incidents they open, before the candidate goes live.

Both runs are ``replay`` (both cores, in process, as the agents call them) over the same events in
event-time order, with the same inventory, so every difference is the rules' doing; ``compare``
says how incidents are told apart. Reading the events (a JSON-lines file, or the ``events`` topic
up to its current end) is the command's job (``processors/rules/cli.py``).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta

from deskwatch.processors.rules import RuleSet
from deskwatch.processors.rules.host_change import ChangeDefinition
from deskwatch.schemas.asset import Asset
from deskwatch.schemas.event import WorkstationEvent
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.incident import Incident

from .compare import IncidentDiff, diff_incidents
from .replay import replay

TICK_EVERY = timedelta(seconds=60)


@dataclass(frozen=True)
class WhatIf:
    """The two runs' incidents and their difference."""

    events: int
    before: dict[str, Incident]
    after: dict[str, Incident]
    diff: IncidentDiff
    before_changes: list[IncidentChange] = field(default_factory=list)  # every transition, as replayed
    after_changes: list[IncidentChange] = field(default_factory=list)


def what_if(events: Iterable[WorkstationEvent], assets: Sequence[Asset], current: RuleSet, candidate: RuleSet,
            tick_every: timedelta = TICK_EVERY, changes: Sequence[ChangeDefinition] = ()) -> WhatIf:
    """Replay ``events`` (any order: sorted here by event time, stably) under both rule sets;
    ``changes`` are the processor's change definitions (stage 1 keeps each named change apart)."""
    ordered = sorted(events, key=lambda e: e.timestamp)
    before = replay(iter(ordered), current, assets, tick_every, source="whatif", changes=changes)
    after = replay(iter(ordered), candidate, assets, tick_every, source="whatif", changes=changes)
    return WhatIf(len(ordered), before.incidents, after.incidents, diff_incidents(before.incidents, after.incidents),
                  before.changes, after.changes)


def render(result: WhatIf, details: int = 10) -> list[str]:
    """Counts per rule, then up to ``details`` incidents of each kind of difference."""
    d = result.diff
    lines = [f"{result.events} events replayed: {len(result.before)} incidents with the rules in service, "
             f"{len(result.after)} with the candidate; {len(d.removed)} no longer opened, {len(d.added)} new, "
             f"{len(d.changed)} changed, {d.unchanged} the same"]
    if d.empty:
        return [*lines, "the candidate opens exactly the same incidents"]
    width = max(len(r) for r in d.by_rule())
    lines += ["", f"{'rule':<{width}}  removed  added  changed"]
    lines += [f"{rule:<{width}}  {r:>7}  {a:>5}  {c:>7}" for rule, (r, a, c) in d.by_rule().items()]
    for title, incidents in (("no longer opened", d.removed), ("new", d.added)):
        if incidents:
            lines += ["", f"{title} ({len(incidents)}):"]
            lines += [f"  {_incident(i)}" for i in incidents[:details]]
            lines += [f"  … and {len(incidents) - details} more"] if len(incidents) > details else []
    if d.changed:
        lines += ["", f"changed ({len(d.changed)}):"]
        for incident, fields in list(d.changed.values())[:details]:
            lines.append(f"  {_incident(incident)}")
            lines += [f"    {f.name}: {_short(f.before)} -> {_short(f.after)}" for f in fields]
        lines += [f"  … and {len(d.changed) - details} more"] if len(d.changed) > details else []
    return lines


def _incident(i: Incident) -> str:
    return (f"{i.rule_id} v{i.rule_version}  {i.group_key}  {i.status.value}  events={i.event_count} "
            f"hosts={i.host_count or len(i.hosts)}  {i.first_seen:%Y-%m-%d %H:%M}..{i.last_seen:%H:%M}")


def _short(value: object, width: int = 60) -> str:
    text = str(value)
    return text if len(text) <= width else text[: width - 1] + "…"
