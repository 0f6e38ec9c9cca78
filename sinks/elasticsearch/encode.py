"""Turn topic records into bulk operations: ``_id`` = incident id, external version = revision."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

from deskwatch.schemas import Incident


@dataclass(frozen=True)
class BulkItem:
    """One document to index, with where it came from (for the dead-letter topic)."""

    index: str
    doc_id: str
    version: int
    body: bytes
    origin: str  # topic:partition:offset
    original: bytes


def incident_item(incident: Incident, alias: str, origin: str, original: bytes) -> BulkItem:
    return BulkItem(
        index=alias,
        doc_id=incident.id,
        version=incident.revision,
        body=incident.model_dump_json().encode(),
        origin=origin,
        original=original,
    )


def bulk_body(items: list[BulkItem]) -> bytes:
    """NDJSON bulk body; documents are pre-serialised, so nothing is encoded twice."""
    lines: list[bytes] = []
    for item in items:
        action: dict[str, Any] = {"index": {"_index": item.index, "_id": item.doc_id,
                                            "version": item.version, "version_type": "external"}}
        lines.append(orjson.dumps(action))
        lines.append(item.body)
    return b"\n".join(lines) + b"\n"
