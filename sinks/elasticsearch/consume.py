"""The sink's loop: consume a topic, bulk-write to Elasticsearch, commit only what ES acknowledged.

Offsets are committed after the bulk request settled every item (indexed, already applied, or
dead-lettered), so a crash or an Elasticsearch outage replays records rather than losing them, and
external versions make the replay harmless.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from typing import Any

import structlog
from kafka import KafkaConsumer, KafkaProducer
from pydantic import ValidationError

from deskwatch.connect import elasticsearch_client, kafka_python_options
from deskwatch.schemas import DeadLetter, Incident
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.encode import BulkItem, incident_item
from deskwatch.sinks.elasticsearch.templates import ensure_indices, incidents_alias
from deskwatch.sinks.elasticsearch.write import Outcome, write_items
from deskwatch.topology import DEAD_LETTER, INCIDENTS

log = structlog.get_logger(__name__)


@dataclass
class SinkCounts:
    consumed: int = 0
    indexed: int = 0
    already_applied: int = 0
    dead_lettered: int = 0


class IncidentSink:
    """Moves the ``incidents`` topic into the incidents alias."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._alias = incidents_alias(settings.elasticsearch)
        self._dlq_topic = DEAD_LETTER.name(settings.kafka)
        self.counts = SinkCounts()
        self._es: Any = None
        self._consumer: Any = None
        self._producer: Any = None

    def start(self) -> None:
        """Connect, and create templates and indices (no I/O happens in the constructor)."""
        kopts = kafka_python_options(self._settings.kafka)
        self._es = elasticsearch_client(self._settings.elasticsearch)
        self._es.cluster.health(wait_for_status="yellow", timeout="60s")
        ensure_indices(self._es, self._settings.elasticsearch)
        self._consumer = KafkaConsumer(
            INCIDENTS.name(self._settings.kafka), group_id=self._settings.sink.group_id,
            enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=self._settings.sink.bulk_max_docs,
            client_id="deskwatch-sink", **kopts,
        )
        self._producer = KafkaProducer(client_id="deskwatch-sink-dlq", enable_idempotence=True, acks="all", **kopts)

    def step(self, timeout_s: float | None = None) -> int:
        """Poll once, write what came, commit; return the number of records handled."""
        timeout_ms = int(1000 * (timeout_s if timeout_s is not None else self._settings.sink.flush_interval_s))
        polled = self._consumer.poll(timeout_ms=timeout_ms, max_records=self._settings.sink.bulk_max_docs)
        records = [r for batch in polled.values() for r in batch]
        if not records:
            return 0
        items = [item for item in map(self._decode, records) if item is not None]
        if items:
            self._write(items)
        self._producer.flush()
        self._consumer.commit()
        self.counts.consumed += len(records)
        return len(records)

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set."""
        while not stop.is_set():
            self.step()

    def close(self) -> None:
        for closeable in (self._consumer, self._producer, self._es):
            if closeable is not None:
                closeable.close()

    def _decode(self, record: Any) -> BulkItem | None:
        origin = f"{record.topic}:{record.partition}:{record.offset}"
        try:
            incident = Incident.model_validate_json(record.value)
        except ValidationError as exc:
            self._dead_letter("invalid_incident", str(exc)[:500], origin, record.value)
            return None
        return incident_item(incident, self._alias, origin, record.value)

    def _write(self, items: list[BulkItem]) -> None:
        report = write_items(self._es, items, self._settings.sink.retry_max_backoff_s)
        self.counts.indexed += report.counts[Outcome.INDEXED]
        self.counts.already_applied += report.counts[Outcome.ALREADY_APPLIED]
        for item, reason in report.rejected:
            self._dead_letter("rejected_by_elasticsearch", reason, item.origin, item.original)

    def _dead_letter(self, reason: str, detail: str, origin: str, original: bytes) -> None:
        letter = DeadLetter.of(reason=reason, detail=detail, stage="sink", source=origin.rsplit(":", 2)[0],
                               position=origin, original=original)
        self._producer.send(self._dlq_topic, key=letter.source.encode(), value=letter.model_dump_json().encode())
        self.counts.dead_lettered += 1
        log.warning("dead-lettered", reason=reason, origin=origin)
