"""Run the network sources until SIGTERM / SIGINT, then flush and report their counts."""

from __future__ import annotations

import asyncio
import signal

import structlog
from aiohttp import web
from deskwatch.producers.envelope import EnvelopeLimits
from deskwatch.producers.publish import Publisher
from deskwatch.producers.sources.http_ingest import build_app
from deskwatch.producers.sources.publish_async import AsyncPublishing
from deskwatch.producers.sources.syslog_server import SyslogServer

from deskwatch.settings import Settings

log = structlog.get_logger(__name__)


async def _until_signalled() -> None:
    stopped = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stopped.set)
    await stopped.wait()


async def serve_syslog(settings: Settings, publisher: Publisher, limits: EnvelopeLimits) -> AsyncPublishing:
    """Listen for syslog on UDP and TCP until signalled; returns the publishing counts after a flush."""
    publishing = AsyncPublishing(publisher, limits, "syslog")
    publishing.start()
    server = SyslogServer(settings.syslog, publishing)
    udp, tcp = await server.start()
    log.info("syslog listening", udp=udp.get_extra_info("sockname"), tcp=[s.getsockname() for s in tcp.sockets])
    print(f"listening syslog udp={udp.get_extra_info('sockname')[1]} tcp={tcp.sockets[0].getsockname()[1]}",
          flush=True)
    try:
        await _until_signalled()
    finally:
        udp.close()
        tcp.close()
        await tcp.wait_closed()
        await publishing.close()
    return publishing


async def serve_http(settings: Settings, publisher: Publisher, limits: EnvelopeLimits) -> AsyncPublishing:
    """Serve ``POST /v1/events`` until signalled; returns the publishing counts after a flush."""
    publishing = AsyncPublishing(publisher, limits, "http")
    publishing.start()
    runner = web.AppRunner(build_app(settings.http_ingest, publishing), access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, settings.http_ingest.host, settings.http_ingest.port)
    await site.start()
    port = runner.addresses[0][1]
    print(f"listening http port={port}", flush=True)
    try:
        await _until_signalled()
    finally:
        await runner.cleanup()
        await publishing.close()
    return publishing
