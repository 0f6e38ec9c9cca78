"""Hold a child incident's first notification until its parent had the time to absorb it.

A per-host incident that a parent rule absorbs (a site's DNS timeouts, a fleet's stale
definitions, a blue screen's shutdown) opens on its own partition of stage 2, and the parent's
claim reaches it a moment later through its log (``signals``): its ``opened`` change is sent with
``notify`` true, and its ``absorbed`` change (``notify`` false) follows. Relayed as they come,
the demo's nine problems sent 111 such openings to every receiver, each then swallowed by its
parent: the flood deskwatch exists to prevent.

Decision: the relay holds them, as Alertmanager's ``group_wait`` holds a new group. A change of
an incident whose rule some rule absorbs (``child_rules``), that would notify and starts the
incident's story (opened, threshold reached, reopened), is held ``wait_s`` seconds of the
relay's clock, and every later change of that incident queues behind it (incident-changes is
keyed by incident id, so they come in order on one partition). If the incident is absorbed
within the wait, all of its held changes are dropped; otherwise they are delivered, in order,
when the wait ends. Incidents of other rules are never held. A child that opens before its parent
exists (the first hosts of a site, before the site's threshold) still notifies if its parent
comes later than the wait: at that moment it was a host's own problem.

At least once: the relay commits no offset past a held record (``first_held``), so a crash, a
restart or a rebalance reads the held changes again and holds them anew.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, Final

from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.incident import ChangeReason

# The changes that start (or restart) what an operator is told about an incident.
STARTS: Final = frozenset({ChangeReason.OPENED, ChangeReason.THRESHOLD_REACHED, ChangeReason.REOPENED})


@dataclass
class _Held:
    until: float
    records: list[tuple[IncidentChange, Any]] = field(default_factory=list)


@dataclass
class NotificationHold:
    """Pure: changes in, the ones to deliver now out; the relay's clock passed in."""

    child_rules: frozenset[str]
    wait_s: float
    _held: dict[str, _Held] = field(default_factory=dict)  # by incident id, in arrival order
    dropped: int = 0  # held changes dropped because their incident was absorbed

    def offer(self, change: IncidentChange, record: Any, now: float) -> list[tuple[IncidentChange, Any]]:
        """The (change, record) pairs to deliver now: this one, or none if it is held or dropped."""
        held = self._held.get(change.incident_id)
        if held is not None:
            if change.reason is ChangeReason.ABSORBED:
                self.dropped += len(held.records) + 1
                del self._held[change.incident_id]
            else:
                held.records.append((change, record))
            return []
        if self.wait_s > 0 and change.notify and change.reason in STARTS and change.rule_id in self.child_rules:
            self._held[change.incident_id] = _Held(now + self.wait_s, [(change, record)])
            return []
        return [(change, record)]

    def due(self, now: float) -> list[tuple[IncidentChange, Any]]:
        """The held changes whose wait is over, each incident's in order, oldest hold first."""
        out: list[tuple[IncidentChange, Any]] = []
        for incident_id in [i for i, h in self._held.items() if h.until <= now]:
            out.extend(self._held.pop(incident_id).records)
        return out

    def first_held(self) -> dict[Any, int]:
        """Per (topic, partition), the lowest offset still held: no commit may pass it."""
        first: dict[Any, int] = {}
        for held in self._held.values():
            for _, record in held.records:
                tp = (record.topic, record.partition)
                first[tp] = min(first.get(tp, record.offset), record.offset)
        return first

    def forget(self, keep: Iterable[Any] | None = None) -> None:
        """Drop what is held on the partitions not in ``keep`` ((topic, partition) pairs; all when
        None): no commit passed a held record, so they are read again by whoever owns them next."""
        kept = None if keep is None else set(keep)
        for incident_id, held in list(self._held.items()):
            _, record = held.records[0]
            if kept is None or (record.topic, record.partition) not in kept:
                del self._held[incident_id]

    def forget_partition(self, tp: Any) -> None:
        """Drop what is held on one (topic, partition): it is being read again from its commit."""
        for incident_id, held in list(self._held.items()):
            _, record = held.records[0]
            if (record.topic, record.partition) == tp:
                del self._held[incident_id]

    def __len__(self) -> int:
        return sum(len(h.records) for h in self._held.values())
