"""When a batch of records is ready to write: by count, by bytes, or by age (time passed in)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from deskwatch.settings import SinkSettings


@dataclass
class Batch:
    """Records polled since the last flush; ``full`` and ``due`` decide when to write them."""

    limits: SinkSettings
    opened_at: float
    records: list[Any] = field(default_factory=list)
    nbytes: int = 0

    def add(self, records: list[Any]) -> None:
        """Take polled records (anything with a ``value`` of bytes)."""
        self.records.extend(records)
        self.nbytes += sum(len(r.value or b"") for r in records)

    @property
    def full(self) -> bool:
        """At the count or byte limit: write now."""
        return len(self.records) >= self.limits.bulk_max_docs or self.nbytes >= self.limits.bulk_max_bytes

    def due(self, now: float) -> bool:
        """Full, or open for at least the flush interval."""
        return self.full or now - self.opened_at >= self.limits.flush_interval_s

    def room(self) -> int:
        """How many more records the next poll may return."""
        return max(1, self.limits.bulk_max_docs - len(self.records))
