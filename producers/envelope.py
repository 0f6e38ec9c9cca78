"""Pack events into host envelopes (EventBatch), flushed by count, bytes or linger.

Pure: time is passed in. The publisher asks for full envelopes after each event and for stale
ones on a timer, so a quiet host's events never wait longer than the linger.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from deskwatch.schemas import EventBatch, WorkstationEvent


@dataclass
class _Open:
    events: list[WorkstationEvent] = field(default_factory=list)
    approx_bytes: int = 0
    opened_at: float = 0.0


@dataclass(frozen=True)
class EnvelopeLimits:
    max_events: int
    max_bytes: int
    linger_s: float


class Enveloper:
    """Per-host open envelopes; returns the ones that are due."""

    def __init__(self, limits: EnvelopeLimits, source: str) -> None:
        self._limits = limits
        self._source = source
        self._open: dict[str, _Open] = {}
        self.pending_events = 0

    def add(self, event: WorkstationEvent, size_hint: int, now: float) -> EventBatch | None:
        """Add one event; return its host's envelope when that envelope is full."""
        host = event.host.name
        env = self._open.get(host)
        if env is None:
            env = self._open[host] = _Open(opened_at=now)
        env.events.append(event)
        env.approx_bytes += size_hint
        self.pending_events += 1
        if len(env.events) >= self._limits.max_events or env.approx_bytes >= self._limits.max_bytes:
            return self._close(host)
        return None

    def due(self, now: float) -> list[EventBatch]:
        """Envelopes older than the linger."""
        stale = [h for h, e in self._open.items() if now - e.opened_at >= self._limits.linger_s]
        return [self._close(h) for h in stale]

    def drain(self) -> list[EventBatch]:
        """Every open envelope, e.g. at the end of input or on SIGTERM."""
        return [self._close(h) for h in list(self._open)]

    def _close(self, host: str) -> EventBatch:
        env = self._open.pop(host)
        self.pending_events -= len(env.events)
        return EventBatch(host=host, source=self._source, events=env.events)
