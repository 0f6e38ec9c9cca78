"""The webhook sink's loop: consume ``incident-changes``, POST each to every URL, then commit.

Offsets are committed only after every record of a poll was delivered to every URL or
dead-lettered (reason, URL, last status, original bytes), so a crash re-sends rather than loses;
receivers deduplicate on ``Idempotency-Key`` = ``<incident id>:<revision>``.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Any

import structlog
import urllib3
from deskwatch.schemas import DeadLetter
from deskwatch.schemas.change import IncidentChange
from deskwatch.sinks.membership import GroupKeeper
from deskwatch.sinks.webhook.cloudevents import ce_id, header_map
from deskwatch.sinks.webhook.deliver import Attempt, Outcome, deliver
from deskwatch.sinks.webhook.sign import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signature
from kafka import KafkaConsumer, KafkaProducer
from pydantic import ValidationError

from deskwatch.connect import kafka_python_options
from deskwatch.settings import Settings
from deskwatch.topology import DEAD_LETTER, INCIDENT_CHANGES

log = structlog.get_logger(__name__)


class WebhookConfigError(ValueError):
    """The webhook section cannot work as configured."""


def request_headers(change: IncidentChange, body: bytes, secret: bytes, ce: dict[str, str]) -> dict[str, str]:
    """Content type, signature, idempotency key, and the CloudEvents attributes as ``ce-*`` headers."""
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, body),
               IDEMPOTENCY_HEADER: ce_id(change), "User-Agent": "deskwatch-webhook"}
    headers.update({f"ce-{k[3:]}": v for k, v in ce.items() if k.startswith("ce_")})
    return headers


class WebhookRelay:
    """Moves ``incident-changes`` to the configured URLs."""

    def __init__(self, settings: Settings, sleep: Any = None) -> None:
        hook = settings.webhook
        if not hook.urls:
            raise WebhookConfigError("webhook.urls is empty: set DESKWATCH_WEBHOOK__URLS or webhook.urls")
        if hook.secret is None:
            raise WebhookConfigError("webhook.secret is not set: receivers could not verify the signature")
        self._settings = settings
        self._secret = hook.secret.get_secret_value().encode()
        self._sleep = sleep
        self.counts: Counter[str] = Counter()
        self._consumer: Any = None
        self._producer: Any = None
        self._http: Any = None
        self._letters: list[Any] = []  # send futures of this poll's dead letters
        self.keeper = GroupKeeper("webhook", self._new_consumer, hook.heartbeat_interval_s, hook.rejoin_after_s)

    def start(self) -> None:
        """Connect (no I/O happens in the constructor)."""
        kopts = kafka_python_options(self._settings.kafka)
        self._consumer = self._new_consumer()
        self._producer = KafkaProducer(client_id="deskwatch-webhook-dlq", enable_idempotence=True, acks="all", **kopts)
        self._http = urllib3.PoolManager(num_pools=max(4, len(self._settings.webhook.urls)))

    def _new_consumer(self) -> Any:
        return KafkaConsumer(
            INCIDENT_CHANGES.name(self._settings.kafka), group_id=self._settings.webhook.group_id,
            enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=100,
            client_id="deskwatch-webhook", **kafka_python_options(self._settings.kafka))

    def step(self, timeout_s: float = 0.5) -> int:
        """Poll once, deliver or dead-letter every record, commit; return the records handled. Then
        check the consumer's membership (heartbeat line, orphaned join mended, stalled consumer replaced)."""
        polled = self._consumer.poll(timeout_ms=int(timeout_s * 1000))
        records = [r for batch in polled.values() for r in batch]
        for record in records:
            self._handle(record)
        if records:
            self._producer.flush()
            for future in self._letters:  # raises if a dead letter was not stored: nothing is committed
                future.get(timeout=30)
            self._letters.clear()
            self._consumer.commit()
            self.counts["consumed"] += len(records)
        self._consumer = self.keeper.check(self._consumer, self.counts["consumed"])
        return len(records)

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set."""
        while not stop.is_set():
            self.step()

    def close(self) -> None:
        for closeable in (self._consumer, self._producer):
            if closeable is not None:
                closeable.close()
        if self._http is not None:
            self._http.clear()

    def _handle(self, record: Any) -> None:
        try:
            change = IncidentChange.model_validate_json(record.value)
        except ValidationError as exc:
            self._dead_letter(record, "invalid_change", str(exc)[:500])
            return
        if self._settings.webhook.notify_only and not change.notify:
            self.counts["skipped_quiet"] += 1
            return
        headers = request_headers(change, record.value, self._secret, header_map(record.headers))
        for url in self._settings.webhook.urls:
            kwargs = {"sleep": self._sleep} if self._sleep else {}
            result = deliver(self._http, url, record.value, headers, self._settings.webhook, **kwargs)
            self.counts[result.outcome.value] += 1
            if result.outcome is not Outcome.DELIVERED:
                self._dead_letter(record, f"webhook_{result.outcome.value}", _detail(result))

    def _dead_letter(self, record: Any, reason: str, detail: str) -> None:
        letter = DeadLetter.of(reason=reason, detail=detail, stage="webhook", source=record.topic,
                               position=f"{record.partition}:{record.offset}", original=record.value)
        self._letters.append(self._producer.send(DEAD_LETTER.name(self._settings.kafka), key=record.topic.encode(),
                                                 value=letter.model_dump_json().encode()))
        self.counts["dead_lettered"] += 1
        log.warning("dead-lettered", stage="webhook", reason=reason, detail=detail)


def _detail(result: Attempt) -> str:
    return (f"url={result.url} attempts={result.attempts} last_status={result.last_status} "
            f"reason={result.reason}")
