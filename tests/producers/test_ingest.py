"""ingest_records: every record read is published or dead-lettered; file envelopes close by size."""

from __future__ import annotations

import itertools
from datetime import UTC, datetime
from typing import Any

import pytest

from deskwatch.producers.envelope import EnvelopeLimits, WireBatch, WireEnveloper
from deskwatch.producers.ingest import ingest_records
from deskwatch.producers.parse.contract import ParseResult, Rejected
from deskwatch.schemas import DeadLetter, EventBatch, WorkstationEvent


class _Recorder:
    """Stands in for the Publisher: keeps what it was asked to send."""

    def __init__(self) -> None:
        self.batches: list[WireBatch] = []
        self.letters: list[DeadLetter] = []
        self.flushed = False

    def send_batch(self, batch: WireBatch, watermark: Any = None) -> None:
        self.batches.append(batch)

    def send_dead_letter(self, letter: DeadLetter) -> None:
        self.letters.append(letter)

    def flush(self) -> None:
        self.flushed = True


def _records(n: int, hosts: int, bad_every: int) -> list[tuple[int, bytes, ParseResult]]:
    out: list[tuple[int, bytes, ParseResult]] = []
    for i in range(1, n + 1):
        raw = f"line {i}".encode()
        if i % bad_every == 0:
            out.append((i, raw, Rejected("invalid_json", "not json")))
            continue
        out.append((i, raw, WorkstationEvent.model_validate({
            "@timestamp": datetime(2026, 11, 29, tzinfo=UTC), "host": {"name": f"PC-{i % hosts}"},
            "event": {"id": f"id-{i}", "code": "1", "provider": "p"}})))
    return out


@pytest.mark.parametrize(("max_open", "max_events", "envelopes"), [
    (None, 10**6, 12),  # live stream: the 1 s linger (1 ms clock per event) closes all 4 hosts' at 4096 and 8192
    (100_000, 10**6, 4),  # a file: nothing closes before its end -> one envelope per host
    (100_000, 300, 28),  # ... unless the count limit closes it: 2000 events per host = 6 x 300 + 200
    # bounded: 3277 open at line 4096, 6554 at 8192 (>= 4096) -> the oldest sent until <= 3686 stay open (PC-1
    # and PC-2, 1639 each: 3276 left), then the last 4 at the end
    (4096, 10**6, 6),
], ids=["linger", "file-whole", "file-by-count", "file-bounded"])
def test_read_is_published_plus_rejected(max_open: int | None, max_events: int, envelopes: int) -> None:
    records, publisher = _records(10_000, 4, bad_every=5), _Recorder()
    clock = itertools.count(step=0.001).__next__
    # publisher: a recording stand-in for Publisher (same methods, no broker)
    counts = ingest_records(records, "src", publisher, WireEnveloper(EnvelopeLimits(max_events, 10**9, 1.0), "src"),  # type: ignore[arg-type]
                            clock=clock, max_open_events=max_open)
    published = [e for b in publisher.batches for e in EventBatch.model_validate_json(b.value).events]
    assert publisher.flushed and counts.read == 10_000 and counts.rejected == {"invalid_json": 2_000}
    assert counts.accepted == len(published) == 8_000 and len(publisher.letters) == 2_000
    assert [e.event.id for e in published if e.host.name == "PC-1"] == [f"id-{i}" for i in range(1, 10_001, 4)
                                                                         if i % 5]
    assert len(publisher.batches) == envelopes
