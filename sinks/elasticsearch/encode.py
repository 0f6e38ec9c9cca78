"""Turn topic records into bulk operations with deterministic ids and external versions.

| kind | index | ``_id`` | external version |
|---|---|---|---|
| incident | ``<prefix>-incidents`` | incident id | its record's offset + 1 |
| change | ``<prefix>-incident-history`` | ``<incident id>:<revision>`` (stage 2 makes one change per revision) | its record's offset + 1 |
| digest | ``<prefix>-events-<day of window start>`` | digest id (fingerprint + window start) | repeat count |
| dead letter | ``<prefix>-dead-letters-<day of rejected_at>`` | ``DeadLetter.letter_id`` | its record's offset |

So a replay writes the same ids, and an older or equal version is refused by Elasticsearch (409).
A dead letter's id hashes what was refused and how, so the same input refused again (a file
re-read, an envelope replayed) is one document that day, not one per refusal; its record's offset
is its version, so a replay of the topic is a 409 and a later refusal the newer document.

Decision: an incident and a change are versioned by their record's place in its partition, not by
their revision, so Elasticsearch holds what the compacted topic holds: the last record of the key
(both topics are keyed by incident id, so one incident's records share a partition, in the order
stage 2 sent them). After a crash, stage 2 sends an incident again from the state it last wrote, and
its inputs, read again in another order (the commands topic against the signals topic, while a
group read both: until 2026-12-07; now one log, schemas/command.py), could bring
the incident to the revision it had reached before the crash, or below, with other fields (a child's
``parent_id``): a revision version kept the document written before the crash, for good once the
incident resolved. The crash model of tests/processors/stage2/interleave.py over 3,000 small random
fleets: the revision rule left 27 of them with a document that was not the uninterrupted run's,
``external_gte`` on the revision 2, the last record 0. A sink reading its topics again still writes
nothing (the same offsets, 409), and an identical record sent again by stage 2 is written again, to
the same content. Plus one: a revision's record is at least the revision-th of its partition, so
documents written under the revision rule are never newer than the record that replaces them. The
cost: adding partitions to either topic moves keys, and an incident's next records could then be
refused; deskwatch never adds partitions to an existing topic (topics.ensure_topics).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Final

import msgspec
import orjson

from deskwatch.processors.encode import plain
from deskwatch.schemas import DeadLetter
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.digest import EventDigest
from deskwatch.schemas.incident import Incident
from deskwatch.schemas.struct_mirror import SchemaMirrorError, StructMirror, derive_struct
from deskwatch.settings import ElasticsearchSettings
from deskwatch.sinks.elasticsearch.mappings import Kind
from deskwatch.sinks.elasticsearch.templates import daily_index, events_index, history_alias, incidents_alias
from deskwatch.topology import DEAD_LETTER, EVENT_DIGESTS, INCIDENT_CHANGES, INCIDENTS


@dataclass(frozen=True)
class BulkItem:
    """One document to index, with where it came from (for the dead-letter topic)."""

    index: str
    doc_id: str
    version: int
    body: bytes
    origin: str  # topic:partition:offset
    original: bytes

    @property
    def size(self) -> int:
        """Bytes this item adds to a bulk body (action line estimate + document)."""
        return len(self.body) + len(self.index) + len(self.doc_id) + 80


def record_offset(origin: str) -> int:
    """The offset in ``origin`` (``topic:partition:offset``)."""
    return int(origin.rsplit(":", 1)[1])


def incident_item(incident: Incident, alias: str, origin: str, original: bytes, version: int | None = None) -> BulkItem:
    """An incident: ``_id`` = incident id, version = ``version`` (from a record: its offset + 1),
    else its revision (a what-if shadow's, written once from a replay, never from a topic)."""
    return BulkItem(index=alias, doc_id=incident.id, version=incident.revision if version is None else version,
                    body=incident.model_dump_json().encode(), origin=origin, original=original)


def change_item(change: IncidentChange, alias: str, origin: str, original: bytes, version: int | None = None) -> BulkItem:
    """A transition: ``_id`` = incident id + revision, version as ``incident_item``'s."""
    return BulkItem(index=alias, doc_id=change.change_id, version=change.revision if version is None else version,
                    body=change.model_dump_json().encode(), origin=origin, original=original)


def digest_item(digest: EventDigest, es: ElasticsearchSettings, origin: str, original: bytes) -> BulkItem:
    """A digest: daily index of its window start, ``_id`` = digest id, version = repeat count."""
    return BulkItem(index=events_index(es, digest.window_start), doc_id=digest.digest_id,
                    version=digest.repeat_count, body=digest_body(digest), origin=origin, original=original)


# Decision: a digest's document is written by orjson from the model's fields, as the processor
# writes its per-event records (processors/encode.py: for a model whose schema is plain, orjson's
# bytes are pydantic's), not dumped to a dict by pydantic and then encoded: 1.5 against 5.3 us per
# digest, the sink's largest per-document step after validation. A value orjson refuses (an
# integer beyond 64 bits) is refused by either way: the TypeError reaches the sink, which
# dead-letters the record.
_PLAIN_DIGEST: Final = plain(EventDigest.__pydantic_core_schema__)


def digest_body(digest: EventDigest) -> bytes:
    """``digest_document``'s JSON."""
    if not _PLAIN_DIGEST:
        return orjson.dumps(digest_document(digest))
    return _plain_digest_json(digest.__dict__)


def _plain_digest_json(fields: dict[str, Any]) -> bytes:
    """A digest's document from its fields, in order, when ``_PLAIN_DIGEST``."""
    return orjson.dumps({**fields, "host": {"name": fields["host"]}}, option=orjson.OPT_UTC_Z)


def _digest_mirror() -> StructMirror | None:
    try:
        return derive_struct(EventDigest.__pydantic_core_schema__) if _PLAIN_DIGEST else None
    except SchemaMirrorError:
        return None  # every digest takes pydantic's path: slower, never different


# Decision: a digest record (most of the sink's input) is read first by a msgspec mirror of
# EventDigest's own core schema (schemas/struct_mirror.py, as the producer reads JSON lines and
# stage 1 envelopes), which takes only what it reads exactly as pydantic does; anything else
# (a missing field with a default, a time in another form, an invalid record) goes through
# ``model_validate_json``, so verdicts, errors and documents stay pydantic's.
_DIGEST_MIRROR: Final = _digest_mirror()


def fast_digest_item(payload: bytes, es: ElasticsearchSettings, origin: str) -> BulkItem | None:
    """``digest_item`` of the payload read by the mirror; None when the mirror does not take it."""
    if _DIGEST_MIRROR is None:
        return None
    try:
        digest = _DIGEST_MIRROR.decode(payload)
        _DIGEST_MIRROR.finish(digest)
        fields = msgspec.structs.asdict(digest)
        body = _plain_digest_json(fields)
    except (msgspec.DecodeError, ValueError, TypeError):
        return None
    return BulkItem(index=events_index(es, fields["window_start"]), doc_id=fields["digest_id"],
                    version=fields["repeat_count"], body=body, origin=origin, original=payload)


def digest_document(digest: EventDigest) -> dict[str, Any]:
    """The digest as stored: its own JSON with ``host`` as ECS ``host.name``."""
    doc: dict[str, Any] = digest.model_dump(mode="json")
    doc["host"] = {"name": doc["host"]}
    return doc


def digest_from_source(source: dict[str, Any]) -> EventDigest:
    """Read a stored events document back into its ``EventDigest`` (inverse of ``digest_document``)."""
    return EventDigest.model_validate({**source, "host": source["host"]["name"]})


# The searchable text of a dead letter's original: enough for any log line, not a whole envelope.
ORIGINAL_TEXT_MAX: Final = 8_192


def dead_letter_item(letter: DeadLetter, es: ElasticsearchSettings, origin: str, original: bytes) -> BulkItem:
    """A dead letter: daily index of its rejection, ``_id`` = its letter id, version = its record's offset.

    Its document is the letter's own JSON, plus ``original``: the rejected bytes read as UTF-8 (an
    invalid byte replaced) up to ``ORIGINAL_TEXT_MAX`` characters, so an operator finds a rejected
    line by its words; and ``original_bytes``, their length. ``original_b64`` keeps them whole."""
    raw = letter.original
    doc = {**letter.model_dump(mode="json"), "original": raw[:ORIGINAL_TEXT_MAX * 4].decode("utf-8", "replace")
           [:ORIGINAL_TEXT_MAX], "original_bytes": len(raw)}
    return BulkItem(index=daily_index(es, Kind.DEAD_LETTERS, letter.rejected_at), doc_id=letter.letter_id,
                    version=record_offset(origin), body=orjson.dumps(doc), origin=origin, original=original)


def encode_record(role: str, payload: bytes, es: ElasticsearchSettings, origin: str) -> BulkItem:
    """Validate ``payload`` as the contract of topic ``role`` and encode it as a bulk item.

    Raises pydantic's ``ValidationError`` when the payload is not one (the caller dead-letters it).
    """
    if role == INCIDENTS.role:
        return incident_item(Incident.model_validate_json(payload), incidents_alias(es), origin, payload,
                             record_offset(origin) + 1)
    if role == INCIDENT_CHANGES.role:
        return change_item(IncidentChange.model_validate_json(payload), history_alias(es), origin, payload,
                           record_offset(origin) + 1)
    if role == EVENT_DIGESTS.role:
        return (fast_digest_item(payload, es, origin)
                or digest_item(EventDigest.model_validate_json(payload), es, origin, payload))
    if role == DEAD_LETTER.role:
        return dead_letter_item(DeadLetter.model_validate_json(payload), es, origin, payload)
    raise ValueError(f"no encoder for topic role {role!r}")


def bulk_body(items: list[BulkItem]) -> bytes:
    """NDJSON bulk body; documents are pre-serialised, so nothing is encoded twice."""
    lines: list[bytes] = []
    for item in items:
        action: dict[str, Any] = {"index": {"_index": item.index, "_id": item.doc_id,
                                            "version": item.version, "version_type": "external"}}
        lines.append(orjson.dumps(action))
        lines.append(item.body)
    return b"\n".join(lines) + b"\n"
