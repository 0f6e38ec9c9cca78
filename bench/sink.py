"""Sink throughput against plain ``elasticsearch.helpers.bulk`` of the same documents, same server.

Run: ``.venv/bin/python bench/sink.py [--docs 50000] [--runs 3]`` (needs the engines: ``deskwatch stack up``).

The records (digests, incidents and their transitions, as stage 1 and 2 write them) are produced
once to fresh topics. Each run then indexes them into fresh indices twice:
- **sink**: ``deskwatch.sinks.elasticsearch.consume.Sink`` with a new consumer group, timed from
  its first poll once it joined the group until every record is indexed and its offset committed
  (Kafka fetch, contract validation, encoding, bulk, commit);
- **helpers.bulk**: the same documents (same ``_index``, ``_id``, external version, same JSON),
  already in memory, sent by ``elasticsearch.helpers.bulk`` in chunks of the sink's batch size.
It prints every run, the medians and their ratio, then deletes its indices, templates and topics.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import orjson
from elasticsearch import helpers
from kafka import KafkaProducer
from kafka.admin import KafkaAdminClient

from deskwatch.connect import elasticsearch_client, kafka_python_options
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.digest import EventDigest, digest_id
from deskwatch.schemas.incident import ChangeReason, Incident, IncidentStatus, Severity
from deskwatch.settings import Settings, load_settings
from deskwatch.sinks.elasticsearch.consume import Sink
from deskwatch.sinks.elasticsearch.encode import BulkItem, encode_record
from deskwatch.sinks.elasticsearch.write import BULK_FILTER
from deskwatch.sinks.elasticsearch.templates import Kind, alias, delete_indices, ensure_indices
from deskwatch.topics import ensure_topics
from deskwatch.topology import EVENT_DIGESTS, INCIDENT_CHANGES, INCIDENTS, TOPICS

T0 = datetime(2026, 11, 29, 8, tzinfo=timezone.utc)
Record = tuple[str, bytes, bytes]


def records(n: int) -> list[Record]:
    """``n`` records: 80 % event digests, 10 % incidents, 10 % their transitions."""
    out: list[Record] = []
    for i in range(n):
        at = T0 + timedelta(seconds=i)
        if i % 10 == 0:
            inc = Incident(id=f"inc-{i}", rule_id="disk-errors", group_key=f"PC-{i % 5000}", title="Disk errors",
                           hosts=[f"PC-{i % 5000}"], host_count=1, first_seen=at, last_seen=at, event_count=3,
                           revision=1, sample_message="The device has a bad block.", group={"host": f"PC-{i}"})
            out.append((INCIDENTS.role, inc.id.encode(), inc.model_dump_json().encode()))
        elif i % 10 == 1:
            ch = IncidentChange(incident_id=f"inc-{i - 1}", revision=1, rule_id="disk-errors", rule_version=1,
                                group_key=f"PC-{i % 5000}", from_status=None, to_status=IncidentStatus.OPEN,
                                reason=ChangeReason.OPENED, severity=Severity.MEDIUM, at=at)
            out.append((INCIDENT_CHANGES.role, ch.incident_id.encode(), ch.model_dump_json().encode()))
        else:
            dg = EventDigest(digest_id=digest_id(f"fp{i}", at), fingerprint=f"fp{i}", window_start=at,
                             repeat_count=1 + i % 7, first_seen=at, last_seen=at, host=f"PC-{i % 5000}",
                             provider="Microsoft-Windows-GroupPolicy", event_code="1058",
                             template="The processing of Group Policy failed <n>", site=f"site-{i % 40}",
                             sample_message=f"The processing of Group Policy failed ({i})", rule_ids=["gpo"])
            out.append((EVENT_DIGESTS.role, dg.host.encode(), dg.model_dump_json().encode()))
    return out


def produce(s: Settings, recs: list[Record]) -> list[str]:
    """Send every record to its topic and wait for the acks (not timed); each record's origin
    (``topic:partition:offset``), which an incident's and a change's version is read from."""
    producer = KafkaProducer(acks="all", linger_ms=20, batch_size=262_144, **kafka_python_options(s.kafka))
    names = {spec.role: spec.name(s.kafka) for spec in (INCIDENTS, INCIDENT_CHANGES, EVENT_DIGESTS)}
    sent = [producer.send(names[role], key=key, value=value) for role, key, value in recs]
    producer.flush()
    producer.close()
    return [f"{m.topic}:{m.partition}:{m.offset}" for m in (f.get(timeout=60) for f in sent)]


def with_prefix(base: Settings, run: str) -> Settings:
    """``base`` with fresh indices and a fresh consumer group for one run."""
    return base.model_copy(update={
        "elasticsearch": base.elasticsearch.model_copy(update={"index_prefix": f"{base.elasticsearch.index_prefix}-{run}"}),
        "sink": base.sink.model_copy(update={"group_id": f"{base.sink.group_id}-{run}"}),
    })


def joined(sink: Sink, timeout_s: float = 60.0) -> None:
    """Wait until the sink's consumer has its partitions, then rewind them to their start: the
    clock then times consuming and indexing, not the group's join (~0.4 s, most of a small run's
    time until 2026-12-07). A record fetched meanwhile is dropped by the rewind and read again."""
    consumer = sink._consumer  # noqa: SLF001 - the bench reaches into the sink it times
    deadline = time.monotonic() + timeout_s
    while not consumer.assignment():
        if time.monotonic() > deadline:
            raise TimeoutError(f"the sink's consumer got no partition in {timeout_s:g} s")
        consumer.poll(timeout_ms=100, max_records=1)
    consumer.seek_to_beginning(*consumer.assignment())


def time_sink(s: Settings, n: int) -> float:
    """Seconds the sink takes from its first poll after joining its group to ``n`` records indexed
    and committed."""
    stop = threading.Event()
    sink = Sink(s, stop)
    sink.start()
    joined(sink)
    start = time.perf_counter()
    while sink.counts.consumed < n:
        sink.step()
    elapsed = time.perf_counter() - start
    assert sink.counts.indexed == n, sink.counts
    sink.close()
    return elapsed


def time_helpers_bulk(s: Settings, recs: list[Record], origins: list[str]) -> float:
    """Seconds ``helpers.bulk`` takes for the same documents, held in memory as dicts (each
    encoded from its record's origin, as the sink encodes it: the same versions)."""
    client = elasticsearch_client(s.elasticsearch)
    ensure_indices(client, s.elasticsearch)
    items = [encode_record(role, value, s.elasticsearch, origin)
             for (role, _, value), origin in zip(recs, origins, strict=True)]
    actions = [_action(item) for item in items]
    start = time.perf_counter()
    ok, errors = helpers.bulk(client, actions, chunk_size=s.sink.bulk_max_docs,
                              max_chunk_bytes=s.sink.bulk_max_bytes, raise_on_error=True,
                              filter_path=BULK_FILTER)  # the same trimmed response as the sink's
    elapsed = time.perf_counter() - start
    assert ok == len(recs) and not errors
    client.close()
    return elapsed


def _action(item: BulkItem) -> dict[str, Any]:
    return {"_index": item.index, "_id": item.doc_id, "_version": item.version, "_version_type": "external",
            "_source": orjson.loads(item.body)}


def count_docs(s: Settings) -> int:
    """Documents in the aliases of ``s`` (after a refresh; a kind never written has none)."""
    client = elasticsearch_client(s.elasticsearch)
    names = ",".join(alias(s.elasticsearch, k) for k in Kind)
    client.indices.refresh(index=names, ignore_unavailable=True)
    total = int(client.count(index=names, ignore_unavailable=True)["count"])
    client.close()
    return total


def cleanup(base: Settings, runs: list[str]) -> None:
    """Delete the bench's indices, templates and topics."""
    client = elasticsearch_client(base.elasticsearch)
    delete_indices(client, f"{base.elasticsearch.index_prefix}-")
    for run in runs:
        for kind in Kind:
            client.indices.delete_index_template(name=alias(with_prefix(base, run).elasticsearch, kind))
    client.close()
    admin = KafkaAdminClient(**kafka_python_options(base.kafka))
    admin.delete_topics([spec.name(base.kafka) for spec in TOPICS])
    admin.close()


def table(rows: list[tuple[str, float, float]], n: int) -> str:
    """The results as a Markdown table: docs/s of each, and the sink's share of helpers.bulk."""
    lines = ["| run | sink docs/s | helpers.bulk docs/s | sink / bulk |", "|---|---:|---:|---:|"]
    for name, sink_s, bulk_s in rows:
        lines.append(f"| {name} | {n / sink_s:,.0f} | {n / bulk_s:,.0f} | {bulk_s / sink_s:.2f} |")
    med_sink = statistics.median(r[1] for r in rows)
    med_bulk = statistics.median(r[2] for r in rows)
    lines.append(f"| **median** | **{n / med_sink:,.0f}** | **{n / med_bulk:,.0f}** | **{med_bulk / med_sink:.2f}** |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--docs", type=int, default=50_000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    result = measure(args.docs, args.runs)
    print(f"\n{result['docs']:,} documents per run, bulk size {result['bulk_size']}, one ES node, 1 shard per index\n")
    print(table(result["rows"], result["docs"]))


def measure(docs: int, runs: int) -> dict[str, Any]:
    """Produce once, time ``runs`` sink / helpers.bulk pairs; every run's seconds and the medians."""
    tag = uuid.uuid4().hex[:6]
    base = load_settings()
    base = base.separate(f"bench-{tag}")
    recs = records(docs)
    ensure_topics(base.kafka)
    origins = produce(base, recs)
    rows, run_names = [], []
    try:
        for r in range(runs):
            s_sink, s_bulk = with_prefix(base, f"s{r}"), with_prefix(base, f"b{r}")
            run_names += [f"s{r}", f"b{r}"]
            sink_s, bulk_s = time_sink(s_sink, len(recs)), time_helpers_bulk(s_bulk, recs, origins)
            assert count_docs(s_sink) == count_docs(s_bulk) == len(recs)
            rows.append((str(r + 1), sink_s, bulk_s))
            print(f"run {r + 1}: sink {sink_s:.2f}s, helpers.bulk {bulk_s:.2f}s", flush=True)
    finally:
        cleanup(base, run_names)
    return {"docs": len(recs), "bulk_size": base.sink.bulk_max_docs, "rows": rows,
            "sink_s": statistics.median(r[1] for r in rows), "bulk_s": statistics.median(r[2] for r in rows)}


if __name__ == "__main__":
    main()
