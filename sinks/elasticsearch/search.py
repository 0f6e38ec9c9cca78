"""Read incidents back for operators: query_string plus filters, one incident, its history and events.

The operator's query language is Elasticsearch's ``query_string``; the filters become ``term`` /
``range`` clauses, so they are exact and cached. Nothing here needs painless or runtime fields.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.digest import EventDigest
from deskwatch.schemas.incident import Incident
from deskwatch.sinks.elasticsearch.encode import digest_from_source
from deskwatch.sinks.elasticsearch.templates import events_alias, history_alias, incidents_alias

from deskwatch.settings import ElasticsearchSettings

QUERY_FIELDS = ["title^2", "sample_message", "hosts", "rule_id", "event_codes", "providers", "group_key", "id",
                "status", "severity", "assignee", "remediation"]
# Site-wide rules group by the inventory's site (``group_by: [asset.site]``); ``group`` is a flattened
# field, so its keys are queried as ``group.<key>``. Per-host incidents carry no site of their own.
SITE_FIELD = "group.asset.site"
_SPAN = re.compile(r"^(\d+)([smhdw])$")
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


class SinceError(ValueError):
    """A ``--since`` value that is neither a span (``2h``, ``7d``) nor an ISO 8601 time with a zone."""


def parse_since(text: str, now: datetime) -> datetime:
    """``2h`` / ``30m`` / ``7d`` / ``1w`` before ``now``, or an ISO 8601 time (``Z`` or an offset)."""
    span = _SPAN.match(text.strip())
    if span:
        return now - timedelta(seconds=int(span.group(1)) * _UNIT_SECONDS[span.group(2)])
    try:
        at = datetime.fromisoformat(text.strip())  # 3.11 reads "Z"
    except ValueError:
        raise SinceError(f"--since {text!r}: expected a span such as 2h or 7d, or an ISO time") from None
    if at.tzinfo is None:
        raise SinceError(f"--since {text!r}: give a time zone (Z or +01:00)")
    return at


@dataclass(frozen=True)
class IncidentFilters:
    """Exact filters beside the free query; None or empty = no filter."""

    status: tuple[str, ...] = ()
    severity: tuple[str, ...] = ()
    site: tuple[str, ...] = ()
    rule: tuple[str, ...] = ()
    since: datetime | None = None

    def clauses(self) -> list[dict[str, Any]]:
        """The ``filter`` clauses of a bool query."""
        clauses: list[dict[str, Any]] = []
        for field, values in (("status", self.status), ("severity", self.severity),
                              (SITE_FIELD, self.site), ("rule_id", self.rule)):
            if values:
                clauses.append({"terms": {field: list(values)}})
        if self.since is not None:
            clauses.append({"range": {"last_seen": {"gte": self.since.isoformat()}}})
        return clauses


def incident_query(query: str, filters: IncidentFilters) -> dict[str, Any]:
    """The bool query: ``query_string`` (AND by default) must match, every filter applies."""
    text = {"query_string": {"query": query or "*", "default_operator": "AND", "lenient": True,
                             "fields": QUERY_FIELDS}}
    return {"bool": {"must": [text], "filter": filters.clauses()}}


def search_incidents(client: Any, es: ElasticsearchSettings, query: str, size: int = 20,
                     filters: IncidentFilters | None = None) -> tuple[int, list[Incident]]:
    """Incidents matching ``query`` and ``filters``, newest activity first; (total, page)."""
    resp = client.search(index=incidents_alias(es), query=incident_query(query, filters or IncidentFilters()),
                         sort=[{"last_seen": "desc"}, {"id": "asc"}], size=size, track_total_hits=True)
    hits = resp["hits"]
    return hits["total"]["value"], [Incident.model_validate(h["_source"]) for h in hits["hits"]]


def get_incident(client: Any, es: ElasticsearchSettings, incident_id: str) -> Incident | None:
    """The incident with this id (latest revision indexed), or None."""
    resp = client.search(index=incidents_alias(es), query={"term": {"id": incident_id}}, size=1)
    hits = resp["hits"]["hits"]
    return Incident.model_validate(hits[0]["_source"]) if hits else None


def incident_history(client: Any, es: ElasticsearchSettings, incident_id: str, size: int = 200) -> list[IncidentChange]:
    """Every recorded transition of the incident, by revision."""
    resp = client.search(index=history_alias(es), query={"term": {"incident_id": incident_id}},
                         sort=[{"revision": "asc"}], size=size, ignore_unavailable=True)
    return [IncidentChange.model_validate(h["_source"]) for h in resp["hits"]["hits"]]


def counted_in(incident: Incident) -> dict[str, Any]:
    """The query for event digests counted in the incident: its rule id and group key, inside its
    time range (processors/suspects.py's ``first_failures`` applies the same test in memory)."""
    return {"bool": {"filter": [
        {"term": {"rule_ids": incident.rule_id}}, {"term": {"group_keys": incident.group_key}},
        {"range": {"last_seen": {"gte": incident.first_seen.isoformat()}}},
        {"range": {"first_seen": {"lte": incident.last_seen.isoformat()}}},
    ]}}


def incident_events(client: Any, es: ElasticsearchSettings, incident: Incident, size: int = 20) -> list[EventDigest]:
    """Event digests counted in the incident (``counted_in``), newest first."""
    resp = client.search(index=events_alias(es), query=counted_in(incident), sort=[{"last_seen": "desc"}], size=size,
                         ignore_unavailable=True, allow_no_indices=True)
    return [digest_from_source(h["_source"]) for h in resp["hits"]["hits"]]
