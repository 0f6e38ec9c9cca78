"""Pack events into host envelopes (EventBatch), flushed by count, bytes or linger.

Pure: time is passed in. The publisher asks for full envelopes after each event and for stale
ones on a timer, so a quiet host's events never wait longer than the linger.

``Enveloper`` keeps the events as models (for in-process users of ``EventBatch``);
``WireEnveloper`` encodes each event as it arrives and keeps only its bytes: a publishing source
with 100k events open holds 100k bytes objects instead of ~1.3M GC-tracked model objects, whose
full collections cost ~40% of a file source's time, and it never serialises an envelope twice.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from collections.abc import Iterable, Iterator
from datetime import datetime, timezone
from typing import Annotated, Final, Generic, TypeVar

import pydantic_core
from pydantic import TypeAdapter

from deskwatch.schemas import EventBatch, WorkstationEvent

# The model's own serializer: what a TypeAdapter's dump_json calls, without its Python around it.
_EVENT_JSON: Final = WorkstationEvent.__pydantic_serializer__.to_json
# EventBatch.source's own constraints, checked once per WireEnveloper instead of per envelope
_SOURCE: Final[TypeAdapter[str]] = TypeAdapter(Annotated[str, *EventBatch.model_fields["source"].metadata])
# An envelope's first bytes; read once (a class's model_fields is a deprecation-checking property:
# read per envelope, 2.3 % of the tail's parse-only samples).
_HEAD: Final = b'{"kind":"events","schema_version":%d,"host":' % EventBatch.model_fields["schema_version"].default

Item = TypeVar("Item")


@dataclass
class _Open(Generic[Item]):
    events: list[Item] = field(default_factory=list)
    approx_bytes: int = 0
    opened_at: float = 0.0


@dataclass(frozen=True)
class EnvelopeLimits:
    max_events: int
    max_bytes: int
    linger_s: float


@dataclass(frozen=True)
class WireBatch:
    """An envelope as the events topic carries it: the JSON of its ``EventBatch``, already encoded."""

    host: str
    source: str
    count: int
    value: bytes


class _Packer(Generic[Item]):
    """Per-host open envelopes; returns the ones that are due (the policy both envelopers share)."""

    def __init__(self, limits: EnvelopeLimits) -> None:
        self._limits = limits
        # Insertion order is opening order: a host's envelope is re-inserted when it reopens.
        self._open: dict[str, _Open[Item]] = {}
        self.pending_events = 0
        # True while the envelopes were opened at non-decreasing times (a monotonic clock, event
        # time in order): the oldest is then first, and _stale stops at the first fresh one.
        self._in_order = True
        self._newest_open = -math.inf

    def _put(self, host: str, item: Item, size_hint: int, now: float) -> list[Item] | None:
        env = self._open.get(host)
        if env is None:
            if now < self._newest_open:
                self._in_order = False  # a clock that went back: full scans until all are sent
            self._newest_open = max(self._newest_open, now)
            env = self._open[host] = _Open(opened_at=now)
        env.events.append(item)
        env.approx_bytes += size_hint
        self.pending_events += 1
        if len(env.events) >= self._limits.max_events or env.approx_bytes >= self._limits.max_bytes:
            return self._take(host)
        return None

    def _stale(self, now: float) -> list[tuple[str, list[Item]]]:
        """The envelopes open for at least the linger, oldest first.

        Decision: in opening order, stop at the first envelope still within its linger instead of
        looking at every open one. Callers ask after every event (replay) or every chunk, and with
        20k hosts open a full scan per call made a file source quadratic in its hosts.
        """
        linger = self._limits.linger_s
        if self._in_order:
            stale = []
            for host, env in self._open.items():
                if now - env.opened_at < linger:
                    break
                stale.append(host)
        else:
            stale = [h for h, e in self._open.items() if now - e.opened_at >= linger]
        return [(h, self._take(h)) for h in stale]

    def _all(self) -> list[tuple[str, list[Item]]]:
        return [(h, self._take(h)) for h in list(self._open)]

    def _oldest(self, keep: int) -> list[tuple[str, list[Item]]]:
        """The envelopes opened first (opening order: insertion order), until ``keep`` events or
        fewer stay open."""
        hosts, left = [], self.pending_events
        for host, env in self._open.items():
            if left <= keep:
                break
            hosts.append(host)
            left -= len(env.events)
        return [(h, self._take(h)) for h in hosts]

    def _take(self, host: str) -> list[Item]:
        items = self._open.pop(host).events
        self.pending_events -= len(items)
        if not self._open:  # nothing open: the order starts afresh
            self._in_order, self._newest_open = True, -math.inf
        return items


class Enveloper(_Packer[WorkstationEvent]):
    """Per-host open envelopes of models; returns the ``EventBatch``es that are due."""

    def __init__(self, limits: EnvelopeLimits, source: str) -> None:
        super().__init__(limits)
        self._source = source

    def add(self, event: WorkstationEvent, size_hint: int, now: float) -> EventBatch | None:
        """Add one event; return its host's envelope when that envelope is full."""
        full = self._put(event.host.name, event, size_hint, now)
        return None if full is None else self._batch(event.host.name, full)

    def due(self, now: float) -> list[EventBatch]:
        """Envelopes older than the linger."""
        return [self._batch(h, events) for h, events in self._stale(now)]

    def drain(self) -> list[EventBatch]:
        """Every open envelope, e.g. at the end of input or on SIGTERM."""
        return [self._batch(h, events) for h, events in self._all()]

    def _batch(self, host: str, events: list[WorkstationEvent]) -> EventBatch:
        return EventBatch(host=host, source=self._source, events=events)


def enveloped(events: Iterable[WorkstationEvent], enveloper: Enveloper) -> Iterator[tuple[EventBatch, datetime]]:
    """Time-ordered ``events`` through ``enveloper`` as a producer sends them, each envelope with the
    event time at which it leaves: due by its linger before the event that finds it stale, or full
    with the event that fills it. What is still open at the end stays in ``enveloper`` (``drain``).
    The benches and the tests that feed the cores by event time build their envelopes so."""
    for event in events:
        now = event.timestamp.astimezone(timezone.utc)
        for batch in enveloper.due(now.timestamp()):
            yield batch, now
        full = enveloper.add(event, len(event.message) + 200, now.timestamp())
        if full is not None:
            yield full, now


class WireEnveloper(_Packer[bytes]):
    """Per-host open envelopes of encoded events; returns the ``WireBatch``es that are due.

    The bytes are those of ``EventBatch(...).model_dump_json(by_alias=True, exclude_none=True)``.
    """

    def __init__(self, limits: EnvelopeLimits, source: str) -> None:
        super().__init__(limits)
        self._source = _SOURCE.validate_python(source)
        self._tail = b',"source":' + pydantic_core.to_json(self._source) + b',"events":['

    def add(self, event: WorkstationEvent, size_hint: int, now: float) -> WireBatch | None:
        """Encode and add one event; return its host's envelope when that envelope is full."""
        host = event.host.name
        full = self._put(host, _EVENT_JSON(event, by_alias=True, exclude_none=True), size_hint, now)
        return None if full is None else self._batch(host, full)

    def add_encoded(self, host: str, value: bytes, size_hint: int, now: float) -> WireBatch | None:
        """Add one event already encoded (``parse.offload``); return its host's envelope when full."""
        full = self._put(host, value, size_hint, now)
        return None if full is None else self._batch(host, full)

    def due(self, now: float) -> list[WireBatch]:
        """Envelopes older than the linger."""
        return [self._batch(h, events) for h, events in self._stale(now)]

    def drain(self) -> list[WireBatch]:
        """Every open envelope, e.g. at the end of input or on SIGTERM."""
        return [self._batch(h, events) for h, events in self._all()]

    def past_bound(self, max_open_events: int) -> list[WireBatch]:
        """At ``max_open_events`` open events or more, the oldest envelopes, until a tenth of the
        bound is free; below it, none. A source reading a backlog asks after each read.

        Decision: the oldest envelopes, not every open one. Reading a backlog of interleaved hosts,
        envelopes close by count and bytes only (a linger would make them one event each), and
        sending them all at the bound made the reading and the sending take turns: the tail read
        a bound's worth of lines sending nothing, then sent thousands of envelopes reading nothing,
        and its parse process (``tail.parse_process``) kept 1.23-1.33 of two cores busy. Oldest
        first, a tenth at a time, it sends as it reads; an envelope closes when it is the oldest,
        so it holds about twice the events it held (steady, half the open envelopes are older than
        the average), and the checkpoint, the oldest unacknowledged line, moves at each. Figures,
        bench/producer.py on 400,000 events of 5,000 hosts (2026-12-07, commit message).
        """
        if self.pending_events < max_open_events:
            return []
        return [self._batch(h, events) for h, events in self._oldest(max_open_events * 9 // 10)]

    def _batch(self, host: str, events: list[bytes]) -> WireBatch:
        value = b"".join((_HEAD, pydantic_core.to_json(host), self._tail, b",".join(events), b"]}"))
        return WireBatch(host, self._source, len(events), value)
