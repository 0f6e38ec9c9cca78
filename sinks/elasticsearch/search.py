"""Read incidents back: the operator's query language is Elasticsearch's query_string."""

from __future__ import annotations

from typing import Any

from deskwatch.schemas import Incident
from deskwatch.settings import ElasticsearchSettings
from deskwatch.sinks.elasticsearch.templates import incidents_alias


def search_incidents(client: Any, es: ElasticsearchSettings, query: str, size: int = 20) -> tuple[int, list[Incident]]:
    """Incidents matching ``query`` (query_string syntax; '*' for all), newest activity first."""
    resp = client.search(
        index=incidents_alias(es),
        query={"query_string": {"query": query or "*", "default_operator": "AND", "lenient": True,
                                "fields": ["title^2", "sample_message", "hosts", "rule_id", "event_codes",
                                           "providers", "group_key", "id", "status", "severity"]}},
        sort=[{"last_seen": "desc"}, {"id": "asc"}],
        size=size,
        track_total_hits=True,
    )
    hits = resp["hits"]
    return hits["total"]["value"], [Incident.model_validate(h["_source"]) for h in hits["hits"]]
