"""POST one change to one URL until it is delivered or the attempts are spent, sorting by remedy.

- 2xx → delivered;
- connection errors, timeouts, 408, 429 and 5xx → retry with exponential backoff, up to the bound;
- any other status (400, 401, 404, 410, …) → the receiver refuses it: retrying cannot help, so the
  change goes to the dead-letter topic at once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import structlog
import urllib3

from deskwatch.settings import WebhookSettings

log = structlog.get_logger(__name__)

RETRYABLE_STATUS = frozenset({408, 429, 500, 502, 503, 504})


class Outcome(StrEnum):
    DELIVERED = "delivered"
    EXHAUSTED = "exhausted"  # retryable failures up to max_attempts
    REFUSED = "refused"  # a status retrying cannot fix


@dataclass(frozen=True)
class Attempt:
    """The result of delivering one body to one URL."""

    url: str
    outcome: Outcome
    attempts: int
    last_status: int | None
    reason: str = ""


def backoff(attempt: int, settings: WebhookSettings) -> float:
    """Seconds to wait after failed attempt ``attempt`` (1-based): doubling, capped."""
    return min(settings.backoff_initial_s * 2.0 ** (attempt - 1), settings.backoff_max_s)


def post(http: urllib3.PoolManager, url: str, body: bytes, headers: Mapping[str, str],
         settings: WebhookSettings) -> tuple[int | None, str]:
    """One POST; (status or None on a transport error, a short reason)."""
    timeout = urllib3.Timeout(connect=settings.connect_timeout_s, read=settings.read_timeout_s)
    try:
        resp = http.request("POST", url, body=body, headers=dict(headers), timeout=timeout, retries=False,
                            redirect=False)
    except urllib3.exceptions.HTTPError as exc:
        return None, f"{type(exc).__name__}: {exc}"[:300]
    return resp.status, f"HTTP {resp.status}"


def deliver(http: urllib3.PoolManager, url: str, body: bytes, headers: Mapping[str, str],
            settings: WebhookSettings, sleep: Callable[[float], Any] = time.sleep) -> Attempt:
    """Deliver, retrying what may succeed later; never raises for the receiver's behaviour."""
    status: int | None = None
    reason = ""
    for attempt in range(1, settings.max_attempts + 1):
        status, reason = post(http, url, body, headers, settings)
        if status is not None and 200 <= status < 300:
            return Attempt(url, Outcome.DELIVERED, attempt, status)
        if status is not None and status not in RETRYABLE_STATUS:
            return Attempt(url, Outcome.REFUSED, attempt, status, reason)
        if attempt < settings.max_attempts:
            delay = backoff(attempt, settings)
            log.warning("webhook attempt failed, backing off", url=url, attempt=attempt, reason=reason, delay_s=delay)
            sleep(delay)
    return Attempt(url, Outcome.EXHAUSTED, settings.max_attempts, status, reason)
