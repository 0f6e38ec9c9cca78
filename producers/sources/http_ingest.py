"""HTTP batch ingest: ``POST /v1/events`` with NDJSON lines, one result per line in the response.

A 200 means durable: the response is sent only after the broker acknowledged the accepted lines
(and the dead letters of the rejected ones). 401 without the right bearer token (compared in
constant time), 413 over ``max_body_bytes``, 408 for a body slower than ``body_timeout_s``, 429
past ``max_concurrent_requests``, 503 when the broker does not acknowledge in time;
bad lines are per-line rejections, never a 500.
"""

from __future__ import annotations

import asyncio
import hmac
from datetime import UTC, datetime

from aiohttp import web
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


def build_app(settings: HttpIngestSettings, publishing: AsyncPublishing) -> web.Application:
    """The aiohttp application; the caller runs it (and owns ``publishing``)."""
    if settings.token is None or not settings.token.get_secret_value():
        raise HttpIngestError("http_ingest.token is unset: refusing to serve without authentication")
    expected = f"Bearer {settings.token.get_secret_value()}".encode()
    # client_max_size makes aiohttp answer 413 itself once a body grows past the limit;
    # keepalive_timeout also closes a connection that never completes its head (slow loris).
    app = web.Application(client_max_size=settings.max_body_bytes,
                          handler_args={"keepalive_timeout": settings.header_timeout_s})
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
