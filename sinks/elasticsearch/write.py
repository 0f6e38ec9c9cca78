"""Bulk-write items and sort every outcome by remedy; wait for Elasticsearch at start-up.

- indexed, or 409 on an external version (an equal or newer version is already there: a replay,
  "already applied") → done;
- 429 / 5xx / connection errors → retry the whole request or the failed items, with capped
  exponential backoff, for as long as it takes (an outage is logged once when it starts and once
  when it ends, never per retry);
- any other item error (a mapping conflict, say) → permanent: the caller dead-letters it.

At start-up (``until_answered``) the same failures are waited out too, but for a bounded time:
a sink started with its Elasticsearch (a host's boot, a supervisor restarting both) then starts
when the server does, rather than exiting and being restarted at once, again and again, by a
supervisor without back-off. Past the bound the error is raised, and the command exits 69.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, TypeVar

import structlog
from elastic_transport import ConnectionError as TransportConnectionError
from elastic_transport import ConnectionTimeout
from elasticsearch import ApiError

from deskwatch.sinks.elasticsearch.encode import BulkItem, bulk_body

log = structlog.get_logger(__name__)

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
# What ``sort_results`` reads of the response: each item's status and error. Elasticsearch leaves
# out the rest (index, id, version, shards, sequence numbers: ~200 bytes an item), which it need
# not serialise nor the client parse; every item has a status, so the items keep their order.
BULK_FILTER = "items.*.status,items.*.error"
FIRST_DELAY_S = 0.25
# Also worth waiting out at start-up: the cluster health call answers 408 when the cluster did not
# reach its status within the call's own timeout (a node still recovering its shards).
STARTUP_RETRYABLE_STATUS = RETRYABLE_STATUS | {408}

T = TypeVar("T")


class Outcome(StrEnum):
    INDEXED = "indexed"
    ALREADY_APPLIED = "already_applied"
    REJECTED = "rejected"


@dataclass
class BulkReport:
    """What happened to one call's items; ``rejected`` pairs an item with the ES error."""

    counts: dict[Outcome, int] = field(default_factory=lambda: {o: 0 for o in Outcome})
    rejected: list[tuple[BulkItem, str]] = field(default_factory=list)
    retries: int = 0


@dataclass
class Outage:
    """Whether Elasticsearch is currently failing us, so it is logged once per outage (the sink's
    writer threads share one)."""

    since: float | None = None
    retries: int = 0
    outages: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False, compare=False)

    def failed(self, why: str) -> None:
        """A retryable failure: log only the first of an outage."""
        with self._lock:
            self.retries += 1
            if self.since is not None:
                return
            self.since = time.monotonic()
            self.outages += 1
        log.warning("elasticsearch unavailable, backing off until it answers", error=why)

    def answered(self) -> None:
        """A bulk call got an answer: an ongoing outage is over."""
        with self._lock:
            if self.since is None:
                return
            outage_s, retries = time.monotonic() - self.since, self.retries
            self.since, self.retries = None, 0
        log.warning("elasticsearch answers again", outage_s=round(outage_s, 1), retries=retries)


def write_items(
    client: Any,
    items: list[BulkItem],
    max_backoff_s: float,
    sleep: Callable[[float], None] = time.sleep,
    refresh: bool = False,
    outage: Outage | None = None,
) -> BulkReport:
    """Write until every item is indexed, already applied, or permanently rejected."""
    outage = outage if outage is not None else Outage()
    report = BulkReport()
    pending, delay = items, FIRST_DELAY_S
    while pending:
        resp = _bulk(client, pending, refresh, outage)
        if resp is not None:
            outage.answered()
            pending = sort_results(pending, resp["items"], report)
            if pending:
                outage.failed("some items got 429/5xx")
        if pending:
            report.retries += 1
            sleep(delay)
            delay = min(delay * 2, max_backoff_s)
    return report


def _bulk(client: Any, items: list[BulkItem], refresh: bool, outage: Outage) -> dict[str, Any] | None:
    """One bulk request; None when it failed in a way worth retrying."""
    try:
        return dict(client.bulk(operations=bulk_body(items), refresh=refresh, filter_path=BULK_FILTER))
    except (TransportConnectionError, ConnectionTimeout, ApiError) as exc:
        why = retry_reason(exc, RETRYABLE_STATUS)
        if why is None:
            raise
        outage.failed(why)
    return None


def retry_reason(exc: Exception, statuses: frozenset[int]) -> str | None:
    """Why ``exc`` is worth retrying ("ConnectionError", "HTTP 503": no connection, or one of
    ``statuses``), or None when it is not."""
    if isinstance(exc, (TransportConnectionError, ConnectionTimeout)):
        return type(exc).__name__
    if isinstance(exc, ApiError) and exc.meta.status in statuses:
        return f"HTTP {exc.meta.status}"
    return None


def sort_results(items: list[BulkItem], results: list[dict[str, Any]], report: BulkReport) -> list[BulkItem]:
    """Count each item's outcome into ``report``; return the ones to retry."""
    retry: list[BulkItem] = []
    for item, result in zip(items, results, strict=True):
        status = result["index"]["status"]
        if status < 300:
            report.counts[Outcome.INDEXED] += 1
        elif status == 409:
            report.counts[Outcome.ALREADY_APPLIED] += 1
        elif status in RETRYABLE_STATUS:
            retry.append(item)
        else:
            report.counts[Outcome.REJECTED] += 1
            report.rejected.append((item, _reason(result["index"].get("error"))))
    return retry


def _reason(error: Any) -> str:
    if isinstance(error, dict):
        text = f"{error.get('type', 'error')}: {str(error.get('reason', ''))[:500]}"
        cause = error.get("caused_by")
        return f"{text} (caused by {_reason(cause)})" if isinstance(cause, dict) else text
    return str(error)[:500]


def until_answered(
    call: Callable[[], T],
    wait_s: float,
    max_backoff_s: float,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> T:
    """``call()``, again with capped exponential backoff while Elasticsearch cannot be reached or
    answers 408/429/5xx, for up to ``wait_s`` seconds; then the last error is raised. Any other
    error (wrong credentials, a refused template) is raised at once: waiting would not mend it.
    The wait is logged once when it starts and once when it ends. ``sleep`` may raise to abandon it."""
    deadline = clock() + wait_s
    delay, waited_since = FIRST_DELAY_S, None
    while True:
        try:
            result = call()
        except (TransportConnectionError, ConnectionTimeout, ApiError) as exc:
            why = retry_reason(exc, STARTUP_RETRYABLE_STATUS)
            if why is None:
                raise
            left = deadline - clock()
            if left <= 0:
                if waited_since is not None:
                    log.error("elasticsearch did not answer in time, giving up", waited_s=round(wait_s, 1))
                raise
            if waited_since is None:
                waited_since = clock()
                log.warning("elasticsearch not answering yet, waiting", error=why, up_to_s=round(wait_s, 1))
            sleep(min(delay, left))
            delay = min(delay * 2, max_backoff_s)
            continue
        if waited_since is not None:
            log.warning("elasticsearch answers, starting", waited_s=round(clock() - waited_since, 1))
        return result
