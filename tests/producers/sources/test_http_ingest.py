"""HTTP batch ingest on a real socket, publishing to the real broker: token, size limit, mixed lines."""

from __future__ import annotations

import asyncio
from typing import Any, cast

import aiohttp
import orjson
import pytest
from aiohttp import web
from deskwatch.producers.publish import Publisher
from deskwatch.producers.sources.http_ingest import HttpIngestError, build_app
from deskwatch.producers.sources.publish_async import AsyncPublishing
from deskwatch.schemas import DeadLetter, EventBatch, decode_events_record
from pydantic import SecretStr

from deskwatch.settings import HttpIngestSettings, Settings
from deskwatch.topology import DEAD_LETTER, EVENTS

from .conftest import LIMITS, read_topic

pytestmark = pytest.mark.integration

TOKEN = "s3cret-token"
GOOD = orjson.dumps({"@timestamp": "2026-11-29T08:00:00Z", "event": {"code": "7", "provider": "disk"},
                     "host": {"name": "PC-9"}, "message": "bad block"})
NO_HOST = b'{"@timestamp": "2026-11-29T08:00:00Z", "event": {"code": "7", "provider": "disk"}}'


async def _requests(settings: HttpIngestSettings, publisher: Publisher,
                    calls: list[tuple[dict[str, str], bytes]]) -> list[tuple[int, Any]]:
    publishing = AsyncPublishing(publisher, LIMITS, "http")
    publishing.start()
    runner = web.AppRunner(build_app(settings, publishing))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/v1/events"
    out = []
    async with aiohttp.ClientSession() as session:
        for headers, body in calls:
            async with session.post(url, data=body, headers=headers) as resp:
                out.append((resp.status, await resp.json(content_type=None) if resp.status != 413 else None))
    await runner.cleanup()
    await publishing.close()
    return out


AUTH = {"Authorization": f"Bearer {TOKEN}"}
CASES = [
    ("no-token", {}, GOOD, 401),
    ("wrong-token", {"Authorization": "Bearer nope"}, GOOD, 401),
    ("token-without-bearer", {"Authorization": TOKEN}, GOOD, 401),
    ("over-size", AUTH, GOOD + b"\n" + b"x" * 5000, 413),
    ("empty-body", AUTH, b"", 200),
    ("only-bad-lines", AUTH, b"not json\n{}\n", 200),
]


@pytest.mark.parametrize(("headers", "body", "status"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_status_codes(broker_settings: Settings, publisher: Publisher,
                      headers: dict[str, str], body: bytes, status: int) -> None:
    settings = HttpIngestSettings(token=SecretStr(TOKEN), max_body_bytes=4096)
    [(got, _)] = asyncio.run(_requests(settings, publisher, [(headers, body)]))
    assert got == status


def test_mixed_lines_get_per_line_results_and_200_means_published(
    broker_settings: Settings, publisher: Publisher
) -> None:
    settings = HttpIngestSettings(token=SecretStr(TOKEN), max_body_bytes=65536)
    body = b"\n".join([GOOD, b"not json", NO_HOST, b"", GOOD.replace(b"PC-9", b"PC-10") + b"\r"]) + b"\n"
    [(status, payload)] = asyncio.run(_requests(settings, publisher, [(AUTH, body)]))
    assert status == 200
    assert (payload["accepted"], payload["rejected"]) == (2, 2)
    assert [(r["line"], r["status"], r.get("reason")) for r in payload["results"]] == [
        (1, "accepted", None), (2, "rejected", "invalid_json"), (3, "rejected", "missing_host"),
        (5, "accepted", None)]
    # The response came after the broker's acknowledgement: the records are on the topics now.
    events = [e for r in read_topic(broker_settings, EVENTS.name(broker_settings.kafka))
              for e in cast(EventBatch, decode_events_record(r.value)).events]
    assert sorted(e.event_id for e in events) == sorted(r["id"] for r in payload["results"] if "id" in r)
    letters = [DeadLetter.model_validate_json(r.value) for r in read_topic(broker_settings, DEAD_LETTER.name(broker_settings.kafka))]
    assert sorted((d.reason, d.original) for d in letters) == [("invalid_json", b"not json"), ("missing_host", NO_HOST)]


def test_refuses_to_start_without_a_token(publisher: Publisher) -> None:
    async def build() -> None:
        build_app(HttpIngestSettings(), AsyncPublishing(publisher, LIMITS, "http"))

    with pytest.raises(HttpIngestError):
        asyncio.run(build())


async def _from_addresses(settings: HttpIngestSettings, publisher: Publisher,
                          calls: list[tuple[str, dict[str, str]]]) -> list[tuple[int, str | None]]:
    """POST one GOOD line per call from the given loopback source address; (status, Retry-After)."""
    publishing = AsyncPublishing(publisher, LIMITS, "http")
    publishing.start()
    runner = web.AppRunner(build_app(settings, publishing))
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    url = f"http://127.0.0.1:{runner.addresses[0][1]}/v1/events"
    sessions = {a: aiohttp.ClientSession(connector=aiohttp.TCPConnector(local_addr=(a, 0)))
                for a in {address for address, _ in calls}}
    out = []
    try:
        for address, headers in calls:
            async with sessions[address].post(url, data=GOOD, headers=headers) as resp:
                out.append((resp.status, resp.headers.get("Retry-After")))
    finally:
        for session in sessions.values():
            await session.close()
        await runner.cleanup()
        await publishing.close()
    return out


A, B = "127.0.0.1", "127.0.0.2"  # two client addresses, both loopback (Linux routes all of 127/8)
WRONG = {"Authorization": "Bearer nope"}


def test_each_client_address_gets_its_own_rate_limit_answered_429_with_retry_after(
    broker_settings: Settings, publisher: Publisher
) -> None:
    # burst 3, then one request per 4 s: the test's requests come far faster than that.
    settings = HttpIngestSettings(token=SecretStr(TOKEN), rate_limit_per_s=0.25, rate_limit_burst=3)
    calls = [(A, AUTH), (A, WRONG), (A, AUTH), (A, AUTH), (A, AUTH), (B, AUTH), (A, WRONG)]
    got = asyncio.run(_from_addresses(settings, publisher, calls))
    assert got == [(200, None), (401, None), (200, None), (429, "4"), (429, "4"), (200, None), (429, "4")]
    # A refused request published nothing: only the three admitted GOOD lines reached the topic.
    events = [e for r in read_topic(broker_settings, EVENTS.name(broker_settings.kafka))
              for e in cast(EventBatch, decode_events_record(r.value)).events]
    assert len(events) == 3
