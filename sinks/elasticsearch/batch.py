"""When a batch of records is ready to write: adaptive, by count, bytes, drain or age (time passed in).

Adaptive batching (as Vector's and Fluent Bit's sinks do): a batch is written as soon as the
input is drained — the consumer has nothing more buffered — so a lone record waits for no timer,
while under load the records that arrive during one bulk request make the next one large. The
count and byte limits cap a batch; ``flush_interval_s`` is only the ceiling on how long the
oldest record waits while records keep trickling in.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deskwatch.settings import SinkSettings


@dataclass
class Batch:
    """Records polled since the last write; ``full`` and ``ready`` decide when to write them."""

    limits: SinkSettings
    opened_at: float | None = None  # when its first record arrived
    records: list[Any] = field(default_factory=list)
    nbytes: int = 0

    def add(self, records: list[Any], now: float) -> None:
        """Take polled records (anything with a ``value`` of bytes) that arrived at ``now``."""
        if records and self.opened_at is None:
            self.opened_at = now
        self.records.extend(records)
        self.nbytes += sum(len(r.value or b"") for r in records)

    @property
    def full(self) -> bool:
        """At the count or byte limit: write now."""
        return len(self.records) >= self.limits.bulk_max_docs or self.nbytes >= self.limits.bulk_max_bytes

    def ready(self, now: float, drained: bool) -> bool:
        """Holding records, and full, or the input is drained, or the oldest waited the ceiling."""
        if self.opened_at is None:
            return False
        return self.full or drained or now - self.opened_at >= self.limits.flush_interval_s

    def room(self) -> int:
        """How many more records the next poll may return."""
        return max(1, self.limits.bulk_max_docs - len(self.records))
