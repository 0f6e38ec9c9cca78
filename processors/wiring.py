"""The processor's topics and tables, declared once from the topology and the settings."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, TypedDict

import faust
from pydantic import ValidationError

from deskwatch.processors.disk_store import DISK_STORE_URL, register_disk_store
from deskwatch.processors.follow import CompactedFollower
from deskwatch.processors.changelogs import GROUPS_TABLE
from deskwatch.processors.host_table import HOST_STATE_TABLE
from deskwatch.settings import Settings
from deskwatch.topology import (
    COMMANDS, DEAD_LETTER, EVENT_DIGESTS, EVENTS, INCIDENT_CHANGES, INCIDENTS, INVENTORY, SIGNALS, SILENCES,
    TopicSpec,
)


class _TopicTypes(TypedDict):
    """``App.topic``'s keyword arguments that make a topic bytes to bytes."""

    key_type: type[bytes]
    value_type: type[bytes]
    key_serializer: str
    value_serializer: str


class _TableTypes(TypedDict):
    """``App.Table``'s keyword arguments shared by the processor's tables (``declare`` says why)."""

    key_type: type[bytes]
    value_type: type[bytes]
    use_partitioner: bool
    store: str | None


RAW: _TopicTypes = {"key_type": bytes, "value_type": bytes, "key_serializer": "raw", "value_serializer": "raw"}


@dataclass(frozen=True)
class Wiring:
    """Every faust topic and table the agents use."""

    events: Any
    signals: Any  # stage 1's output, and each group's one log (schemas/command.py)
    stage2_input: Any  # signals + operators' commands: one agent, one owner per group key
    digests: Any
    incidents: Any
    changes: Any
    dead_letters: Any
    host_state: Any  # stage 1 state: each host's header and parts, on the host's partition (host_table.py)
    groups: Any  # stage 2 state, by group key
    inventory: CompactedFollower  # every partition's view of the compacted inventory topic
    silences: CompactedFollower  # every partition's view of the compacted silences topic
    partitions: int


def declare(app: faust.App, settings: Settings, on_inventory_change: Any = None) -> Wiring:
    """Declare topics (which already exist: created from the topology) and tables."""
    k = settings.kafka

    def topic(*specs: TopicSpec) -> Any:
        return app.topic(*(s.name(k) for s in specs), **RAW)

    # key_type/value_type bytes make faust pick the "raw" codec for the changelog too; a schema
    # alone leaves the table's own serializers at "json", and recovery then fails to decode.
    # use_partitioner: a batch writes keys after its records were iterated, so the changelog
    # partition comes from the key (Kafka's default partitioner), which is the partition the key's
    # input records are on: events are keyed by host, signals and commands by group key. A host's
    # header and parts are sent by the host's key (host_table.py routes them).
    # store: the app's (memory://), or RocksDB in the data dir (processor.state_store, disk_store.py).
    disk = settings.processor.state_store == "disk"
    if disk:
        register_disk_store()
    table_types: _TableTypes = {"key_type": bytes, "value_type": bytes, "use_partitioner": True,
                                "store": DISK_STORE_URL if disk else None}
    big = {"max.message.bytes": str(settings.processor.state_max_record_bytes)}
    return Wiring(
        events=topic(EVENTS), signals=topic(SIGNALS),
        stage2_input=topic(SIGNALS, COMMANDS), digests=topic(EVENT_DIGESTS), incidents=topic(INCIDENTS),
        changes=topic(INCIDENT_CHANGES), dead_letters=topic(DEAD_LETTER),
        host_state=app.Table(HOST_STATE_TABLE, partitions=k.partitions, extra_topic_configs=big, **table_types),
        groups=app.Table(GROUPS_TABLE, partitions=k.partitions, extra_topic_configs=big, **table_types),
        inventory=CompactedFollower(k, INVENTORY.name(k), on_change=on_inventory_change or (lambda: None)),
        silences=CompactedFollower(k, SILENCES.name(k)),
        partitions=k.partitions,
    )


def record_time(event: Any) -> datetime:
    """The record's log timestamp: the 'now' a replay sees again (never the wall clock)."""
    return datetime.fromtimestamp(event.message.timestamp, timezone.utc)


def summarise(exc: ValidationError) -> str:
    """The first few validation errors, one line."""
    errors = exc.errors(include_url=False, include_input=False)[:3]
    return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in errors)


def forget_on_rebalance(app: faust.App, *views: Any) -> None:
    """Drop cached state when partitions move: another worker may have written those keys."""

    async def forget(*_: Any, **__: Any) -> None:
        for view in views:
            view.forget()

    app.on_partitions_revoked.connect(forget)
    app.on_partitions_assigned.connect(forget)
