"""Index templates and aliases, created at start from explicit ECS-aligned mappings.

Each logical index is a concrete ``<name>-000001`` behind an alias, so a later rollover or
reindex changes nothing for writers and readers, which only ever name the alias.
"""

from __future__ import annotations

from typing import Any

from deskwatch.settings import ElasticsearchSettings

_KEYWORD = {"type": "keyword", "ignore_above": 1024}
_DATE = {"type": "date"}

INCIDENT_PROPERTIES: dict[str, Any] = {
    "schema_version": {"type": "integer"},
    "id": _KEYWORD,
    "rule_id": _KEYWORD,
    "rule_version": {"type": "integer"},
    "group_key": _KEYWORD,
    "title": {"type": "text", "fields": {"keyword": _KEYWORD}},
    "status": _KEYWORD,
    "severity": _KEYWORD,
    "hosts": _KEYWORD,
    "host_count": {"type": "integer"},
    "first_seen": _DATE,
    "last_seen": _DATE,
    "event_count": {"type": "long"},
    "revision": {"type": "long"},
    "event_codes": _KEYWORD,
    "providers": _KEYWORD,
    "sample_message": {"type": "text"},
}


def incidents_alias(es: ElasticsearchSettings) -> str:
    return f"{es.index_prefix}-incidents"


def _template(es: ElasticsearchSettings, alias: str, properties: dict[str, Any], time_field: str) -> dict[str, Any]:
    return {
        "index_patterns": [f"{alias}-*"],
        "priority": 200,
        "template": {
            "settings": {"number_of_shards": 1, "number_of_replicas": 0, "refresh_interval": es.refresh_interval},
            # Unknown fields are kept in _source but not indexed: a new producer field never explodes the mapping.
            "mappings": {"dynamic": False, "properties": properties},
        },
        "_meta": {"managed_by": "deskwatch", "time_field": time_field},
    }


def ensure_indices(client: Any, es: ElasticsearchSettings) -> list[str]:
    """Create or update the templates and the first index behind each alias; return the aliases."""
    alias = incidents_alias(es)
    client.indices.put_index_template(name=alias, **_template(es, alias, INCIDENT_PROPERTIES, "last_seen"))
    if not client.indices.exists_alias(name=alias):
        client.indices.create(index=f"{alias}-000001", aliases={alias: {"is_write_index": True}})
    return [alias]
