"""The faust application: thin agents over the pure core, wired from the topology declaration.

Agents consume raw bytes and validate themselves (faust would ack and drop a record that fails to
decode), run with concurrency=1 (more can commit past an in-flight event), and write each table
key once per envelope (faust's cost is per record and per table write).
"""

from __future__ import annotations


from typing import Any

import faust

import structlog
from pydantic import ValidationError

from deskwatch.connect import faust_broker_options
from deskwatch.processors.tally import HostTally, tally
from deskwatch.schemas import DeadLetter, EventBatch, decode_events_record
from deskwatch.settings import Settings
from deskwatch.topology import DEAD_LETTER, EVENTS, INCIDENTS

log = structlog.get_logger(__name__)


def build_app(settings: Settings) -> faust.App:
    """A faust App configured from the settings tree, with its agents attached."""
    k, p = settings.kafka, settings.processor
    app = faust.App(
        p.app_id,
        **faust_broker_options(k),
        store="memory://",
        topic_partitions=k.partitions,
        topic_replication_factor=k.replication_factor,
        processing_guarantee="at_least_once",
        consumer_auto_offset_reset="earliest",
        web_enabled=p.web_enabled,
        web_bind=p.web_host,
        web_port=p.web_port,
        datadir=str(p.datadir),
        broker_commit_every=p.commit_every,
        broker_max_poll_records=5000,
        stream_buffer_maxsize=65536,
        producer_linger_ms=5,
        table_cleanup_interval=3600.0,
    )
    _wire(app, settings)
    return app


def _wire(app: faust.App, settings: Settings) -> None:
    k = settings.kafka
    events = app.topic(EVENTS.name(k), key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw")
    incidents = app.topic(INCIDENTS.name(k), key_type=bytes, value_type=bytes,
                          value_serializer="raw", key_serializer="raw")
    dead_letters = app.topic(DEAD_LETTER.name(k), key_type=bytes, value_type=bytes,
                             value_serializer="raw", key_serializer="raw")
    raw = faust.Schema(key_type=bytes, value_type=bytes, key_serializer="raw", value_serializer="raw")
    hosts = app.Table("hosts", default=None, partitions=k.partitions, schema=raw)
    seen_cap = settings.processor.seen_ids_per_host

    @app.agent(events, concurrency=1)
    async def stage1(stream: Any) -> None:
        async for event in stream.events():
            raw: bytes = event.value
            try:
                record = decode_events_record(raw)
            except ValidationError as exc:
                await _dead_letter(dead_letters, event, raw, "invalid_envelope", _summary(exc))
                continue
            if not isinstance(record, EventBatch):
                continue  # ticks: the skeleton rule has no time-based transition
            await _apply(record, event.key, hosts, incidents, seen_cap)


async def _apply(batch: EventBatch, key: bytes, hosts: Any, incidents: Any, seen_cap: int) -> None:
    stored = hosts.get(key)
    state = HostTally.model_validate_json(stored) if stored else None
    result = tally(batch, state, seen_cap)
    hosts[key] = result.state.model_dump_json().encode()
    for incident in result.incidents:
        await incidents.send(key=incident.id.encode(), value=incident.model_dump_json().encode())


async def _dead_letter(topic: Any, event: Any, raw: bytes, reason: str, detail: str) -> None:
    msg = event.message
    letter = DeadLetter.of(reason=reason, detail=detail, stage="processor", source=msg.topic,
                           position=f"{msg.partition}:{msg.offset}", original=raw)
    await topic.send(key=msg.topic.encode(), value=letter.model_dump_json().encode())
    log.warning("dead-lettered", reason=reason, topic=msg.topic, partition=msg.partition, offset=msg.offset)


def _summary(exc: ValidationError) -> str:
    errors = exc.errors(include_url=False, include_input=False)[:3]
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)


def run_worker(settings: Settings) -> None:
    """Run the processor until SIGTERM/SIGINT."""
    app = build_app(settings)
    worker = faust.Worker(app, loglevel=settings.logging.level, quiet=True)
    worker.execute_from_commandline()


