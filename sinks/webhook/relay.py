"""The webhook sink's loop: consume ``incident-changes``, POST each to every URL, then commit.

Offsets are committed only after every record of a poll was delivered to every URL or
dead-lettered (reason, URL, last status, original bytes), so a crash re-sends rather than loses;
receivers deduplicate on ``Idempotency-Key``, the record's ``ce_id`` (``cloudevents.ce_id``).
"""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter
from typing import Any

import structlog
import urllib3
from deskwatch.schemas import DeadLetter
from deskwatch.schemas.change import IncidentChange
from deskwatch.sinks.membership import GroupKeeper
from deskwatch.sinks.static_member import Member, claim
from deskwatch.sinks.webhook.cloudevents import ce_id, header_map
from deskwatch.sinks.webhook.deliver import Attempt, Outcome, deliver
from deskwatch.sinks.webhook.hold import NotificationHold
from deskwatch.sinks.webhook.sign import IDEMPOTENCY_HEADER, SIGNATURE_HEADER, signature
from kafka import KafkaConsumer, KafkaProducer, TopicPartition
from kafka.structs import OffsetAndMetadata
from pydantic import ValidationError

from deskwatch.connect import kafka_python_options
from deskwatch.members import leave
from deskwatch.settings import Settings
from deskwatch.topology import DEAD_LETTER, INCIDENT_CHANGES

log = structlog.get_logger(__name__)


class WebhookConfigError(ValueError):
    """The webhook section cannot work as configured."""


def child_rules(settings: Settings) -> frozenset[str]:
    """The ids of the rules some rule absorbs, in the rule set the processor runs."""
    from deskwatch.processors.rules import RuleError, load_configured

    try:
        rules = load_configured(settings.processor.rule_files)
    except (OSError, RuleError) as exc:
        raise WebhookConfigError(f"processor.rule_files: {exc}") from None
    return rules.children


def request_headers(change: IncidentChange, body: bytes, secret: bytes, ce: dict[str, str]) -> dict[str, str]:
    """Content type, signature, idempotency key, and the CloudEvents attributes as ``ce-*`` headers."""
    headers = {"Content-Type": "application/json", SIGNATURE_HEADER: signature(secret, body),
               IDEMPOTENCY_HEADER: ce.get("ce_id") or ce_id(change, body), "User-Agent": "deskwatch-webhook"}
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
        self._member = Member(None)
        self._letters: list[Any] = []  # send futures of this poll's dead letters
        self.keeper = GroupKeeper("webhook", self._new_consumer, hook.heartbeat_interval_s, hook.rejoin_after_s)
        # Holding only matters to receivers of notifications; one that takes every change gets them as they come.
        self._hold = NotificationHold(child_rules(settings), hook.absorb_wait_s if hook.notify_only else 0.0)
        self._next: dict[tuple[str, int], int] = {}  # per partition: one past the last record consumed

    def start(self) -> None:
        """Connect (no I/O happens in the constructor)."""
        kopts = kafka_python_options(self._settings.kafka)
        hook = self._settings.webhook
        self._member = claim(hook.instance_id, hook.group_id, hook.state_dir, socket.gethostname(), "webhook relay")
        self._consumer = self._new_consumer()
        self._producer = KafkaProducer(client_id="deskwatch-webhook-dlq", enable_idempotence=True, acks="all", **kopts)
        self._http = urllib3.PoolManager(num_pools=max(4, len(self._settings.webhook.urls)))
        log.info("webhook relay started", group=hook.group_id, member=self._member.instance_id,
                 receivers=len(hook.urls))

    def _new_consumer(self) -> Any:
        return KafkaConsumer(
            INCIDENT_CHANGES.name(self._settings.kafka), group_id=self._settings.webhook.group_id,
            group_instance_id=self._member.instance_id,
            enable_auto_commit=False, auto_offset_reset="earliest", max_poll_records=100,
            client_id="deskwatch-webhook", **kafka_python_options(self._settings.kafka))

    def step(self, timeout_s: float = 0.5) -> int:
        """Poll once, deliver or dead-letter every record (or hold it, ``hold.py``), deliver the
        held changes whose wait is over, commit up to the first record still held; return the
        records consumed. Then check the consumer's membership (heartbeat line, orphaned join
        mended, stalled consumer replaced)."""
        polled = self._consumer.poll(timeout_ms=int(timeout_s * 1000))
        records = [r for batch in polled.values() for r in batch]
        self._forget_revoked()
        now = time.monotonic()
        for record in records:
            tp = (record.topic, record.partition)
            if record.offset < self._next.get(tp, 0):  # read again from the commit (a rebalance that kept it)
                self._hold.forget_partition(tp)  # what it held there comes again, in order
            self._handle(record, now)
            self._next[tp] = record.offset + 1
        released = self._hold.due(now)
        for change, record in released:
            self._deliver(change, record)
        if records or released:
            self._producer.flush()
            for future in self._letters:  # raises if a dead letter was not stored: nothing is committed
                future.get(timeout=30)
            self._letters.clear()
            self._commit()
            self.counts["consumed"] += len(records)
        consumer = self.keeper.check(self._consumer, self.counts["consumed"])
        if consumer is not self._consumer:  # a new member reads from the last commit: hold it all anew
            self._hold.forget()
            self._next.clear()
        self._consumer = consumer
        return len(records)

    def _forget_revoked(self) -> None:
        """Held records of partitions this member no longer owns are read again by their owner."""
        owned = {(tp.topic, tp.partition) for tp in self._consumer.assignment()}
        if self._hold and not owned.issuperset(self._hold.first_held()):
            self._hold.forget(keep=owned)
        for tp in [tp for tp in self._next if tp not in owned]:
            del self._next[tp]

    def _commit(self) -> None:
        """Commit what was consumed, but never past a held record."""
        held = self._hold.first_held()
        offsets = {TopicPartition(*tp): OffsetAndMetadata(min(end, held.get(tp, end)), "", -1)
                   for tp, end in self._next.items()}
        if offsets:
            self._consumer.commit(offsets)
        self.counts["held"] = len(self._hold)
        self.counts["absorbed_while_held"] = self._hold.dropped

    def run(self, stop: threading.Event) -> None:
        """Loop until ``stop`` is set."""
        while not stop.is_set():
            self.step()

    def close(self, leave_group: bool = False) -> None:
        """Close the clients; with ``leave_group``, then remove this static member from its group
        (``leave_group_on_stop``), before its slot is free for another relay to join under its id."""
        for closeable in (self._consumer, self._producer):
            if closeable is not None:
                closeable.close()
        if self._http is not None:
            self._http.clear()
        if leave_group:
            leave(self._settings, "webhook", self._member.instance_id)
        self._member.release()

    def _handle(self, record: Any, now: float) -> None:
        try:
            change = IncidentChange.model_validate_json(record.value)
        except ValidationError as exc:
            self._dead_letter(record, "invalid_change", str(exc)[:500])
            return
        for ready, its_record in self._hold.offer(change, record, now):
            self._deliver(ready, its_record)

    def _deliver(self, change: IncidentChange, record: Any) -> None:
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
