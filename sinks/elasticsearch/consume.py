"""The sink's loop: consume four topics, bulk-write to Elasticsearch, commit what ES settled.

One consumer group reads ``incidents``, ``incident-changes``, ``event-digests`` and
``dead-letter`` (so what was rejected is searchable beside what was accepted). Offsets are
committed only after the bulk request settled every item (indexed, already applied, or
dead-lettered with the dead letter acknowledged by Kafka), so a crash or an Elasticsearch outage
replays records rather than losing them, and the external versions make the replay harmless.

Decision: bulk requests run on writer threads (``sink.bulk_in_flight``, 2 by default) while the
loop's thread polls and encodes the next batch (the Elasticsearch client is thread-safe; the Kafka
consumer stays on the loop's thread). Batches are settled in the order they were polled: a batch's
outcome is counted, its refused items dead-lettered, then its own offsets committed (never the
consumer's position, which is past the batches polled since), so a commit never passes a batch
not yet settled. Two requests in flight may write the same document; its external version keeps
the newer (the older is answered 409, already applied), as a replay would. Done one after the
other, Elasticsearch waited while the sink polled and encoded and the sink waited while
Elasticsearch indexed: the figures are at ``SinkSettings.bulk_in_flight``.
"""

from __future__ import annotations

import socket
import threading
import time
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

import structlog
from elastic_transport import TransportError
from elasticsearch import ApiError
from kafka import KafkaConsumer, KafkaProducer
from kafka.errors import KafkaError
from kafka.structs import OffsetAndMetadata, TopicPartition
from pydantic import ValidationError

from deskwatch.connect import elasticsearch_client, kafka_python_consumer_options, kafka_python_options
from deskwatch.members import leave
from deskwatch.schemas import DeadLetter
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.batch import Batch
from deskwatch.sinks.elasticsearch.coalesce import Coalesced
from deskwatch.sinks.elasticsearch.encode import BulkItem, encode_record
from deskwatch.sinks.membership import GroupKeeper
from deskwatch.sinks.static_member import Member, claim
from deskwatch.sinks.elasticsearch.prune import prune_daily
from deskwatch.sinks.elasticsearch.refresh import IncidentRefresher, RefreshPacer
from deskwatch.sinks.elasticsearch.templates import ensure_indices, history_alias, incidents_alias
from deskwatch.sinks.elasticsearch.write import Outage, Outcome, until_answered, write_items
from deskwatch.topology import DEAD_LETTER, EVENT_DIGESTS, INCIDENT_CHANGES, INCIDENTS, TopicSpec

log = structlog.get_logger(__name__)

SOURCES: tuple[TopicSpec, ...] = (INCIDENTS, INCIDENT_CHANGES, EVENT_DIGESTS, DEAD_LETTER)
# An outage holds a batch in write_items; past this the group would evict us mid-retry.
MAX_POLL_INTERVAL_MS = 3_600_000
# How long an idle poll waits for a first record (it returns as soon as one arrives): bounds how
# late the loop notices a stop request or a due prune.
IDLE_POLL_MS = 200


class SinkStoppedError(Exception):
    """Raised inside a backoff when the sink is asked to stop: the batch is left uncommitted."""


@dataclass
class SinkCounts:
    """What the sink did since it started."""

    consumed: int = 0
    indexed: int = 0
    already_applied: int = 0
    superseded: int = 0  # an older write of a document the same batch wrote newer (coalesce.py)
    dead_lettered: int = 0
    not_indexed_letters: int = 0  # dead letters Elasticsearch refused: on their topic still, not searchable
    batches: int = 0


@dataclass
class Written:
    """What one batch's bulk writes did, as the writer thread reports it."""

    indexed: int = 0
    already_applied: int = 0
    superseded: int = 0
    rejected: list[tuple[BulkItem, str]] = field(default_factory=list)  # refused for good, with the reason


@dataclass
class InFlight:
    """A batch encoded and handed to a writer; committed once its write and every earlier one settled."""

    consumer: Any  # the consumer that polled it: its offsets go through that one only
    offsets: dict[TopicPartition, OffsetAndMetadata]  # the next offset of each partition it read
    records: int
    write: Future[Written] | None  # None: nothing to write (each record was dead-lettered)


def next_offsets(records: list[Any]) -> dict[TopicPartition, OffsetAndMetadata]:
    """The offset after the last record of each partition: what a commit of ``records`` says."""
    last: dict[TopicPartition, Any] = {}
    for record in records:
        tp = TopicPartition(record.topic, record.partition)
        if tp not in last or record.offset > last[tp].offset:
            last[tp] = record
    return {tp: OffsetAndMetadata(r.offset + 1, "", r.leader_epoch if r.leader_epoch is not None else -1)
            for tp, r in last.items()}


class Sink:
    """Moves incidents, their transitions and event digests into their indices."""

    def __init__(self, settings: Settings, stop: threading.Event | None = None) -> None:
        self._settings = settings
        self._stop = stop if stop is not None else threading.Event()
        self._roles = {spec.name(settings.kafka): spec.role for spec in SOURCES}
        self._dlq_topic = DEAD_LETTER.name(settings.kafka)
        self._dlq_prefix = f"{self._dlq_topic}:"
        self.counts = SinkCounts()
        self.outage = Outage()
        self._pruned_at = float("-inf")
        self._es: Any = None
        self._consumer: Any = None
        self._producer: Any = None
        self._member = Member(None)
        self._pending_letters: list[Any] = []
        self._writer = ThreadPoolExecutor(max_workers=settings.sink.bulk_in_flight, thread_name_prefix="sink-bulk")
        self._in_flight: deque[InFlight] = deque()  # oldest first
        es = settings.elasticsearch
        self._incident_indices = (incidents_alias(es), history_alias(es))
        self._pacer = RefreshPacer(settings.sink.incident_refresh_min_interval_s, settings.sink.incident_refresh)
        self.refresher: IncidentRefresher | None = None
        self.keeper = GroupKeeper("sink", self._new_consumer, settings.sink.heartbeat_interval_s,
                                  settings.sink.rejoin_after_s)

    def start(self) -> None:
        """Connect, create templates and indices, prune (no I/O happens in the constructor).
        Waits up to ``sink.startup_wait_s`` for Elasticsearch; raises ``SinkStoppedError`` if asked
        to stop meanwhile."""
        kopts = kafka_python_options(self._settings.kafka)
        self._es = elasticsearch_client(self._settings.elasticsearch)
        sink = self._settings.sink
        until_answered(self._prepare_indices, sink.startup_wait_s, sink.retry_max_backoff_s, sleep=self._sleep)
        self._member = claim(sink.instance_id, sink.group_id, sink.state_dir, socket.gethostname(), "sink")
        self._consumer = self._new_consumer()
        self._producer = KafkaProducer(client_id="deskwatch-sink-dlq", enable_idempotence=True, acks="all", **kopts)
        self.refresher = IncidentRefresher(self._es, self._incident_indices, self._pacer)
        self.refresher.start()
        self.prune_if_due()
        log.info("sink started", group=self._settings.sink.group_id, member=self._member.instance_id,
                 topics=sorted(self._roles))

    def _prepare_indices(self) -> None:
        self._es.cluster.health(wait_for_status="yellow", timeout="60s")
        ensure_indices(self._es, self._settings.elasticsearch)

    def _new_consumer(self) -> Any:
        return KafkaConsumer(
            *self._roles, group_id=self._settings.sink.group_id, group_instance_id=self._member.instance_id,
            enable_auto_commit=False,
            auto_offset_reset="earliest", max_poll_records=self._settings.sink.bulk_max_docs,
            max_poll_interval_ms=MAX_POLL_INTERVAL_MS, client_id="deskwatch-sink",
            **kafka_python_consumer_options(self._settings.kafka, self._settings.sink.fetch_max_wait_ms),
        )

    def step(self) -> int:
        """Fill one batch (until drained, full or at the linger ceiling) and encode it while earlier
        batches' bulk requests run; settle the oldest ones until there is room for another request
        (all of them after an idle poll), then hand this batch to a writer; return the records
        polled. Then check the consumer's membership (``keep_in_group``), so that a caller looping
        on ``step`` alone also gets a join kafka-python left unfinished mended at once. A batch is
        counted once it is committed: a caller waiting on the counts steps until then."""
        batch = self._fill()
        items = [item for item in map(self._encode, batch.records) if item is not None]
        room = self._settings.sink.bulk_in_flight - 1 if batch.records else 0
        while len(self._in_flight) > room:
            self._settle_oldest()
        if batch.records:
            write = self._writer.submit(self._write, items) if items else None
            self._in_flight.append(InFlight(self._consumer, next_offsets(batch.records), len(batch.records), write))
        self.keep_in_group()
        return len(batch.records)

    def settle(self) -> None:
        """Settle every batch in flight, oldest first (``_settle_oldest``)."""
        while self._in_flight:
            self._settle_oldest()

    def _settle_oldest(self) -> None:
        """Wait for the oldest batch in flight: count its outcome, dead-letter what Elasticsearch
        refused for good, wait for Kafka to acknowledge its dead letters, commit its offsets.
        Raises what its write raised (``SinkStoppedError`` when stopped during an outage): then it
        and every batch after it stay uncommitted, for a replay."""
        done = self._in_flight.popleft()
        if done.write is not None:
            try:
                written = done.write.result()
            except BaseException:
                self._in_flight.clear()  # no commit may pass a batch left unwritten: those after it are replayed with it
                raise
            self._count(written)
        self._settle_dead_letters()
        self._commit(done)
        self.counts.consumed += done.records
        self.counts.batches += 1

    def _count(self, written: Written) -> None:
        self.counts.indexed += written.indexed
        self.counts.already_applied += written.already_applied
        self.counts.superseded += written.superseded
        for item, reason in written.rejected:
            if item.origin.startswith(self._dlq_prefix):
                # Never a dead letter of a dead letter: each would be refused again, and the loop
                # would grow a letter a time. It stays on its topic, whole; only its search copy is short.
                self.counts.not_indexed_letters += 1
                log.error("dead letter not indexed", origin=item.origin, detail=reason[:300])
                continue
            self._dead_letter("rejected_by_elasticsearch", reason, item.origin, item.original)

    def _commit(self, done: InFlight) -> None:
        if done.consumer is not self._consumer:
            # Replaced (membership.py) while the batch was written: the old consumer is closed, and
            # the partitions' next owner reads the batch again, which the external versions absorb.
            log.warning("batch written under a replaced consumer, not committed: it will be replayed",
                        records=done.records)
            return
        owned = self._consumer.assignment()
        offsets = {tp: offset for tp, offset in done.offsets.items() if tp in owned}
        if not offsets:
            return  # every partition of the batch was revoked meanwhile: its new owner replays them
        try:
            self._consumer.commit(offsets)
        except KafkaError as err:
            # Evicted meanwhile, or the broker is away (restart, patch night): the records are
            # replayed by whoever owns the partitions next, and versioned writes make that harmless.
            # Exiting here would need a service manager to bring the sink back.
            log.warning("offsets not committed, records will be replayed", error=type(err).__name__)

    def run(self) -> None:
        """Loop until the stop event is set, then settle the last batch; one caught mid-backoff
        stays uncommitted."""
        try:
            while not self._stop.is_set():
                self.step()
                self.prune_if_due()
            self.settle()
        except SinkStoppedError:
            log.info("stopped during an Elasticsearch outage; the open batch will be replayed")

    def keep_in_group(self) -> None:
        """Log the heartbeat when due; replace a consumer that stayed out of its group too long."""
        self._consumer = self.keeper.check(self._consumer, self.counts.consumed, indexed=self.counts.indexed)

    def prune_if_due(self) -> list[str]:
        """Delete expired daily indices (events, dead letters) when the prune interval has passed."""
        if time.monotonic() - self._pruned_at < self._settings.sink.prune_interval_s:
            return []
        try:
            doomed: list[str] = prune_daily(self._es, self._settings.elasticsearch, datetime.now(timezone.utc).date(),
                                  self._settings.sink.events_retention_days)
        except (ApiError, TransportError) as err:
            log.warning("daily indices' retention not applied, will retry", error=type(err).__name__)
            return []
        self._pruned_at = time.monotonic()
        if doomed:
            log.info("expired daily indices deleted", indices=doomed)
        return doomed

    def close(self, leave_group: bool = False) -> None:
        """Close the clients (the producer first flushes what it holds); with ``leave_group``, then
        remove this static member from its group (``leave_group_on_stop``), before its slot is free
        for another sink to join under its id. Batches still in flight (``settle`` not called after
        the last ``step``) are waited for and left uncommitted: they will be replayed."""
        self._stop.set()  # a writer backing off from an outage gives up at once (its batch is replayed)
        self._writer.shutdown(wait=True)
        if self._in_flight:
            log.info("batches not settled at close: they will be replayed",
                     records=sum(done.records for done in self._in_flight))
            self._in_flight.clear()
        for closeable in (self.refresher, self._consumer, self._producer, self._es):
            if closeable is not None:
                closeable.close()
        if leave_group:
            leave(self._settings, "sink", self._member.instance_id)
        self._member.release()

    def _fill(self) -> Batch:
        """Poll until the batch is ready: the first poll waits for data, later ones only drain the buffer."""
        batch = Batch(self._settings.sink)
        while not self._stop.is_set():
            wait_ms = IDLE_POLL_MS if batch.opened_at is None else 0
            polled = self._consumer.poll(timeout_ms=wait_ms, max_records=batch.room())
            records = [r for part in polled.values() for r in part]
            batch.add(records, time.monotonic())
            if batch.ready(time.monotonic(), drained=not records) or not records:
                break  # ready, or idle: an empty batch lets ``run`` prune and see a stop
        return batch

    def _encode(self, record: Any) -> BulkItem | None:
        origin = f"{record.topic}:{record.partition}:{record.offset}"
        role = self._roles[record.topic]
        value = record.value or b""  # a tombstone (null value) is invalid here, and dead-lettered as such
        try:
            return encode_record(role, value, self._settings.elasticsearch, origin)
        except ValidationError as exc:
            self._dead_letter(f"invalid_{role.replace('-', '_')}", str(exc)[:1500], origin, value)
            return None
        except (TypeError, ValueError) as exc:  # valid for the contract, but no JSON can carry it (an
            # integer beyond 64 bits): a poison record must not stop the sink at every restart
            self._dead_letter(f"unencodable_{role.replace('-', '_')}", str(exc)[:1500], origin, value)
            return None

    def _write(self, items: list[BulkItem]) -> Written:
        """On a writer thread: write the newest version of each document (coalesce.py), a refused
        one's next newest after it; what was refused for good is reported, for the loop's thread to
        dead-letter."""
        batch = Coalesced(items)
        written = Written()
        pending = batch.heads
        while pending:
            report = write_items(self._es, pending, self._settings.sink.retry_max_backoff_s,
                                 sleep=self._sleep, outage=self.outage)
            written.indexed += report.counts[Outcome.INDEXED]
            written.already_applied += report.counts[Outcome.ALREADY_APPLIED]
            pending = []
            for item, reason in report.rejected:
                older = batch.instead_of(item)
                if older is not None:
                    pending.append(older)
                written.rejected.append((item, reason))
        written.superseded = batch.held
        if self.refresher is not None and any(item.index in self._incident_indices for item in batch.heads):
            self.refresher.wrote()
        return written

    def _sleep(self, delay: float) -> None:
        if self._stop.wait(delay):
            raise SinkStoppedError

    def _dead_letter(self, reason: str, detail: str, origin: str, original: bytes) -> None:
        letter = DeadLetter.of(reason=reason, detail=detail, stage="sink", source=origin.rsplit(":", 2)[0],
                               position=origin, original=original)
        self._pending_letters.append(self._producer.send(
            self._dlq_topic, key=letter.source.encode(), value=letter.model_dump_json().encode()))
        self.counts.dead_lettered += 1
        log.warning("dead-lettered", reason=reason, origin=origin, detail=detail[:300])

    def _settle_dead_letters(self) -> None:
        """Block until Kafka acknowledged every dead letter of the batch (raises if one failed)."""
        if not self._pending_letters:
            return  # most batches have none: no flush round on the producer's thread
        self._producer.flush()
        for future in self._pending_letters:
            future.get(timeout=30)
        self._pending_letters.clear()
