"""Drive one source: read records, parse, envelope, publish; reject to the dead-letter topic.

Every record read ends as a published event or a dead letter: ``read = published + rejected``.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from deskwatch.producers.envelope import WireBatch, WireEnveloper
from deskwatch.producers.parse.contract import ParseResult, Rejected
from deskwatch.producers.parse.encode import EncodeResult
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
    parsed: Iterable[tuple[int | str, bytes, ParseResult | EncodeResult]],
    source: str,
    publisher: Publisher,
    enveloper: WireEnveloper,
    on_progress: Callable[[IngestCounts], None] | None = None,
    clock: Callable[[], float] = time.monotonic,
    max_open_events: int | None = None,
) -> IngestCounts:
    """Publish every parsed record of one source and return its counts (after a full flush).

    A record comes as its event, or already encoded as (host name, event JSON) by ``parse.encode``:
    ``WireEnveloper`` takes both (the model ``Enveloper`` keeps models and cannot take bytes).

    ``max_open_events`` None: envelopes also close on their linger (a live stream). Set (a file
    read as fast as it goes, like the tail behind its writer): they close by count and bytes, and
    the oldest past that many open events, so 1000 interleaved hosts do not make 4-event envelopes.
    """
    counts = IngestCounts(source=source)
    for position, raw, result in parsed:
        counts.read += 1
        if isinstance(result, Rejected):
            send_rejected(publisher, counts.rejected, source, position, raw, result)
        else:
            counts.accepted += 1
            if isinstance(result, WorkstationEvent):  # a parser's model (evtx, the drop folder)
                full = enveloper.add(result, len(raw), clock())
            else:  # (host name, event JSON) from parse.encode
                full = enveloper.add_encoded(result[0], result[1], len(raw), clock())
            if full is not None:
                publisher.send_batch(full)
        if counts.read % 4096 == 0:
            _send_due(enveloper, publisher, clock(), max_open_events)
            if on_progress is not None:
                on_progress(counts)
    for batch in enveloper.drain():
        publisher.send_batch(batch)
    publisher.flush()
    return counts


def _send_due(enveloper: WireEnveloper, publisher: Publisher, now: float, max_open_events: int | None) -> None:
    due: Iterable[WireBatch]
    if max_open_events is None:
        due = enveloper.due(now)
    else:
        due = enveloper.past_bound(max_open_events)
    for batch in due:
        publisher.send_batch(batch)


def send_rejected(
    publisher: Publisher, rejected: Counter[str], source: str, position: int | str | None, raw: bytes, why: Rejected
) -> None:
    """Count one rejected record by its reason and dead-letter it with its original bytes (every source)."""
    rejected[why.reason] += 1
    publisher.send_dead_letter(
        DeadLetter.of(
            reason=why.reason, detail=why.detail, stage="producer", source=source, position=position, original=raw
        )
    )
