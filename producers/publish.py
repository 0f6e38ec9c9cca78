"""Publish host envelopes and dead letters to Kafka with kafka-python (idempotent, acks=all).

Delivery is tracked per envelope: ``confirmed()`` tells how far the broker has acknowledged, so a
source's checkpoint advances only past events the broker holds.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

import structlog
from kafka import KafkaProducer
from pydantic import TypeAdapter

from deskwatch.connect import kafka_python_producer_options
from deskwatch.producers.envelope import WireBatch
from deskwatch.schemas import DeadLetter, EventBatch
from deskwatch.settings import KafkaSettings, ProducerSettings
from deskwatch.topology import DEAD_LETTER, EVENTS

log = structlog.get_logger(__name__)
_BATCH: TypeAdapter[EventBatch] = TypeAdapter(EventBatch)


class PublishError(Exception):
    """The broker did not acknowledge a record after the client's own retries."""


@dataclass
class _InFlight:
    future: Any
    events: int
    watermark: Any  # the source position after the envelope's last event, for checkpoints


class Publisher:
    """Sends envelopes and dead letters; keeps at most ``max_in_flight`` envelopes unacknowledged."""

    def __init__(self, kafka: KafkaSettings, producer: ProducerSettings, max_in_flight: int = 2000) -> None:
        self._events_topic = EVENTS.name(kafka)
        self._dlq_topic = DEAD_LETTER.name(kafka)
        self._max_in_flight = max_in_flight
        self._in_flight: deque[_InFlight] = deque()
        self.published_events = 0
        self.dead_lettered = 0
        self._client = KafkaProducer(client_id="deskwatch-producer", **kafka_python_producer_options(kafka, producer))

    def send_batch(self, batch: EventBatch | WireBatch, watermark: Any = None) -> None:
        """Queue one envelope keyed by its host; blocks when too many are unacknowledged."""
        if isinstance(batch, WireBatch):
            value, count = batch.value, batch.count
        else:  # bytes straight from the serializer: model_dump_json's str would be encoded again
            value, count = _BATCH.dump_json(batch, by_alias=True, exclude_none=True), len(batch.events)
        future = self._client.send(self._events_topic, key=batch.host.encode(), value=value)
        self._in_flight.append(_InFlight(future, count, watermark))
        if len(self._in_flight) > self._max_in_flight:
            self._settle(block_until=len(self._in_flight) - self._max_in_flight // 2)

    def send_dead_letter(self, letter: DeadLetter) -> None:
        """Queue one dead letter keyed by its source."""
        value = letter.model_dump_json().encode()
        future = self._client.send(self._dlq_topic, key=letter.source.encode(), value=value)
        self._in_flight.append(_InFlight(future, 0, None))
        self.dead_lettered += 1

    def confirmed(self) -> Any:
        """Settle what the broker has acknowledged so far; return the newest confirmed watermark."""
        return self._settle(block_until=0)

    def flush(self, timeout_s: float = 60.0) -> Any:
        """Wait until every queued record is acknowledged; return the last watermark."""
        self._client.flush(timeout=timeout_s)
        return self._settle(block_until=len(self._in_flight))

    def close(self) -> None:
        self.flush()
        self._client.close()

    def _settle(self, block_until: int) -> Any:
        watermark = None
        settled = 0
        while self._in_flight:
            head = self._in_flight[0]
            if settled >= block_until and not head.future.is_done:
                break
            try:
                head.future.get(timeout=60)
            except Exception as exc:  # kafka-python raises KafkaError subclasses
                raise PublishError(f"broker did not acknowledge a record: {exc!r}") from exc
            self._in_flight.popleft()
            settled += 1
            self.published_events += head.events
            if head.watermark is not None:
                watermark = head.watermark
        return watermark
