"""Explicit ECS-aligned mappings of the four logical indices, one per document kind.

Documents are the contracts' own JSON (``Incident``, ``IncidentChange``, ``EventDigest``,
``DeadLetter`` with its original read as text beside it), so a hit's
``_source`` validates back into its model; ECS names (``@timestamp``, ``host.name``, ``event.*``,
``rule.*``, ``message``) are ``alias`` fields over them, so Kibana and ECS-minded queries work too.
``dynamic: false``: a field a newer producer adds is kept in ``_source`` but never grows the mapping.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

KEYWORD: dict[str, Any] = {"type": "keyword", "ignore_above": 1024}
TEXT_WITH_KEYWORD: dict[str, Any] = {"type": "text", "fields": {"keyword": KEYWORD}}
DATE: dict[str, Any] = {"type": "date"}
INTEGER: dict[str, Any] = {"type": "integer"}
LONG: dict[str, Any] = {"type": "long"}
BOOLEAN: dict[str, Any] = {"type": "boolean"}
FLATTENED: dict[str, Any] = {"type": "flattened"}


class Kind(StrEnum):
    """The four logical indices and the document kind each holds."""

    INCIDENTS = "incidents"
    HISTORY = "incident-history"
    EVENTS = "events"
    DEAD_LETTERS = "dead-letters"


def _alias(path: str) -> dict[str, Any]:
    return {"type": "alias", "path": path}


INCIDENT: dict[str, Any] = {
    "schema_version": INTEGER, "id": KEYWORD, "rule_id": KEYWORD, "rule_version": INTEGER,
    "group_key": KEYWORD, "title": TEXT_WITH_KEYWORD, "status": KEYWORD, "severity": KEYWORD,
    "hosts": KEYWORD, "host_count": INTEGER, "first_seen": DATE, "last_seen": DATE, "event_count": LONG,
    "revision": LONG, "event_codes": KEYWORD, "providers": KEYWORD, "sample_message": {"type": "text"},
    "remediation": {"type": "text"}, "group": FLATTENED, "window_seconds": LONG, "opened_at": DATE,
    "resolved_at": DATE, "updated_at": DATE, "deduplicated_count": LONG, "absorbed_count": LONG,
    "children": KEYWORD, "parent_id": KEYWORD, "reason": KEYWORD, "silenced_by": KEYWORD,
    "flapping": BOOLEAN, "reopen_count": INTEGER, "acknowledged_by": KEYWORD, "acknowledged_at": DATE,
    "assignee": KEYWORD, "device_classes": KEYWORD,
    # ECS names over the same values.
    "@timestamp": _alias("last_seen"), "message": _alias("sample_message"),
    "host": {"properties": {"name": _alias("hosts")}},
    "event": {"properties": {"code": _alias("event_codes"), "provider": _alias("providers"),
                             "start": _alias("first_seen"), "end": _alias("last_seen"),
                             "reason": _alias("reason")}},
    "rule": {"properties": {"id": _alias("rule_id"), "version": _alias("rule_version")}},
}

CHANGE: dict[str, Any] = {
    "schema_version": INTEGER, "incident_id": KEYWORD, "revision": LONG, "rule_id": KEYWORD,
    "rule_version": INTEGER, "group_key": KEYWORD, "from_status": KEYWORD, "to_status": KEYWORD,
    "reason": KEYWORD, "severity": KEYWORD, "at": DATE, "actor": KEYWORD, "detail": {"type": "text"},
    "notify": BOOLEAN,
    "@timestamp": _alias("at"), "message": _alias("detail"),
    "event": {"properties": {"action": _alias("reason")}},
    "rule": {"properties": {"id": _alias("rule_id"), "version": _alias("rule_version")}},
    "user": {"properties": {"name": _alias("actor")}},
}

# The digest's ``host`` is renamed ``host.name`` in the document (encode.py), because ECS's
# ``host`` is an object; the other host attributes sit beside it under ``host.*``.
DIGEST: dict[str, Any] = {
    "schema_version": INTEGER, "digest_id": KEYWORD, "fingerprint": KEYWORD, "window_start": DATE,
    "repeat_count": LONG, "first_seen": DATE, "last_seen": DATE,
    "host": {"properties": {"name": KEYWORD}},
    "provider": KEYWORD, "event_code": KEYWORD, "template": TEXT_WITH_KEYWORD,
    "sample_message": {"type": "text"}, "sample_event_id": KEYWORD, "level": KEYWORD, "site": KEYWORD,
    "directorate": KEYWORD, "os_build": KEYWORD, "device_class": KEYWORD, "rule_ids": KEYWORD,
    "group_keys": KEYWORD,
    "@timestamp": _alias("window_start"), "message": _alias("sample_message"),
    "event": {"properties": {"code": _alias("event_code"), "provider": _alias("provider"),
                             "count": _alias("repeat_count"), "start": _alias("first_seen"),
                             "end": _alias("last_seen"), "hash": _alias("fingerprint")}},
    "log": {"properties": {"level": _alias("level")}},
    "rule": {"properties": {"id": _alias("rule_ids")}},
}

# A dead letter's original bytes stay whole in ``original_b64`` (kept in _source, not indexed); the
# searchable ``original`` is their first ORIGINAL_TEXT_MAX characters read as UTF-8 (encode.py).
DEAD_LETTER: dict[str, Any] = {
    "schema_version": INTEGER, "reason": KEYWORD, "detail": {"type": "text"}, "stage": KEYWORD,
    "source": KEYWORD, "position": KEYWORD, "rejected_at": DATE, "original": {"type": "text"},
    "original_bytes": LONG, "original_b64": {"type": "keyword", "index": False, "doc_values": False},
    "@timestamp": _alias("rejected_at"), "message": _alias("detail"),
    "event": {"properties": {"reason": _alias("reason"), "original": _alias("original")}},
}

PROPERTIES: dict[Kind, dict[str, Any]] = {Kind.INCIDENTS: INCIDENT, Kind.HISTORY: CHANGE, Kind.EVENTS: DIGEST,
                                          Kind.DEAD_LETTERS: DEAD_LETTER}
TIME_FIELD: dict[Kind, str] = {Kind.INCIDENTS: "last_seen", Kind.HISTORY: "at", Kind.EVENTS: "window_start",
                               Kind.DEAD_LETTERS: "rejected_at"}
# Kinds kept in one index per day of their time field, which retention deletes whole (prune.py).
DAILY: frozenset[Kind] = frozenset({Kind.EVENTS, Kind.DEAD_LETTERS})


def mapping(kind: Kind | str) -> dict[str, Any]:
    """The full ``mappings`` body of ``kind``'s indices."""
    return {"dynamic": False, "properties": PROPERTIES[Kind(kind)]}


def mapping_fields(kind: Kind | str) -> set[str]:
    """Every dotted field name ``kind``'s mapping declares (objects' leaves, aliases, multi-fields)."""
    return set(_walk(PROPERTIES[Kind(kind)], ""))


def _walk(properties: dict[str, Any], prefix: str) -> list[str]:
    names: list[str] = []
    for name, spec in properties.items():
        dotted = f"{prefix}{name}"
        if "properties" in spec:
            names += _walk(spec["properties"], f"{dotted}.")
            continue
        names.append(dotted)
        names += [f"{dotted}.{sub}" for sub in spec.get("fields", {})]
    return names
