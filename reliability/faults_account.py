"""Jepsen-style accounting of one run: what was sent, what Elasticsearch holds, what was rejected.

Every event sent must be found exactly once — the sum of the event digests' repeat counts in
Elasticsearch equals the distinct event ids sent — or sit in the dead-letter topic with a reason;
and the incidents (ids, statuses, event counts) must equal those of an undisturbed run.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from kafka import KafkaConsumer

from deskwatch.connect import elasticsearch_client, kafka_python_options
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.templates import events_alias, incidents_alias
from deskwatch.topology import DEAD_LETTER

IncidentKey = tuple[str, int]  # (status, event_count) of one incident id


def unaccounted(sent: int, found: int, dead: int) -> tuple[int, int]:
    """(lost, duplicated): events sent that are neither found nor dead-lettered, and events found
    beyond those sent."""
    return max(0, sent - found - dead), max(0, found - sent)


def incident_diff(found: dict[str, IncidentKey], reference: dict[str, IncidentKey],
                  rules: dict[str, str] | None = None) -> list[str]:
    """Incidents missing from ``found``, extra in it, or with another (status, event count) than
    in ``reference``; each named by the start of its id and, where ``rules`` has it, its rule."""
    def name(i: str) -> str:
        return f"{i[:12]} ({rules[i]})" if rules and i in rules else i[:12]
    diff = [f"missing {name(i)} {reference[i]}" for i in sorted(set(reference) - set(found))]
    diff += [f"extra {name(i)} {found[i]}" for i in sorted(set(found) - set(reference))]
    diff += [f"changed {name(i)} {reference[i]} -> {found[i]}"
             for i in sorted(set(reference) & set(found)) if reference[i] != found[i]]
    return diff


def distinct_event_ids(path: Path) -> int:
    """Distinct events in a JSON-lines file: its id when the line carries one, else its line."""
    seen: set[str] = set()
    with path.open("rb") as lines:
        for number, line in enumerate(lines):
            event = json.loads(line).get("event", {})
            seen.add(event.get("id") or f"line:{number}")
    return len(seen)


def dead_letters(settings: Settings, timeout_s: float = 3.0) -> Counter[str]:
    """Reasons of every record on the run's dead-letter topic, counted."""
    consumer = KafkaConsumer(DEAD_LETTER.name(settings.kafka), auto_offset_reset="earliest",
                             enable_auto_commit=False, consumer_timeout_ms=int(timeout_s * 1000),
                             **kafka_python_options(settings.kafka))
    try:
        return Counter(f"{json.loads(r.value)['stage']}:{json.loads(r.value)['reason']}" for r in consumer)
    finally:
        consumer.close()


def _search_all(client: Any, index: str, fields: list[str]) -> list[dict[str, Any]]:
    """Every hit of ``index`` (the runs stay far below 10k documents per index)."""
    if not client.indices.exists_alias(name=index):
        return []
    client.indices.refresh(index=index)
    resp = client.search(index=index, size=10_000, query={"match_all": {}}, source=fields)
    return list(resp["hits"]["hits"])


def found_in_es(settings: Settings) -> tuple[int, dict[str, int], dict[str, IncidentKey]]:
    """(events = sum of digest repeat counts, counts by digest id, incidents by id) in Elasticsearch."""
    client = elasticsearch_client(settings.elasticsearch)
    try:
        digests = _search_all(client, events_alias(settings.elasticsearch), ["repeat_count"])
        incidents = _search_all(client, incidents_alias(settings.elasticsearch), ["status", "event_count"])
    finally:
        client.close()
    events = sum(int(h["_source"]["repeat_count"]) for h in digests)
    by_id = {h["_id"]: (str(h["_source"]["status"]), int(h["_source"]["event_count"])) for h in incidents}
    return events, {h["_id"]: int(h["_source"]["repeat_count"]) for h in digests}, by_id


@dataclass
class Tally:
    """One row of the campaign's table."""

    fault: str
    sent: int = 0
    events_found: int = 0
    digests: dict[str, int] = field(default_factory=dict)  # digest id → repeat count
    digest_lost: int = 0  # events missing from digests, against the reference's digest counts
    digest_duplicated: int = 0  # events counted beyond the reference's digest counts
    incidents: dict[str, IncidentKey] = field(default_factory=dict)
    dead: Counter[str] = field(default_factory=Counter)
    recover_s: float | None = None  # None: never caught up within the row's time-out
    incident_diff: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    missed_fault: str | None = None  # why the row's fault never happened (the row then proves nothing)

    @property
    def lost(self) -> int:
        """Events neither found in ES nor dead-lettered (per digest when compared with a reference)."""
        return max(self.digest_lost, unaccounted(self.sent, self.events_found, sum(self.dead.values()))[0])

    @property
    def duplicated(self) -> int:
        """Events counted more than once in ES (per digest when compared with a reference)."""
        return max(self.digest_duplicated, unaccounted(self.sent, self.events_found, 0)[1])

    def compare(self, reference: Tally) -> None:
        """Record how digests and incidents (id, status, event count) differ from an undisturbed run's."""
        ids = set(reference.digests) | set(self.digests)
        gaps = [self.digests.get(i, 0) - reference.digests.get(i, 0) for i in ids]
        self.digest_lost = sum(-g for g in gaps if g < 0)
        self.digest_duplicated = sum(g for g in gaps if g > 0)
        self.incident_diff = incident_diff(self.incidents, reference.incidents)

    @property
    def ok(self) -> bool:
        """Lost = 0, duplicated = 0, the reference's incidents, and the fault did happen."""
        return (self.lost == 0 and self.duplicated == 0 and not self.incident_diff and self.recover_s is not None
                and self.missed_fault is None)
