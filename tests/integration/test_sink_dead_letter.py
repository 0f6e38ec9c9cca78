"""A document Elasticsearch rejects for good goes to the dead-letter topic with the ES error, its
original bytes and position; the rest of its batch is indexed and every offset is committed."""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from typing import Any

import pytest
from kafka import KafkaProducer

from deskwatch.components import Component
from deskwatch.connect import kafka_python_options
from deskwatch.schemas import DeadLetter
from deskwatch.schemas.digest import EventDigest, digest_id
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.templates import Kind, alias
from deskwatch.topics import consumer_lag, ensure_topics
from deskwatch.topology import DEAD_LETTER, EVENT_DIGESTS

from .conftest import es_docs, read_topic, wait_for
from .test_sink_replay import drop_indices

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 29, 6, 0, tzinfo=timezone.utc)


def _digest(n: int) -> EventDigest:
    return EventDigest(digest_id=digest_id(f"fp{n}", T0), fingerprint=f"fp{n}", window_start=T0, repeat_count=1 + n,
                       first_seen=T0, last_seen=T0, host=f"PC-{n}", provider="disk", event_code="7", template="bad")


# Valid for the contract (a Python int) but not for the mapping (``integer``): only ES can refuse it.
OUT_OF_RANGE = _digest(100).model_copy(update={"schema_version": 3_000_000_000}).model_dump_json().encode()
# Not a digest at all: refused before Elasticsearch, by the contract.
NOT_A_DIGEST = json.dumps({"digest_id": "x", "repeat_count": "many"}).encode()
# Valid for the contract (a Python int), but no bulk body can carry it: it stopped the sink, at every
# restart, until 2026-12-02.
BEYOND_64_BITS = _digest(101).model_dump_json().replace('"repeat_count":102', f'"repeat_count":{2**70}').encode()


@pytest.fixture
def dl_settings(pipeline_settings: Settings) -> Iterator[Settings]:
    """Topics created; a batch big enough and slow enough to hold every record of the test."""
    s = pipeline_settings.model_copy(update={"sink": pipeline_settings.sink.model_copy(
        update={"bulk_max_docs": 5000, "flush_interval_s": 2.0})})
    ensure_topics(s.kafka)
    yield s
    drop_indices(s)


def _produce(s: Settings, values: list[bytes | None], topic: str | None = None) -> list[Any]:
    producer = KafkaProducer(acks="all", **kafka_python_options(s.kafka))
    try:
        futures = [producer.send(topic or EVENT_DIGESTS.name(s.kafka), key=b"PC", value=v) for v in values]
        producer.flush()
        return [f.get(10) for f in futures]
    finally:
        producer.close()


# A dead letter Elasticsearch refuses (the same out-of-range integer): it must stay on its topic and
# never be lettered again, or each refusal would write a letter the sink reads and refuses again.
REFUSED_LETTER = DeadLetter.of(reason="invalid_json", detail="planted", stage="producer", source="planted",
                               position=0, original=b"x").model_copy(update={"schema_version": 3_000_000_000})


def test_rejected_document_is_dead_lettered_and_its_batch_proceeds(dl_settings: Settings, launch: Callable[..., Component]) -> None:
    s = dl_settings
    good = [_digest(n) for n in range(20)]
    values: list[bytes | None] = [g.model_dump_json().encode() for g in good[:10]]
    values += [OUT_OF_RANGE, NOT_A_DIGEST, None, BEYOND_64_BITS] + [g.model_dump_json().encode() for g in good[10:]]
    meta = _produce(s, values)  # one key, so one partition, so one poll: one batch
    _produce(s, [REFUSED_LETTER.model_dump_json().encode()], DEAD_LETTER.name(s.kafka))
    sink = launch("sink", "run")
    topic, dlq = EVENT_DIGESTS.name(s.kafka), DEAD_LETTER.name(s.kafka)
    wait_for(lambda: consumer_lag(s.kafka, s.sink.group_id, topic) == 0, 90, "sink to commit every record",
             sink.tail)

    docs = es_docs(s, alias(s.elasticsearch, Kind.EVENTS))
    assert {i: d["_version"] for i, d in docs.items()} == {g.digest_id: g.repeat_count for g in good}
    letters = {json.loads(r.value)["position"]: json.loads(r.value) for r in read_topic(s, dlq)}
    at = {n: f"{topic}:{meta[n].partition}:{meta[n].offset}" for n in (10, 11, 12, 13)}
    assert set(letters) == {*at.values(), "0"}, "exactly the four bad records, by position, and the planted letter"
    rejected, invalid, tombstone, unencodable = (letters[at[n]] for n in (10, 11, 12, 13))

    assert rejected["reason"] == "rejected_by_elasticsearch"
    assert base64.b64decode(rejected["original_b64"]) == OUT_OF_RANGE
    assert rejected["detail"].startswith("document_parsing_exception") and "out of range" in rejected["detail"]
    assert rejected["stage"] == "sink" and rejected["source"] == topic
    assert invalid["reason"] == tombstone["reason"] == "invalid_event_digests"
    assert base64.b64decode(invalid["original_b64"]) == NOT_A_DIGEST and "repeat_count" in invalid["detail"]
    assert tombstone["original_b64"] == ""
    assert unencodable["reason"] == "unencodable_event_digests" and "64-bit" in unencodable["detail"]
    assert base64.b64decode(unencodable["original_b64"]) == BEYOND_64_BITS
    # The sink reads its own letters back and indexes them: rejected inputs are searchable.
    wait_for(lambda: consumer_lag(s.kafka, s.sink.group_id, dlq) == 0, 90, "sink to commit the dead letters",
             sink.tail)
    searchable = es_docs(s, alias(s.elasticsearch, Kind.DEAD_LETTERS))
    assert sorted(d["position"] for d in searchable.values()) == sorted(at.values()), "not the refused letter"
    assert {d["reason"] for d in searchable.values()} == {
        "rejected_by_elasticsearch", "invalid_event_digests", "unencodable_event_digests"}
    assert sink.stop() == 0
    summary = sink.tail(3)
    assert "indexed=24" in summary and "dead_lettered=4" in summary and "not_indexed_letters=1" in summary, summary
    assert len(read_topic(s, dlq)) == 5, "the refused letter was not lettered again"


def test_refused_newest_version_leaves_the_one_before_it_indexed(dl_settings: Settings,
                                                                  launch: Callable[..., Component]) -> None:
    """One batch holds three counts of one digest and Elasticsearch refuses the newest for good: the
    sink writes only the newest (sinks/elasticsearch/coalesce.py), then, refused, the one before it,
    so the index ends as it would have with every version written in order."""
    s = dl_settings
    digest = _digest(200)
    counts = [digest.model_copy(update={"repeat_count": n}) for n in (1, 2, 3)]
    counts[2] = counts[2].model_copy(update={"schema_version": 3_000_000_000})  # out of the mapping's range
    meta = _produce(s, [c.model_dump_json().encode() for c in counts])  # one partition, one poll: one batch
    sink = launch("sink", "run")
    topic, dlq = EVENT_DIGESTS.name(s.kafka), DEAD_LETTER.name(s.kafka)
    wait_for(lambda: consumer_lag(s.kafka, s.sink.group_id, topic) == 0, 90, "sink to commit every record",
             sink.tail)

    docs = es_docs(s, alias(s.elasticsearch, Kind.EVENTS))
    assert {i: d["_version"] for i, d in docs.items()} == {digest.digest_id: 2}, "the newest count ES accepted"
    letters = [json.loads(r.value) for r in read_topic(s, dlq)]
    assert [(letter["reason"], letter["position"]) for letter in letters] == [
        ("rejected_by_elasticsearch", f"{topic}:{meta[2].partition}:{meta[2].offset}")]
    assert sink.stop() == 0
    summary = sink.tail(3)
    assert "superseded=1" in summary and "dead_lettered=1" in summary, summary
