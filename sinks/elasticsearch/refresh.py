"""Make new incident revisions searchable at once, not at the next periodic refresh.

Decision: an operator is waiting for incidents, and a document is searchable only after a refresh
of its index. With the periodic ``refresh_interval`` alone (1 s by default) a revision waits up to
that long after its write, more under load: the latency bench measured that wait at p50 582 ms,
p99 1,383 ms, more than every pipeline hop before it together. The two incident indices take few
writes (revisions and transitions, not events), so after a bulk request that wrote to either, they
are refreshed, at most once per ``sink.incident_refresh_min_interval_s``. The events indices take
the volume and keep the periodic refresh: refreshing them per bulk request would cut a segment per
request.

The refresh runs on a thread of its own: a refresh waits for Elasticsearch (a few hundred ms on a
loaded machine), and done in the sink's loop it delayed the next bulk request by as much (the
latency bench's sink hop went from p50 58 to 257 ms). A refresh concerns visibility only (a write
is durable once acknowledged), so it never holds a commit back; a failed one stays due.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import structlog
from elastic_transport import TransportError
from elasticsearch import ApiError

log = structlog.get_logger(__name__)

RETRY_S = 1.0  # after a failed refresh


@dataclass
class RefreshPacer:
    """When the incident indices are due an explicit refresh (pure: time passed in)."""

    min_interval_s: float
    enabled: bool = True
    last_at: float = float("-inf")  # when the last refresh started
    pending: bool = False  # written since the last refresh started

    def wrote(self) -> None:
        """Documents went into an incident index: they are not searchable until a refresh."""
        self.pending = self.enabled

    def wait_s(self, now: float) -> float | None:
        """Seconds until a refresh is due (0: now); None when nothing waits for one."""
        if not self.pending:
            return None
        return max(0.0, self.last_at + self.min_interval_s - now)

    def take(self, now: float) -> bool:
        """Start a refresh if one is due: it covers every write acknowledged before ``now``."""
        if self.wait_s(now) != 0.0:
            return False
        self.pending, self.last_at = False, now
        return True

    def failed(self) -> None:
        """The refresh did not happen: what it was to cover still waits."""
        self.pending = self.enabled


class IncidentRefresher:
    """Refreshes the incident indices on its own thread when the pacer says so."""

    def __init__(self, client: Any, indices: Sequence[str], pacer: RefreshPacer) -> None:
        self._client, self._indices, self._pacer = client, list(indices), pacer
        self._lock, self._wake, self._stop = threading.Lock(), threading.Event(), threading.Event()
        self._thread = threading.Thread(target=self._run, name="incident-refresh", daemon=True)
        self.refreshes = 0

    def start(self) -> None:
        if self._pacer.enabled:
            self._thread.start()

    def wrote(self) -> None:
        """Called after a bulk request that wrote to an incident index."""
        with self._lock:
            self._pacer.wrote()
        self._wake.set()

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            with self._lock:
                now = time.monotonic()
                wait = self._pacer.wait_s(now)
                started = wait == 0.0 and self._pacer.take(now)
            if wait is None:
                self._wake.wait()
                self._wake.clear()
            elif not started:
                self._stop.wait(wait)
            elif refresh_indices(self._client, self._indices):
                self.refreshes += 1
            else:
                with self._lock:
                    self._pacer.failed()
                self._stop.wait(RETRY_S)


def refresh_indices(client: Any, indices: Sequence[str]) -> bool:
    """Refresh ``indices``; False (logged) when Elasticsearch did not do it, so it is tried again."""
    try:
        client.indices.refresh(index=list(indices))
    except (ApiError, TransportError) as err:
        log.warning("incident indices not refreshed, will retry", error=type(err).__name__)
        return False
    return True
