"""The walking skeleton's rule: one open incident per host and event code, counting repeats.

Pure: state in, state and incident revisions out, one call per host envelope. Exact dedup by
``event.id`` makes a replayed envelope change nothing. (Stage 1/stage 2 with rules as data replace
this rule; the shape — one call and one state write per envelope — stays.)
"""

from __future__ import annotations

from collections import OrderedDict
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from deskwatch.schemas import EventBatch, Incident, IncidentStatus, Severity, WorkstationEvent
from deskwatch.schemas.incident import incident_id

RULE_ID = "skeleton-host-code"
_SEVERITY_BY_LEVEL = {"critical": Severity.CRITICAL, "alert": Severity.CRITICAL, "emergency": Severity.CRITICAL,
                      "error": Severity.HIGH, "warning": Severity.MEDIUM}


class HostTally(BaseModel):
    """State per host: recent event ids (bounded, oldest first) and the open incident per code."""

    model_config = ConfigDict(extra="forbid")

    seen: list[str] = Field(default_factory=list)
    open: dict[str, Incident] = Field(default_factory=dict)


class TallyResult(BaseModel):
    state: HostTally
    incidents: list[Incident]
    duplicates: int
    counted: int


def tally(batch: EventBatch, state: HostTally | None, seen_cap: int) -> TallyResult:
    """Apply one envelope; return the new state and one revision per incident it changed."""
    state = state or HostTally()
    seen: OrderedDict[str, None] = OrderedDict.fromkeys(state.seen)
    open_ = dict(state.open)
    fresh: dict[str, list[WorkstationEvent]] = {}
    touched: set[str] = set()
    duplicates = 0
    for event in batch.events:
        touched.add(event.event.code)
        if event.event_id in seen:
            duplicates += 1
            continue
        seen[event.event_id] = None
        fresh.setdefault(event.event.code, []).append(event)
    for code, events in fresh.items():
        open_[code] = _count(open_.get(code), events)
    while len(seen) > seen_cap:
        seen.popitem(last=False)
    new_state = HostTally(seen=list(seen), open=open_)
    # A replayed envelope re-emits the current revisions it touches: if the crash that caused the
    # replay came after the state write but before the output reached the broker, this restores
    # the output; downstream, an equal revision is "already applied".
    incidents = [open_[code] for code in sorted(touched) if code in open_]
    return TallyResult(state=new_state, incidents=incidents, duplicates=duplicates,
                       counted=len(batch.events) - duplicates)


def _count(current: Incident | None, events: list[WorkstationEvent]) -> Incident:
    """One revision for all of an envelope's new events of one code."""
    if current is None:
        current, events = _open(events[0]), events[1:]
        if not events:
            return current
        current = current.model_copy(update={"revision": 0})
    stamps = [e.timestamp for e in events]
    return current.model_copy(update={
        "event_count": current.event_count + len(events),
        "first_seen": min(current.first_seen, *stamps),
        "last_seen": max(current.last_seen, *stamps),
        "revision": current.revision + 1,
    })


def _open(event: WorkstationEvent) -> Incident:
    host, code = event.host.name, event.event.code
    group_key = f"{RULE_ID}|host.name={host}|event.code={code}"
    opened: datetime = event.timestamp
    return Incident(
        id=incident_id(RULE_ID, group_key, opened),
        rule_id=RULE_ID,
        group_key=group_key,
        title=f"{event.event.provider} {code} on {host}",
        status=IncidentStatus.OPEN,
        severity=_SEVERITY_BY_LEVEL.get(event.log.level, Severity.LOW),
        hosts=[host],
        host_count=1,
        first_seen=opened,
        last_seen=opened,
        event_count=1,
        revision=1,
        event_codes=[code],
        providers=[event.event.provider],
        sample_message=event.message[:500],
    )
