"""Where an incident's latency goes: each hop's time, from Kafka record timestamps and a realtime GET.

Kafka stamps a record with its CreateTime, the moment the producer's ``send`` is called, so for the
event that opened an incident (its stamped send time ``at``):

- ``tail``: ``at`` → the events record carrying it (file poll, envelope linger);
- ``stage1``: events record → the first signal of its group covering ``at`` (producer linger,
  broker, fetch wait, batch wait, processing);
- ``stage2``: signal → the incident's first record;
- ``sink``: incident record → the document is returned by a realtime GET (producer linger, the
  sink's fetch and batching, the bulk request);
- ``refresh``: realtime GET → first found by search (the index refresh, the 50 ms search poll).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import orjson
from elasticsearch import ApiError
from kafka import KafkaConsumer, TopicPartition

from deskwatch.connect import elasticsearch_client, kafka_python_options
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.templates import incidents_alias
from deskwatch.topology import EVENTS, INCIDENTS, SIGNALS, TopicSpec

HOPS = ("tail", "stage1", "stage2", "sink", "refresh")
WATCH_S = 0.02


def _epoch(text: str) -> float:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def _consumer(s: Settings, spec: TopicSpec) -> KafkaConsumer:
    consumer = KafkaConsumer(enable_auto_commit=False, **kafka_python_options(s.kafka))
    name = spec.name(s.kafka)
    consumer.assign([TopicPartition(name, p) for p in consumer.partitions_for_topic(name) or ()])
    consumer.seek_to_beginning()
    return consumer


def records(s: Settings, spec: TopicSpec) -> Iterator[tuple[float, bytes]]:
    """(CreateTime in epoch seconds, value) of every record the topic holds now."""
    consumer = _consumer(s, spec)
    try:
        ends = consumer.end_offsets(list(consumer.assignment()))
        while any(consumer.position(tp) < end for tp, end in ends.items()):
            for batch in consumer.poll(timeout_ms=500).values():
                for r in batch:
                    yield r.timestamp / 1000, r.value or b""
    finally:
        consumer.close()


class IndexWatcher(threading.Thread):
    """Notes when each incident id on the topic is first returned by a realtime GET (before refresh)."""

    def __init__(self, s: Settings) -> None:
        super().__init__(daemon=True)
        self._s = s
        self.indexed: dict[str, float] = {}
        self.stop = threading.Event()

    def run(self) -> None:
        client, alias = elasticsearch_client(self._s.elasticsearch), incidents_alias(self._s.elasticsearch)
        consumer = _consumer(self._s, INCIDENTS)
        pending: set[str] = set()
        try:
            while not self.stop.is_set():
                for batch in consumer.poll(timeout_ms=1).values():
                    pending.update(orjson.loads(r.value)["id"] for r in batch if r.value)
                pending -= self.indexed.keys()
                if pending:
                    self._get(client, alias, pending)
                self.stop.wait(WATCH_S)
        finally:
            consumer.close()

    def _get(self, client: Any, alias: str, ids: set[str]) -> None:
        try:
            docs = client.mget(index=alias, ids=sorted(ids), realtime=True, source=False)["docs"]
        except ApiError:
            return  # no index yet
        now = time.time()
        for doc in docs:
            if doc.get("found"):
                self.indexed.setdefault(doc["_id"], now)


def hop_times(s: Settings, opened: dict[str, float], found: dict[str, float],
              indexed: dict[str, float]) -> dict[str, list[float]]:
    """Seconds spent in each hop, per incident whose whole chain was seen."""
    envelope_at: dict[int, float] = {}
    for ts, value in records(s, EVENTS):
        for event in orjson.loads(value).get("events", ()):
            envelope_at.setdefault(round(_epoch(event["@timestamp"]) * 1e6), ts)
    signals: dict[str, list[tuple[float, float, float]]] = {}
    for ts, value in records(s, SIGNALS):
        doc = orjson.loads(value)
        if doc.get("kind") == "signal":
            signals.setdefault(doc["group_key"], []).append((_epoch(doc["first_seen"]), _epoch(doc["last_seen"]), ts))
    incident_at: dict[str, tuple[float, str]] = {}
    for ts, value in records(s, INCIDENTS):
        doc = orjson.loads(value)
        incident_at.setdefault(doc["id"], (ts, doc["group_key"]))
    hops: dict[str, list[float]] = {h: [] for h in HOPS}
    for iid, at in opened.items():
        if iid not in found or iid not in indexed or iid not in incident_at:
            continue
        inc_ts, group_key = incident_at[iid]
        ev_ts = envelope_at.get(round(at * 1e6))
        sig = [ts for first, last, ts in signals.get(group_key, ()) if first - 1e-6 <= at <= last + 1e-6]
        if ev_ts is None or not sig:
            continue
        marks = (at, ev_ts, min(sig), inc_ts, indexed[iid], found[iid])
        for name, start, end in zip(HOPS, marks, marks[1:], strict=False):
            hops[name].append(end - start)
    return hops
