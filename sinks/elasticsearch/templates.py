"""Index names, composable templates and aliases: the one place that knows deskwatch's indices.

- ``<prefix>-incidents`` and ``<prefix>-incident-history``: a concrete ``<alias>-000001`` behind a
  write alias, so a later rollover changes nothing for writers and readers, which name the alias.
- ``<prefix>-events-YYYY.MM.DD``: one index per day of ``window_start`` (fixed for a digest id, so
  a digest always lands in the same index); the template puts each new one behind the read alias
  ``<prefix>-events``, and retention deletes whole days (see prune.py).
- ``<prefix>-dead-letters-YYYY.MM.DD``: the same, by day of ``rejected_at``, behind
  ``<prefix>-dead-letters``: every rejected input, searchable beside what was accepted.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from functools import lru_cache
from typing import Any

from deskwatch.settings import ElasticsearchSettings
from deskwatch.sinks.elasticsearch.mappings import DAILY, TIME_FIELD, Kind, mapping, mapping_fields

__all__ = [
    "Kind",
    "alias",
    "daily_index",
    "dead_letters_alias",
    "ensure_indices",
    "events_alias",
    "daily_day",
    "events_index",
    "history_alias",
    "incidents_alias",
    "mapping",
    "mapping_fields",
    "template_body",
]

EVENTS_DATE_FORMAT = "%Y.%m.%d"


def alias(es: ElasticsearchSettings, kind: Kind | str) -> str:
    """The alias readers (and, but for events, writers) name: ``<prefix>-<kind>``."""
    return _alias(es.index_prefix, Kind(kind))


def _alias(prefix: str, kind: Kind) -> str:
    return f"{prefix}-{kind.value}"


def incidents_alias(es: ElasticsearchSettings) -> str:
    """``<prefix>-incidents``: one document per incident, latest revision."""
    return alias(es, Kind.INCIDENTS)


def history_alias(es: ElasticsearchSettings) -> str:
    """``<prefix>-incident-history``: one document per transition."""
    return alias(es, Kind.HISTORY)


def events_alias(es: ElasticsearchSettings) -> str:
    """``<prefix>-events``: the read alias over every daily events index."""
    return alias(es, Kind.EVENTS)


def dead_letters_alias(es: ElasticsearchSettings) -> str:
    """``<prefix>-dead-letters``: the read alias over every daily dead-letters index."""
    return alias(es, Kind.DEAD_LETTERS)


def events_index(es: ElasticsearchSettings, window_start: datetime | date) -> str:
    """The daily index a digest is written to: ``<prefix>-events-YYYY.MM.DD`` of its window start
    (its date in its own time zone, as ``strftime`` reads it)."""
    return daily_index(es, Kind.EVENTS, window_start)


def daily_index(es: ElasticsearchSettings, kind: Kind, when: datetime | date) -> str:
    """The daily index of ``kind`` (one of ``DAILY``) a document of time ``when`` is written to."""
    day = when.date() if isinstance(when, datetime) else when
    return _daily_index(es.index_prefix, kind, day)


@lru_cache(maxsize=4096)
def _daily_index(prefix: str, kind: Kind, day: date) -> str:
    """Every digest of a day has the same index: the name, its enum lookup and ``strftime`` were
    13 % of the sink's CPU in a py-spy profile of ``bench/sink.py``, made once per document."""
    return f"{_alias(prefix, kind)}-{day.strftime(EVENTS_DATE_FORMAT)}"


def daily_day(es: ElasticsearchSettings, index: str, kind: Kind = Kind.EVENTS) -> date | None:
    """The day of a daily index of ``kind``, or None when ``index`` is not one of ours."""
    head = f"{alias(es, kind)}-"
    if not index.startswith(head):
        return None
    try:
        return datetime.strptime(index[len(head):], EVENTS_DATE_FORMAT).replace(tzinfo=UTC).date()
    except ValueError:
        return None


def template_body(es: ElasticsearchSettings, kind: Kind | str) -> dict[str, Any]:
    """The composable index template of ``kind`` (settings, explicit mapping, events' read alias)."""
    kind = Kind(kind)
    template: dict[str, Any] = {
        "settings": {"number_of_shards": 1, "number_of_replicas": 0,
                     "refresh_interval": es.events_refresh_interval if kind is Kind.EVENTS else es.refresh_interval},
        "mappings": mapping(kind),
    }
    if kind in DAILY:
        template["aliases"] = {alias(es, kind): {}}
    return {
        "index_patterns": [f"{alias(es, kind)}-*"],
        "priority": 200,
        "template": template,
        "_meta": {"managed_by": "deskwatch", "time_field": TIME_FIELD[kind]},
    }


def ensure_indices(client: Any, es: ElasticsearchSettings) -> list[str]:
    """Create or update every kind's template and the first index behind each write alias."""
    for kind in Kind:
        client.indices.put_index_template(name=alias(es, kind), **template_body(es, kind))
    for kind in (Kind.INCIDENTS, Kind.HISTORY):
        name = alias(es, kind)
        if not client.indices.exists_alias(name=name):
            _create_first(client, name)
    return [alias(es, kind) for kind in Kind]


def _create_first(client: Any, name: str) -> None:
    """Create ``<name>-000001`` behind ``name``; a sink starting beside us may have just done it."""
    from elasticsearch import BadRequestError

    try:
        client.indices.create(index=f"{name}-000001", aliases={name: {"is_write_index": True}})
    except BadRequestError as err:
        if err.error != "resource_already_exists_exception":
            raise


def delete_indices(client: Any, start: str) -> list[str]:
    """Delete every index whose name begins with ``start``, by name (the server refuses wildcard
    deletes); the names deleted."""
    doomed = sorted(client.indices.get(index=f"{start}*", allow_no_indices=True, expand_wildcards="all"))
    for i in range(0, len(doomed), 50):  # bounded URL length
        client.indices.delete(index=",".join(doomed[i : i + 50]))
    return doomed
