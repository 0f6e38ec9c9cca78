"""Bulk-write items and sort every outcome by remedy.

- indexed, or 409 on an external version (an equal or newer revision is already there: a replay,
  "already applied") → done;
- 429 / 5xx / connection errors → retry the whole request or the failed items, with backoff;
- any other item error (a mapping conflict, say) → permanent: the caller dead-letters it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

import structlog
from elastic_transport import ConnectionError as TransportConnectionError
from elasticsearch import ApiError

from deskwatch.sinks.elasticsearch.encode import BulkItem, bulk_body

log = structlog.get_logger(__name__)

_RETRYABLE_STATUS = {429, 500, 502, 503, 504}


class Outcome(StrEnum):
    INDEXED = "indexed"
    ALREADY_APPLIED = "already_applied"
    REJECTED = "rejected"


@dataclass
class BulkReport:
    counts: dict[Outcome, int] = field(default_factory=lambda: {o: 0 for o in Outcome})
    rejected: list[tuple[BulkItem, str]] = field(default_factory=list)
    retries: int = 0


def write_items(
    client: Any,
    items: list[BulkItem],
    max_backoff_s: float,
    sleep: Callable[[float], None] = time.sleep,
    refresh: bool = False,
) -> BulkReport:
    """Write until every item is indexed, already applied, or permanently rejected."""
    report = BulkReport()
    pending = items
    delay = 0.25
    while pending:
        try:
            resp = client.bulk(operations=bulk_body(pending), refresh=refresh)
        except (TransportConnectionError, ApiError) as exc:
            if isinstance(exc, ApiError) and exc.meta.status not in _RETRYABLE_STATUS:
                raise
            log.warning("elasticsearch unavailable, backing off", error=type(exc).__name__, delay_s=delay)
            report.retries += 1
            sleep(delay)
            delay = min(delay * 2, max_backoff_s)
            continue
        pending = _sort(pending, resp["items"], report)
        if pending:
            report.retries += 1
            sleep(delay)
            delay = min(delay * 2, max_backoff_s)
    return report


def _sort(items: list[BulkItem], results: list[dict[str, Any]], report: BulkReport) -> list[BulkItem]:
    """Count each item's outcome; return the ones to retry."""
    retry: list[BulkItem] = []
    for item, result in zip(items, results, strict=True):
        status = result["index"]["status"]
        if status < 300:
            report.counts[Outcome.INDEXED] += 1
        elif status == 409:
            report.counts[Outcome.ALREADY_APPLIED] += 1
        elif status in _RETRYABLE_STATUS:
            retry.append(item)
        else:
            report.counts[Outcome.REJECTED] += 1
            report.rejected.append((item, _reason(result["index"].get("error"))))
    return retry


def _reason(error: Any) -> str:
    if isinstance(error, dict):
        return f"{error.get('type', 'error')}: {str(error.get('reason', ''))[:500]}"
    return str(error)[:500]
