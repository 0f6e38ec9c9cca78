"""CloudEvents 1.0 binary-mode Kafka headers of an ``incident-changes`` record.

Binary mode keeps the value the plain ``IncidentChange`` JSON (every existing consumer still reads
it) and puts the event attributes in ``ce_*`` headers (CloudEvents Kafka protocol binding), so a
subscriber can route and deduplicate without parsing the body.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

from deskwatch.schemas.change import IncidentChange

SPECVERSION = "1.0"
TYPE_PREFIX = "org.deskwatch.incident."


def ce_id(change: IncidentChange, body: bytes) -> str:
    """``<incident id>:<revision>:<digest of the record's value>``: the same for the same change
    read again, another for a change with other content at that revision.

    Decision: the value's digest, not ``<incident id>:<revision>`` alone. After a processor crash,
    stage 2 sends its incidents again from the state it last wrote. Reading each group's one log
    again in its order, it sends each revision with the bytes it had (schemas/command.py); but
    what can still differ between the two reads (a silence added or expired) could send a
    revision with other content, and while groups read two logs (until 2026-12-07) a replay did
    (another transition: a resolution where an escalation was). Under the revision alone a
    subscriber skipping seen ids drops it, and an HTTP receiver following the Idempotency-Key
    draft answers 422 to a key reused with another body. A record read again (the relay
    restarting from its commit, a subscriber's replay, stage 2's replay) has the same bytes, so
    the same id."""
    return f"{change.incident_id}:{change.revision}:{hashlib.blake2b(body, digest_size=8).hexdigest()}"


def ce_headers(change: IncidentChange, app_id: str, body: bytes) -> list[tuple[str, bytes]]:
    """The headers of the record whose value is ``body`` (the change's JSON): ``ce_id``,
    ``ce_source``, ``ce_type``, ``ce_time``, ``ce_specversion``, ``ce_subject``, ``content-type``."""
    return [
        ("ce_specversion", SPECVERSION.encode()),
        ("ce_id", ce_id(change, body).encode()),
        ("ce_source", f"deskwatch/{app_id}".encode()),
        ("ce_type", f"{TYPE_PREFIX}{change.reason.value}".encode()),
        ("ce_time", change.at.isoformat().replace("+00:00", "Z").encode()),
        ("ce_subject", change.incident_id.encode()),
        ("content-type", b"application/json"),
    ]


def header_map(headers: Sequence[tuple[str, bytes]] | None) -> dict[str, str]:
    """Record headers as a ``name -> text`` dict (the last value wins)."""
    return {name: value.decode(errors="replace") for name, value in headers or ()}
