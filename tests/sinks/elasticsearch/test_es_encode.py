"""Each kind's bulk item: index, deterministic ``_id`` and external version; digests round-trip."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import AwareDatetime, TypeAdapter, ValidationError

from deskwatch.schemas import DeadLetter
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.digest import EventDigest, digest_id
from deskwatch.schemas.incident import ChangeReason, Incident, IncidentStatus, Severity
from deskwatch.settings import ElasticsearchSettings
from deskwatch.sinks.elasticsearch.encode import (
    ORIGINAL_TEXT_MAX,
    digest_body,
    digest_document,
    digest_from_source,
    digest_item,
    encode_record,
    fast_digest_item,
)
from deskwatch.processors.encode import encoder

ES = ElasticsearchSettings(index_prefix="dw")
T0 = datetime(2026, 11, 29, 23, 59, 30, tzinfo=timezone.utc)
T1 = datetime(2026, 11, 30, 0, 1, tzinfo=timezone.utc)

INCIDENT = Incident(id="inc-1", rule_id="disk-errors", group_key="PC-1", title="Disk", first_seen=T0,
                    last_seen=T1, event_count=4, revision=7)
CHANGE = IncidentChange(incident_id="inc-1", revision=3, rule_id="disk-errors", rule_version=2, group_key="PC-1",
                        from_status=IncidentStatus.OPEN, to_status=IncidentStatus.ACKNOWLEDGED,
                        reason=ChangeReason.ACKNOWLEDGED, severity=Severity.HIGH, at=T1, actor="ops")
DIGEST = EventDigest(digest_id=digest_id("fp1", T0), fingerprint="fp1", window_start=T0, repeat_count=5,
                     first_seen=T0, last_seen=T1, host="PC-1", provider="disk", event_code="7", template="bad block")


@pytest.mark.parametrize(
    ("role", "payload", "index", "doc_id", "version"),
    [
        # offset 41 + 1, whatever the revision (7 and 3): the last record of a key is the newest
        ("incidents", INCIDENT, "dw-incidents", "inc-1", 42),
        ("incident-changes", CHANGE, "dw-incident-history", "inc-1:3", 42),
        # window start decides the day, not last_seen (which crosses midnight here)
        ("event-digests", DIGEST, "dw-events-2026.11.29", f"fp1-{int(T0.timestamp() * 1000)}", 5),
    ],
    ids=["incident-id-offset", "change-id-offset", "digest-id-repeat-count"],
)
def test_ids_and_versions(role: str, payload: Incident | IncidentChange | EventDigest, index: str,
                          doc_id: str, version: int) -> None:
    raw = payload.model_dump_json().encode()
    item = encode_record(role, raw, ES, "t:1:41")
    assert (item.index, item.doc_id, item.version) == (index, doc_id, version)
    assert item.original == raw and item.origin == "t:1:41"


def test_same_record_twice_gives_the_same_item() -> None:
    raw = DIGEST.model_dump_json().encode()
    assert encode_record("event-digests", raw, ES, "o") == encode_record("event-digests", raw, ES, "o")


def test_digest_document_is_ecs_shaped_and_reads_back() -> None:
    item = encode_record("event-digests", DIGEST.model_dump_json().encode(), ES, "o")
    source = orjson.loads(item.body)
    assert source["host"] == {"name": "PC-1"}
    assert digest_from_source(source) == DIGEST


_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=20)
_ZONES = st.one_of(st.just(timezone.utc),
                   st.integers(-23 * 60 - 59, 23 * 60 + 59).map(lambda m: timezone(timedelta(minutes=m))))
_TIMES = st.one_of(
    st.datetimes(timezones=_ZONES),
    # as the sink reads them: validated from the record's JSON (pydantic's own tzinfo class)
    st.datetimes(timezones=_ZONES).map(lambda t: TypeAdapter(AwareDatetime).validate_json(f'"{t.isoformat()}"')),
)


_DIGESTS = st.builds(EventDigest, digest_id=_TEXT, fingerprint=_TEXT, window_start=_TIMES,
                     repeat_count=st.integers(1, 2**63 - 1), first_seen=_TIMES, last_seen=_TIMES, host=_TEXT,
                     provider=_TEXT, event_code=_TEXT, template=_TEXT, sample_message=_TEXT,
                     sample_event_id=st.none() | _TEXT, site=st.none() | _TEXT, os_build=st.none() | _TEXT,
                     rule_ids=st.lists(_TEXT, max_size=3), group_keys=st.lists(_TEXT, max_size=3))


@settings(max_examples=300, deadline=None)
@given(_DIGESTS)
def test_digest_body_is_the_documents_json(digest: EventDigest) -> None:
    """The orjson path writes the bytes pydantic's dump of the document would."""
    assert digest_body(digest) == orjson.dumps(digest_document(digest))


_JSON_VALUES = st.one_of(st.none(), st.booleans(), st.integers(-(2**70), 2**70), st.floats(allow_nan=False), _TEXT,
                         st.lists(_TEXT, max_size=2), st.just("2026-11-29T23:59:30Z"), st.just("2026-11-29T23:59:30"),
                         st.just("2026-11-29 23:59:30+01:00"), st.just(" PC-1 "))


def _pydantic_item(payload: bytes) -> object:
    """What the sink made of a digest record before the mirror: the item, or the error's type."""
    try:
        return digest_item(EventDigest.model_validate_json(payload), ES, "t:0:1", payload)
    except (ValidationError, TypeError) as exc:
        return type(exc)


@settings(max_examples=300, deadline=None)
@given(_DIGESTS, st.sampled_from(["pydantic", "processor"]))
def test_the_mirror_takes_every_digest_the_processor_writes_as_pydantic_reads_it(digest: EventDigest, by: str) -> None:
    payload = digest.model_dump_json().encode() if by == "pydantic" else encoder(EventDigest)(digest)
    item = fast_digest_item(payload, ES, "t:0:1")
    assert item is not None, "the mirror refused a digest as written"
    assert item == _pydantic_item(payload)


@settings(max_examples=500, deadline=None)
@given(_DIGESTS, st.data())
def test_a_record_the_mirror_takes_gives_pydantics_item(digest: EventDigest, data: st.DataObject) -> None:
    """Whatever the record (a field missing, unknown, of another type or form), the mirror either
    leaves it to pydantic or makes pydantic's very item."""
    doc = orjson.loads(digest.model_dump_json())
    for _ in range(data.draw(st.integers(1, 3))):
        key = data.draw(st.sampled_from([*doc, "unknown"]))
        if data.draw(st.booleans()) and key in doc:
            del doc[key]
        else:
            doc[key] = data.draw(_JSON_VALUES)
    payload = orjson.dumps(doc)
    item = fast_digest_item(payload, ES, "t:0:1")
    if item is not None:
        assert item == _pydantic_item(payload) == encode_record("event-digests", payload, ES, "t:0:1")


def test_a_digest_no_json_can_carry_raises_a_type_error() -> None:
    """An integer beyond 64 bits is valid for the contract; the sink dead-letters this TypeError
    (tests/integration/test_sink_dead_letter.py)."""
    big = DIGEST.model_copy(update={"repeat_count": 2**70})
    with pytest.raises(TypeError, match="64-bit"):
        digest_body(big)


@pytest.mark.parametrize("role", ["incidents", "incident-changes", "event-digests"],
                         ids=["incident", "change", "digest"])
def test_invalid_payload_raises_validation_error(role: str) -> None:
    with pytest.raises(ValidationError):
        encode_record(role, b'{"id": 1}', ES, "o")


def test_unknown_role_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="signals"):
        encode_record("signals", b"{}", ES, "o")


def test_a_dead_letter_is_indexed_by_day_of_rejection_with_its_original_searchable_and_whole() -> None:
    raw = b"not json \xff at all " + "é".encode() * 10_000  # an invalid byte, and more text than is searchable
    letter = DeadLetter.of(reason="invalid_json", detail="line 3: expected value", stage="producer",
                           source="/var/log/app.jsonl", position=3, original=raw)
    letter = letter.model_copy(update={"rejected_at": datetime(2026, 11, 29, 23, 30, tzinfo=timezone.utc)})
    payload = letter.model_dump_json().encode()
    item = encode_record("dead-letter", payload, ES, "dw.dead-letter:2:41")
    assert (item.index, item.doc_id, item.version, item.original) == (
        "dw-dead-letters-2026.11.29", letter.letter_id, 41, payload)
    # the same input refused the same way again, later and worded otherwise: the same document
    again = letter.model_copy(update={"detail": "line 3: other words", "rejected_at": letter.rejected_at.replace(hour=23, minute=59)})
    assert encode_record("dead-letter", again.model_dump_json().encode(), ES, "dw.dead-letter:0:90").doc_id == item.doc_id
    other = letter.model_copy(update={"position": "4"})
    assert other.letter_id != letter.letter_id
    doc = orjson.loads(item.body)
    assert doc["reason"] == "invalid_json" and doc["stage"] == "producer" and doc["position"] == "3"
    assert doc["original"].startswith("not json \ufffd at all éé") and len(doc["original"]) == ORIGINAL_TEXT_MAX
    assert doc["original_bytes"] == len(raw) and DeadLetter.model_validate(
        {k: v for k, v in doc.items() if k not in ("original", "original_bytes")}).original == raw


def test_a_record_on_the_dead_letter_topic_that_is_no_dead_letter_is_refused() -> None:
    with pytest.raises(ValidationError):
        encode_record("dead-letter", b'{"reason": "x"}', ES, "dw.dead-letter:0:1")
