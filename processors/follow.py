"""Follow a compacted topic into memory: what every partition must know (inventory, silences).

faust's GlobalTable over an externally written topic stalled the partition assignment against this
broker (the worker never left "performing partition assignments"), so the processor reads these
small compacted topics itself: fully, before it starts, then continuously in a daemon thread.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import structlog
from kafka import KafkaConsumer

from deskwatch.connect import kafka_python_options
from deskwatch.settings import KafkaSettings
from deskwatch.topics import read_to_end

log = structlog.get_logger(__name__)


class CompactedFollower(Mapping[bytes, bytes]):
    """The latest value per key of one compacted topic; a tombstone removes the key."""

    def __init__(self, kafka: KafkaSettings, topic: str, on_change: Callable[[], None] = lambda: None) -> None:
        self._kafka = kafka
        self._topic = topic
        self._on_change = on_change
        self._values: dict[bytes, bytes] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        """Read the topic to its current end (blocking), then keep following in the background."""
        consumer = KafkaConsumer(client_id=f"deskwatch-follow-{self._topic}", enable_auto_commit=False,
                                 **kafka_python_options(self._kafka))
        for records in read_to_end(consumer, self._topic):
            self._apply(records)
        log.info("compacted topic loaded", topic=self._topic, keys=len(self._values))
        self._thread = threading.Thread(target=self._follow, args=(consumer,), daemon=True,
                                        name=f"follow-{self._topic}")
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()

    def _follow(self, consumer: Any) -> None:
        try:
            while not self._stop.is_set():
                self._apply([r for records in consumer.poll(timeout_ms=1000).values() for r in records])
        finally:
            consumer.close()

    def _apply(self, records: list[Any]) -> None:
        """Take polled records in; ``on_change`` once if any key's value changed (a record that
        repeats a key's value, as a re-published inventory export does, changes nothing: the
        processor recounts every population on a change)."""
        changed = False
        values = self._values
        for r in records:
            if r.key is None:
                continue
            if r.value is None:
                changed |= values.pop(r.key, None) is not None
            elif values.get(r.key) != r.value:
                values[r.key] = r.value
                changed = True
        if changed:
            self._on_change()

    def __getitem__(self, key: bytes) -> bytes:
        return self._values[key]

    def get(self, key: bytes, default: Any = None) -> Any:
        return self._values.get(key, default)

    def __iter__(self) -> Iterator[bytes]:
        return iter(list(self._values))

    def __len__(self) -> int:
        return len(self._values)
