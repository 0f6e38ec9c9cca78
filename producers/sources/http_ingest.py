"""HTTP batch ingest: ``POST /v1/events`` with NDJSON lines, one result per line in the response.

A 200 means durable: the response is sent only after the broker acknowledged the accepted lines
(and the dead letters of the rejected ones). 401 without the right bearer token (compared in
constant time), 413 over ``max_body_bytes``, 408 for a body slower than ``body_timeout_s``, 429
past ``max_concurrent_requests`` or past a client address's ``rate_limit_per_s`` / ``rate_limit_burst``
(with ``Retry-After``), 503 when the broker does not acknowledge in time;
bad lines are per-line rejections, never a 500.
"""

from __future__ import annotations

import asyncio
import hmac
import math
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime

from aiohttp import web
from aiohttp.typedefs import Middleware
from deskwatch.producers.parse.contract import Rejected, SourceContext
from deskwatch.producers.parse.dispatch import PARSERS
from deskwatch.producers.publish import PublishError
from deskwatch.producers.sources.publish_async import AsyncPublishing
from kafka.errors import KafkaError

from deskwatch.settings import HttpIngestSettings

SOURCE = "http"
LINE_FORMATS = ("jsonl", "ecs_json", "nxlog_json", "syslog")


class HttpIngestError(Exception):
    """The HTTP ingest cannot start as configured (no token)."""


class RateLimiter:
    """A token bucket per client address: ``burst`` at once, then ``rate_per_s`` (time passed in).

    At most ``max_clients`` buckets are kept (least recently seen dropped first), so a flood from
    many addresses cannot grow memory without bound; a dropped client merely starts full again.
    """

    def __init__(self, rate_per_s: float, burst: int, max_clients: int = 65_536) -> None:
        self._rate, self._burst, self._max_clients = rate_per_s, float(burst), max_clients
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # tokens, when

    def admit(self, client: str, now: float) -> float:
        """0.0 when the request may proceed (one token spent), else seconds until it could."""
        tokens, then = self._buckets.pop(client, (self._burst, now))
        tokens = min(self._burst, tokens + (now - then) * self._rate)
        wait = 0.0 if tokens >= 1.0 else (1.0 - tokens) / self._rate
        self._buckets[client] = (tokens - 1.0 if wait == 0.0 else tokens, now)
        if len(self._buckets) > self._max_clients:
            self._buckets.popitem(last=False)
        return wait

    def __len__(self) -> int:
        return len(self._buckets)


Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def rate_limit_middleware(limiter: RateLimiter) -> Middleware:
    """Answer 429 with ``Retry-After`` (whole seconds, RFC 9110) to a client over its rate, on any path."""

    @web.middleware
    async def limit(request: web.Request, handler: Handler) -> web.StreamResponse:
        # The peer address, never X-Forwarded-For: a header the client writes cannot buy it a new bucket.
        wait = limiter.admit(request.remote or "", time.monotonic())
        if wait > 0.0:
            return web.json_response({"error": "rate limit exceeded"}, status=429,
                                     headers={"Retry-After": str(max(1, math.ceil(wait)))})
        return await handler(request)

    return limit


def build_app(settings: HttpIngestSettings, publishing: AsyncPublishing) -> web.Application:
    """The aiohttp application; the caller runs it (and owns ``publishing``)."""
    if settings.token is None or not settings.token.get_secret_value():
        raise HttpIngestError("http_ingest.token is unset: refusing to serve without authentication")
    expected = f"Bearer {settings.token.get_secret_value()}".encode()
    # client_max_size makes aiohttp answer 413 itself once a body grows past the limit;
    # keepalive_timeout also closes a connection that never completes its head (slow loris).
    limiter = RateLimiter(settings.rate_limit_per_s, settings.rate_limit_burst)
    app = web.Application(client_max_size=settings.max_body_bytes,
                          handler_args={"keepalive_timeout": settings.header_timeout_s},
                          middlewares=[rate_limit_middleware(limiter)])
    in_progress = 0

    async def post_events(request: web.Request) -> web.Response:
        nonlocal in_progress
        if in_progress >= settings.max_concurrent_requests:
            return web.json_response({"error": "too many requests in progress"}, status=429,
                                     headers={"Retry-After": "1"})
        in_progress += 1
        try:
            return await _post_events(request)
        finally:
            in_progress -= 1

    async def _post_events(request: web.Request) -> web.Response:
        supplied = request.headers.get("Authorization", "").encode()
        if not hmac.compare_digest(supplied, expected):
            return web.json_response({"error": "missing or invalid bearer token"}, status=401)
        if request.content_length is not None and request.content_length > settings.max_body_bytes:
            return web.json_response({"error": f"body over {settings.max_body_bytes} bytes"}, status=413)
        fmt = request.query.get("format", "jsonl")
        if fmt not in LINE_FORMATS:
            return web.json_response({"error": f"format must be one of {', '.join(LINE_FORMATS)}"}, status=400)
        try:
            body = await asyncio.wait_for(request.read(), settings.body_timeout_s)
        except TimeoutError:
            return web.json_response({"error": f"body not received in {settings.body_timeout_s} s"},
                                     status=408, headers={"Connection": "close"})
        results = _ingest_body(body, fmt, publishing)
        try:
            await asyncio.wait_for(publishing.durable(), settings.ack_timeout_s)
        except (TimeoutError, PublishError, KafkaError) as exc:  # the client must retry: nothing is promised
            return web.json_response({"error": f"broker did not acknowledge: {exc!r}"}, status=503)
        accepted = sum(1 for r in results if r["status"] == "accepted")
        return web.json_response({"accepted": accepted, "rejected": len(results) - accepted, "results": results})

    app.router.add_post("/v1/events", post_events)
    return app


def _ingest_body(body: bytes, fmt: str, publishing: AsyncPublishing) -> list[dict[str, object]]:
    """Parse and queue every non-blank line; one result per line (1-based line numbers)."""
    parse = PARSERS[fmt]
    context = SourceContext(source=SOURCE, reference_time=datetime.now(UTC))
    results: list[dict[str, object]] = []
    for number, raw in enumerate(body.split(b"\n"), start=1):
        raw = raw.rstrip(b"\r")
        if not raw.strip():
            continue
        result = parse(raw, number, context)
        publishing.add(SOURCE, number, raw, result)
        if isinstance(result, Rejected):
            results.append({"line": number, "status": "rejected", "reason": result.reason, "detail": result.detail})
        else:
            results.append({"line": number, "status": "accepted", "id": result.event.id})
    return results
