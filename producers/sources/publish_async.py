"""The network sources' side of publishing: one enveloper and publisher driven from an asyncio loop.

kafka-python is synchronous: ``send`` only queues (its own thread talks to the broker), so it is
called from the loop. A pump sends envelopes past their linger and, when someone awaits
``durable()``, flushes everything and wakes every waiter at once (group commit): an HTTP 200 is
sent only once the broker holds the request's lines. While the publisher blocks (too many
envelopes in flight) the loop blocks too, so TCP and HTTP senders feel the backpressure.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import structlog
from deskwatch.producers.envelope import EnvelopeLimits, WireEnveloper
from deskwatch.producers.ingest import send_rejected
from deskwatch.producers.parse.contract import ParseResult, Rejected
from deskwatch.producers.publish import Publisher, PublishError
from kafka.errors import KafkaError

log = structlog.get_logger(__name__)


class AsyncPublishing:
    """Envelopes events by host, dead-letters rejects, and tells waiters when the broker holds them."""

    def __init__(self, publisher: Publisher, limits: EnvelopeLimits, source: str) -> None:
        self._publisher = publisher
        self._enveloper = WireEnveloper(limits, source)
        self._linger_s = limits.linger_s
        self._waiters: list[asyncio.Future[None]] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self.read = 0
        self.accepted = 0
        self.rejected: Counter[str] = Counter()

    def start(self) -> None:
        """Start the pump on the running loop."""
        self._task = asyncio.get_running_loop().create_task(self._pump())

    def add(self, source: str, position: str | int | None, raw: bytes, result: ParseResult) -> None:
        """Queue one parsed record: into its host's envelope, or to the dead-letter topic."""
        self.read += 1
        if isinstance(result, Rejected):
            self.reject(source, position, raw, result)
            return
        self.accepted += 1
        full = self._enveloper.add(result, len(raw), time.monotonic())
        if full is not None:
            self._publisher.send_batch(full)

    def reject(self, source: str, position: str | int | None, raw: bytes, why: Rejected) -> None:
        """Dead-letter one record with its reason and original bytes."""
        send_rejected(self._publisher, self.rejected, source, position, raw, why)

    async def durable(self) -> None:
        """Return once everything queued before this call is acknowledged by the broker."""
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        self._wake.set()
        await waiter

    async def close(self) -> None:
        """Stop the pump, send every open envelope and flush."""
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        self._flush()

    async def _pump(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), timeout=max(self._linger_s, 0.005))
            except TimeoutError:
                pass
            self._wake.clear()
            if self._waiters:
                self._flush()
                continue
            for batch in self._enveloper.due(time.monotonic()):
                self._publisher.send_batch(batch)
            self._publisher.confirmed()

    def _flush(self) -> None:
        waiters, self._waiters = self._waiters, []
        try:
            for batch in self._enveloper.drain():
                self._publisher.send_batch(batch)
            self._publisher.flush()
        except (PublishError, KafkaError) as exc:  # the waiters must hear of it, not hang
            for w in waiters:
                if not w.done():
                    w.set_exception(exc)
            log.error("publish failed", error=repr(exc))
            return
        for w in waiters:
            if not w.done():
                w.set_result(None)
