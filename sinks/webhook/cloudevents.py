"""CloudEvents 1.0 binary-mode Kafka headers of an ``incident-changes`` record.

Binary mode keeps the value the plain ``IncidentChange`` JSON (every existing consumer still reads
it) and puts the event attributes in ``ce_*`` headers (CloudEvents Kafka protocol binding), so a
subscriber can route and deduplicate without parsing the body.
"""

from __future__ import annotations

from collections.abc import Sequence

from deskwatch.schemas.change import IncidentChange

SPECVERSION = "1.0"
TYPE_PREFIX = "org.deskwatch.incident."


def ce_id(change: IncidentChange) -> str:
    """``<incident id>:<revision>``: unique per transition, the same on a replay."""
    return f"{change.incident_id}:{change.revision}"


def ce_headers(change: IncidentChange, app_id: str) -> list[tuple[str, bytes]]:
    """The headers: ``ce_id``, ``ce_source``, ``ce_type``, ``ce_time``, ``ce_specversion``, ``content-type``."""
    return [
        ("ce_specversion", SPECVERSION.encode()),
        ("ce_id", ce_id(change).encode()),
        ("ce_source", f"deskwatch/{app_id}".encode()),
        ("ce_type", f"{TYPE_PREFIX}{change.reason.value}".encode()),
        ("ce_time", change.at.isoformat().replace("+00:00", "Z").encode()),
        ("ce_subject", change.incident_id.encode()),
        ("content-type", b"application/json"),
    ]


def header_map(headers: Sequence[tuple[str, bytes]] | None) -> dict[str, str]:
    """Record headers as a ``name -> text`` dict (the last value wins)."""
    return {name: value.decode(errors="replace") for name, value in headers or ()}
