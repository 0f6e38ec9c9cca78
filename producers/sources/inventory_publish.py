"""Publish an inventory export to the compacted ``inventory`` topic (key = host); rejects to the DLQ.

The Publisher speaks only the events and dead-letter topics, so this keeps its own kafka-python
producer with the same guarantees (idempotent, acks=all) and waits for every acknowledgement.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

import orjson
from deskwatch.producers.inventory import RowRejection, read_inventory
from deskwatch.schemas import DeadLetter
from deskwatch.schemas.asset import Asset
from kafka import KafkaProducer

from deskwatch.connect import kafka_python_options
from deskwatch.settings import KafkaSettings
from deskwatch.topology import DEAD_LETTER, INVENTORY


class InventoryPublishError(Exception):
    """The broker did not acknowledge an inventory record."""


@dataclass
class InventoryCounts:
    """Rows read, assets published, rows rejected by reason."""

    source: str
    read: int = 0
    published: int = 0
    rejected: Counter[str] = field(default_factory=Counter)


def rejection_letter(source: str, rejection: RowRejection) -> DeadLetter:
    """A rejected row as a dead letter: reason ``invalid_row``, the row's column and value as bytes."""
    original = orjson.dumps({"row": rejection.row, "column": rejection.column, "value": rejection.value})
    return DeadLetter.of(reason=_reason(rejection), detail=str(rejection), stage="producer", source=source,
                         position=rejection.row, original=original)


def publish_inventory(path: Path, kafka: KafkaSettings) -> InventoryCounts:
    """Read ``path`` (CSV, JSON, JSON lines) and publish every asset; returns the counts once acked."""
    assets, rejections = read_inventory(path)
    counts = InventoryCounts(source=str(path), read=len(assets) + len(rejections))
    client = KafkaProducer(client_id="deskwatch-inventory", enable_idempotence=True, acks="all",
                           **kafka_python_options(kafka))
    try:
        futures = [_send_asset(client, kafka, a) for a in assets]
        for rejection in rejections:
            letter = rejection_letter(str(path), rejection)
            counts.rejected[letter.reason] += 1
            futures.append(client.send(DEAD_LETTER.name(kafka), key=letter.source.encode(),
                                       value=letter.model_dump_json().encode()))
        client.flush()
        for future in futures:
            try:
                future.get(timeout=60)
            except Exception as exc:  # kafka-python raises KafkaError subclasses
                raise InventoryPublishError(f"broker did not acknowledge: {exc!r}") from exc
    finally:
        client.close()
    counts.published = len(assets)
    return counts


def _send_asset(client: KafkaProducer, kafka: KafkaSettings, asset: Asset):  # type: ignore[no-untyped-def]
    return client.send(INVENTORY.name(kafka), key=asset.host.encode(), value=asset.model_dump_json().encode())


def _reason(rejection: RowRejection) -> str:
    """A machine-readable reason from the reader's sentence (duplicate host vs any other bad row)."""
    return "duplicate_host" if rejection.reason.startswith("duplicate host") else "invalid_row"
