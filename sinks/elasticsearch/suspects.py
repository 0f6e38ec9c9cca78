"""Read what ``processors/suspects.py`` ranks from the events index: each failing host's first failure
in an incident, the change events of every host over the span before, and how many hosts were
active in it. Three requests: two aggregations and one scroll over the change events only (their
event codes narrow it; each definition's full match runs here, in Python)."""

from __future__ import annotations

from collections.abc import Generator, Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast

from elasticsearch import helpers

from deskwatch.processors.rules.host_change import ChangeDefinition, codes_of
from deskwatch.schemas.digest import EventDigest
from deskwatch.schemas.incident import Incident
from deskwatch.settings import ElasticsearchSettings
from deskwatch.sinks.elasticsearch.encode import digest_from_source
from deskwatch.sinks.elasticsearch.search import counted_in
from deskwatch.sinks.elasticsearch.templates import events_alias
from deskwatch.processors.suspects import Suspect, host_changes, rank, span_of

# Hosts whose first failure is read (a terms aggregation's size); an incident lists at most its cap.
FAILING_MAX = 10_000
# Change events read at most (a fleet's 24 hours of update installs); past it the ranking says so.
CHANGE_EVENTS_MAX = 500_000
# cardinality is exact below this many hosts (Elasticsearch's precision_threshold maximum).
_PRECISION = 40_000


@dataclass(frozen=True)
class SuspectReport:
    """The ranking and what it was made from."""

    suspects: list[Suspect]
    failing: int  # failing hosts whose first failure was found
    others: int  # other hosts active in the span
    change_events: int  # change event digests read
    span: tuple[datetime, datetime] | None
    truncated: bool = False  # CHANGE_EVENTS_MAX reached: older change events were not read


def failures_of(client: Any, es: ElasticsearchSettings, incident: Incident) -> dict[str, datetime]:
    """host -> the first event time of its digests counted in the incident (its group, its range)."""
    aggs = {"hosts": {"terms": {"field": "host.name", "size": FAILING_MAX},
                      "aggs": {"first": {"min": {"field": "first_seen"}}}}}
    resp = client.search(index=events_alias(es), query=counted_in(incident), aggs=aggs, size=0,
                         ignore_unavailable=True, allow_no_indices=True)
    buckets = resp.get("aggregations", {}).get("hosts", {}).get("buckets", [])
    return {b["key"]: datetime.fromisoformat(b["first"]["value_as_string"]) for b in buckets}


def suspected_changes(client: Any, es: ElasticsearchSettings, incident: Incident,
                      definitions: Sequence[ChangeDefinition], limit: int = 5) -> SuspectReport:
    """The incident's suspected changes, best first (``processors/suspects.py`` says how they rank)."""
    failures = failures_of(client, es, incident)
    if not failures or not definitions:
        return SuspectReport([], len(failures), 0, 0, None)
    start, end = span_of(failures, definitions)
    in_span = {"range": {"first_seen": {"gte": start.isoformat(), "lte": end.isoformat()}}}
    active = client.search(index=events_alias(es), query={"bool": {"filter": [in_span]}}, size=0,
                           aggs={"hosts": {"cardinality": {"field": "host.name", "precision_threshold": _PRECISION}}},
                           ignore_unavailable=True, allow_no_indices=True)
    hosts_active = int(active.get("aggregations", {}).get("hosts", {}).get("value", 0))
    query = {"bool": {"filter": [in_span, {"terms": {"event_code": codes_of(definitions)}}]}}
    digests: list[EventDigest] = []
    truncated = False
    scan = cast("Generator[dict[str, Any], None, None]", helpers.scan(  # a generator: closing it clears the scroll
        client, index=events_alias(es), query={"query": query}, size=2000, ignore_unavailable=True,
        allow_no_indices=True))
    with closing(scan) as hits:
        for hit in hits:
            if len(digests) >= CHANGE_EVENTS_MAX:
                truncated = True
                break
            digests.append(digest_from_source(hit["_source"]))
    others = max(0, hosts_active - len(failures))
    ranked = rank(failures, host_changes(digests, definitions), others, limit)
    return SuspectReport(ranked, len(failures), others, len(digests), (start, end), truncated)
