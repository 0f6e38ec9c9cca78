"""Drive one source: read records, parse, envelope, publish; reject to the dead-letter topic.

Every record read ends as a published event or a dead letter: ``read = published + rejected``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from deskwatch.producers.envelope import Enveloper
from deskwatch.producers.parse.contract import ParseResult, Rejected
from deskwatch.producers.publish import Publisher
from deskwatch.schemas import DeadLetter, WorkstationEvent


@dataclass
class IngestCounts:
    """Per-source accounting; ``read == published + sum(rejected.values())`` once flushed."""

    source: str
    read: int = 0
    accepted: int = 0
    rejected: Counter[str] = field(default_factory=Counter)

    @property
    def rejected_total(self) -> int:
        return sum(self.rejected.values())


def ingest_records(
    parsed: Iterable[tuple[int | str, bytes, ParseResult]],
    source: str,
    publisher: Publisher,
    enveloper: Enveloper,
    on_progress: Callable[[IngestCounts], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> IngestCounts:
    """Publish every parsed record of one source and return its counts (after a full flush)."""
    counts = IngestCounts(source=source)
    for position, raw, result in parsed:
        counts.read += 1
        if isinstance(result, Rejected):
            _reject(publisher, counts, source, position, raw, result)
        else:
            counts.accepted += 1
            _add(enveloper, publisher, result, len(raw), clock())
        if counts.read % 4096 == 0:
            for batch in enveloper.due(clock()):
                publisher.send_batch(batch)
            if on_progress is not None:
                on_progress(counts)
    for batch in enveloper.drain():
        publisher.send_batch(batch)
    publisher.flush()
    return counts


def _add(enveloper: Enveloper, publisher: Publisher, event: WorkstationEvent, size: int, now: float) -> None:
    full = enveloper.add(event, size, now)
    if full is not None:
        publisher.send_batch(full)


def _reject(
    publisher: Publisher, counts: IngestCounts, source: str, position: int | str, raw: bytes, why: Rejected
) -> None:
    counts.rejected[why.reason] += 1
    publisher.send_dead_letter(
        DeadLetter.of(
            reason=why.reason, detail=why.detail, stage="producer", source=source, position=position, original=raw
        )
    )
