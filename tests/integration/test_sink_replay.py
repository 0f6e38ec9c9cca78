"""Replays end where the topics do: an incident's and a change's document is the last record of
its key, at that record's offset + 1 (as the compacted topic keeps it), a digest its highest
count; a stream sent twice, or shuffled, ends so, and a sink reading its topics again writes
nothing (every document's _source, _version and index, across the three logical indices)."""

from __future__ import annotations

import random
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest
from kafka import KafkaProducer

from deskwatch.connect import elasticsearch_client, kafka_python_options
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.digest import EventDigest, digest_id
from deskwatch.schemas.incident import ChangeReason, Incident, IncidentStatus
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.consume import SinkCounts
from deskwatch.sinks.elasticsearch.templates import Kind, alias, delete_indices
from deskwatch.topics import consumer_lag, ensure_topics
from deskwatch.topology import EVENT_DIGESTS, INCIDENT_CHANGES, INCIDENTS

from tests.sinks.elasticsearch.sink_feed import running_sink

from .conftest import wait_for

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 28, 22, 0, tzinfo=timezone.utc)
Record = tuple[str, bytes, bytes]  # topic role, key, value


@dataclass
class Stream:
    """Records in production order, and what Elasticsearch must hold once they are all indexed."""

    records: list[Record] = field(default_factory=list)
    incidents: dict[str, Incident] = field(default_factory=dict)
    changes: dict[str, IncidentChange] = field(default_factory=dict)
    digests: dict[str, EventDigest] = field(default_factory=dict)


def _revisions(i: int) -> Iterator[tuple[Incident, IncidentChange]]:
    opened = T0 + timedelta(minutes=7 * i)
    base = Incident(id=f"inc-{i:03d}", rule_id=f"rule-{i % 4}", group_key=f"PC-{i:03d}", title=f"problem {i}",
                    hosts=[f"PC-{i:03d}"], host_count=1, first_seen=opened, last_seen=opened, event_count=3,
                    revision=1, opened_at=opened, group={"host": f"PC-{i:03d}"}, reason=ChangeReason.OPENED)
    status: IncidentStatus | None = None
    for rev in range(1, 2 + i % 5):
        new_status = IncidentStatus.RESOLVED if rev == 5 else IncidentStatus.OPEN
        seen = opened + timedelta(minutes=rev)
        incident = base.model_copy(update={"revision": rev, "event_count": 3 * rev, "last_seen": seen,
                                           "status": new_status, "updated_at": seen})
        change = IncidentChange(incident_id=incident.id, revision=rev, rule_id=incident.rule_id, rule_version=1,
                                group_key=incident.group_key, from_status=status, to_status=new_status,
                                reason=ChangeReason.OPENED if rev == 1 else ChangeReason.THRESHOLD_REACHED,
                                severity=incident.severity, at=seen)
        status = new_status
        yield incident, change


def _digests(i: int) -> Iterator[EventDigest]:
    for f in range(2):
        start = T0 - timedelta(hours=26 * ((i + f) % 4))  # four days: several daily indices
        fp = f"fp-{i:03d}-{f}"
        for count in range(1, 2 + (i + f) % 4):
            yield EventDigest(digest_id=digest_id(fp, start), fingerprint=fp, window_start=start, repeat_count=count,
                              first_seen=start, last_seen=start + timedelta(seconds=count), host=f"PC-{i:03d}",
                              provider="disk", event_code="7", template="bad block at <n>", rule_ids=["rule-1"])


def incident_stream(n: int = 40) -> Stream:
    """``n`` incidents with growing revisions and their transitions, and digests with growing counts."""
    stream = Stream()
    for i in range(n):
        for incident, change in _revisions(i):
            key = incident.id.encode()
            stream.records += [(INCIDENTS.role, key, incident.model_dump_json().encode()),
                               (INCIDENT_CHANGES.role, key, change.model_dump_json().encode())]
            stream.incidents[incident.id], stream.changes[change.change_id] = incident, change
        for digest in _digests(i):
            stream.records.append((EVENT_DIGESTS.role, digest.host.encode(), digest.model_dump_json().encode()))
            stream.digests[digest.digest_id] = digest
    return stream


def derive(base: Settings, tag: str, **sink: Any) -> Settings:
    """``base`` with its own topics, indices and consumer group (suffix ``tag``)."""
    return base.model_copy(update={
        "kafka": base.kafka.model_copy(update={"topic_prefix": f"{base.kafka.topic_prefix}{tag}."}),
        "elasticsearch": base.elasticsearch.model_copy(update={"index_prefix": f"{base.elasticsearch.index_prefix}-{tag}"}),
        "sink": base.sink.model_copy(update={"group_id": f"{base.sink.group_id}-{tag}", **sink}),
    })


def sink_lag(s: Settings) -> int:
    """Records of the incident topics of ``s`` the sink's group has not committed yet."""
    return sum(consumer_lag(s.kafka, s.sink.group_id, spec.name(s.kafka))
               for spec in (INCIDENTS, INCIDENT_CHANGES, EVENT_DIGESTS))


def produce(s: Settings, records: list[Record]) -> list[int]:
    """Send ``records`` in order, to the topics of ``s``, and wait for the broker's acks; each
    record's offset."""
    producer = KafkaProducer(acks="all", linger_ms=5, enable_idempotence=True, **kafka_python_options(s.kafka))
    try:
        names = {spec.role: spec.name(s.kafka) for spec in (INCIDENTS, INCIDENT_CHANGES, EVENT_DIGESTS)}
        sent = [producer.send(names[role], key=key, value=value) for role, key, value in records]
        producer.flush()
        return [future.get(timeout=30).offset for future in sent]
    finally:
        producer.close()


def last_records(records: list[Record], offsets: list[int]) -> dict[Kind, dict[str, tuple[int, dict[str, Any]]]]:
    """What the sink must leave of the incident topics: each incident's and change's last record,
    as (its offset + 1, its JSON)."""
    out: dict[Kind, dict[str, tuple[int, dict[str, Any]]]] = {Kind.INCIDENTS: {}, Kind.HISTORY: {}}
    for (role, _, value), offset in zip(records, offsets, strict=True):
        if role == INCIDENTS.role:
            incident = Incident.model_validate_json(value)
            out[Kind.INCIDENTS][incident.id] = (offset + 1, incident.model_dump(mode="json"))
        elif role == INCIDENT_CHANGES.role:
            change = IncidentChange.model_validate_json(value)
            out[Kind.HISTORY][change.change_id] = (offset + 1, change.model_dump(mode="json"))
    return out


def held(snap: dict[Kind, dict[str, dict[str, Any]]], kind: Kind) -> dict[str, tuple[int, dict[str, Any]]]:
    """A snapshot's documents of ``kind`` as (version, source)."""
    return {i: (d["_version"], d["_source"]) for i, d in snap[kind].items()}


def run_sink_until(s: Settings, consumed: int, timeout: float = 120) -> SinkCounts:
    """Run the sink in this process until it has handled ``consumed`` records and committed them."""
    with running_sink(s) as sink:
        wait_for(lambda: sink.counts.consumed >= consumed, timeout, f"sink to handle {consumed} records",
                 lambda: str(sink.counts))
    for spec in (INCIDENTS, INCIDENT_CHANGES, EVENT_DIGESTS):
        assert consumer_lag(s.kafka, s.sink.group_id, spec.name(s.kafka)) == 0, f"{spec.role} offsets committed"
    return sink.counts


def snapshot(s: Settings) -> dict[Kind, dict[str, dict[str, Any]]]:
    """Every document of the logical indices: _index (prefix removed), _version, _source (a daily
    kind nothing was written to, dead letters say, has no index yet: none)."""
    client = elasticsearch_client(s.elasticsearch)
    prefix = s.elasticsearch.index_prefix
    try:
        client.indices.refresh(index=",".join(alias(s.elasticsearch, k) for k in Kind), ignore_unavailable=True)
        out: dict[Kind, dict[str, dict[str, Any]]] = {}
        for kind in Kind:
            hits = client.search(index=alias(s.elasticsearch, kind), size=10_000, version=True,
                                 query={"match_all": {}}, ignore_unavailable=True)["hits"]["hits"]
            out[kind] = {h["_id"]: {"_index": h["_index"].removeprefix(prefix), "_version": h["_version"],
                                    "_source": h["_source"]} for h in hits}
        return out
    finally:
        client.close()


def drop_indices(s: Settings) -> None:
    """Delete the indices and templates of ``s`` (by name: the server refuses wildcard deletes)."""
    client = elasticsearch_client(s.elasticsearch)
    try:
        delete_indices(client, f"{s.elasticsearch.index_prefix}-")
        for kind in Kind:
            _delete_template(client, alias(s.elasticsearch, kind))
    finally:
        client.close()


def _delete_template(client: Any, name: str) -> None:
    from elasticsearch import NotFoundError

    try:
        client.indices.delete_index_template(name=name)
    except NotFoundError:
        pass


@pytest.fixture
def runs(pipeline_settings: Settings) -> Iterator[dict[str, Settings]]:
    """Isolated runs (topics, indices, group) of the same test; indices dropped at the end."""
    variants = {name: derive(pipeline_settings, f"{name}{uuid.uuid4().hex[:4]}") for name in
                ("once", "twice", "shuffled")}
    # One record a bulk request: nothing to coalesce, so each older digest count reaches
    # Elasticsearch and its external version is what refuses it (409).
    variants["shuffled_one_by_one"] = derive(pipeline_settings, f"single{uuid.uuid4().hex[:4]}", bulk_max_docs=1)
    for s in variants.values():
        ensure_topics(s.kafka)
    yield variants
    for s in variants.values():
        drop_indices(s)


def test_twice_and_shuffled_streams_end_as_their_topics_and_a_second_reading_writes_nothing(
    runs: dict[str, Settings]
) -> None:
    stream = incident_stream()
    shuffled = list(stream.records)
    random.Random(20261129).shuffle(shuffled)
    plans = {"once": stream.records, "twice": stream.records + stream.records, "shuffled": shuffled,
             "shuffled_one_by_one": shuffled}
    counts, wanted = {}, {}
    for name, records in plans.items():
        wanted[name] = last_records(records, produce(runs[name], records))
        counts[name] = run_sink_until(runs[name], len(records))
    snaps = {name: snapshot(s) for name, s in runs.items()}

    once = snaps["once"]
    assert {i: d["_source"] for i, d in once[Kind.INCIDENTS].items()} == \
        {i: inc.model_dump(mode="json") for i, inc in stream.incidents.items()}, "latest revision of every incident"
    assert set(once[Kind.HISTORY]) == set(stream.changes), "one history document per transition"
    assert {i: d["_version"] for i, d in once[Kind.EVENTS].items()} == \
        {i: dg.repeat_count for i, dg in stream.digests.items()}, "every digest at its highest count"
    assert len({d["_index"] for d in once[Kind.EVENTS].values()}) == 4, "four daily events indices"
    for name, snap in snaps.items():
        assert held(snap, Kind.INCIDENTS) == wanted[name][Kind.INCIDENTS], f"{name}: each incident's last record"
        assert held(snap, Kind.HISTORY) == wanted[name][Kind.HISTORY], f"{name}: each change's last record"
        assert snap[Kind.EVENTS] == once[Kind.EVENTS], f"{name}: digests at their highest count"
    # Sent twice, the same records: the same documents, at the second copy's versions.
    assert {i: d["_source"] for i, d in snaps["twice"][Kind.INCIDENTS].items()} == \
        {i: d["_source"] for i, d in once[Kind.INCIDENTS].items()}
    # Shuffled, an incident whose last record is an older revision shows that one: stage 2 never
    # sends an older revision after a newer one but after a crash, where the replay's is the truth.
    assert any(d["_source"]["revision"] < stream.incidents[i].revision
               for i, d in snaps["shuffled"][Kind.INCIDENTS].items())
    assert counts["shuffled"].superseded > 0, "older versions in a batch were held back, not written"
    assert counts["shuffled_one_by_one"].already_applied > 0, "shuffled digest counts arrived late: 409"
    assert counts["shuffled_one_by_one"].superseded == 0
    assert all(c.dead_lettered == 0 for c in counts.values())

    # A second sink (its own group) reading the "once" topics again writes nothing new.
    once_s = runs["once"]
    again = once_s.model_copy(update={"sink": once_s.sink.model_copy(update={"group_id": f"{once_s.sink.group_id}-again"})})
    recount = run_sink_until(again, len(stream.records))
    assert recount.already_applied + recount.superseded == len(stream.records), recount
    assert snapshot(runs["once"]) == once
