"""What-if: the difference between two replays of the same events (e.g. before and after a rule change).

Incident ids hash the rule, group key and opening time, so a change that opens an incident at
another time shows as one removed and one added; incidents with the same id are compared field by
field, ignoring the bookkeeping that differs between any two runs (revision, update stamp).
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from deskwatch.schemas.incident import Incident

IGNORED_FIELDS = frozenset({"revision", "updated_at"})


@dataclass(frozen=True)
class FieldChange:
    """One field of one incident that differs between the two replays."""

    name: str
    before: Any
    after: Any


@dataclass(frozen=True)
class IncidentDiff:
    """Incidents only in the first replay, only in the second, and those that changed."""

    removed: list[Incident] = field(default_factory=list)
    added: list[Incident] = field(default_factory=list)
    changed: dict[str, tuple[Incident, list[FieldChange]]] = field(default_factory=dict)
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        """Whether the two replays gave the same incidents."""
        return not (self.removed or self.added or self.changed)

    def by_rule(self) -> dict[str, tuple[int, int, int]]:
        """Per rule id: (removed, added, changed) counts."""
        removed = Counter(i.rule_id for i in self.removed)
        added = Counter(i.rule_id for i in self.added)
        changed = Counter(incident.rule_id for incident, _ in self.changed.values())
        rules = sorted(set(removed) | set(added) | set(changed))
        return {r: (removed[r], added[r], changed[r]) for r in rules}


def diff_incidents(before: dict[str, Incident], after: dict[str, Incident],
                   ignore: frozenset[str] = IGNORED_FIELDS) -> IncidentDiff:
    """Compare two ``id -> latest revision`` maps (``ReplayResult.incidents``)."""
    removed = [before[i] for i in sorted(before.keys() - after.keys())]
    added = [after[i] for i in sorted(after.keys() - before.keys())]
    changed: dict[str, tuple[Incident, list[FieldChange]]] = {}
    unchanged = 0
    for incident_id in sorted(before.keys() & after.keys()):
        fields = field_changes(before[incident_id], after[incident_id], ignore)
        if fields:
            changed[incident_id] = (after[incident_id], fields)
        else:
            unchanged += 1
    return IncidentDiff(removed, added, changed, unchanged)


def field_changes(a: Incident, b: Incident, ignore: frozenset[str] = IGNORED_FIELDS) -> list[FieldChange]:
    """The fields that differ between two revisions of one incident, by name."""
    left, right = a.model_dump(), b.model_dump()
    names = sorted(n for n in left if n not in ignore and left[n] != right[n])
    return [FieldChange(n, left[n], right[n]) for n in names]
