"""Syslog listener on UDP and TCP (asyncio), with an allow-list, size, connection, idle and
unfinished-message limits.

The host is the message's own HOSTNAME; when it has none, the peer's address. Every message gets a
unique position (listener start + counter): network messages are never re-read, so two identical
lines are two events, not one event read twice.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import time
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import structlog
from deskwatch.producers.parse.contract import Rejected, SourceContext
from deskwatch.producers.parse.syslog import parse_syslog
from deskwatch.producers.sources.publish_async import AsyncPublishing
from deskwatch.producers.sources.syslog_frame import FramingError, SyslogFramer

from deskwatch.settings import SyslogSettings

log = structlog.get_logger(__name__)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


class SyslogServer:
    """Parses what the UDP and TCP endpoints receive and hands it to ``AsyncPublishing``."""

    def __init__(self, settings: SyslogSettings, publishing: AsyncPublishing) -> None:
        self.settings = settings
        self.publishing = publishing
        self._allowed: tuple[Network, ...] = tuple(ipaddress.ip_network(n) for n in settings.allowed_networks)
        self._epoch = time.time_ns()
        self._counter = 0
        self.connections = 0
        self.refused: dict[str, int] = {"disallowed_network": 0, "too_many_connections": 0}

    def allowed(self, peer: str) -> bool:
        """Is ``peer`` inside an allowed network?"""
        address = ipaddress.ip_address(peer)
        return any(address in net for net in self._allowed)

    def receive(self, message: bytes, peer: str, transport: str) -> None:
        """Parse one message from ``peer`` and publish it (or dead-letter it)."""
        self._counter += 1
        position = f"{self._epoch}:{self._counter}"
        source = f"syslog-{transport}"
        if len(message) > self.settings.max_message_bytes:
            self.publishing.add(source, position, message[: self.settings.max_message_bytes],
                                Rejected("oversize_message", f"{len(message)} bytes from {peer}"))
            return
        self.publishing.add(source, position, message, parse_syslog(message, 0, _context(source, peer)))

    async def start(self) -> tuple[asyncio.DatagramTransport, asyncio.Server]:
        """Bind both endpoints (ports from the settings; 0 picks a free one)."""
        loop = asyncio.get_running_loop()
        udp, _ = await loop.create_datagram_endpoint(lambda: _Datagrams(self),
                                                     local_addr=(self.settings.host, self.settings.udp_port))
        # UDP has no flow control: a burst beyond the socket buffer is dropped by the kernel unseen.
        udp.get_extra_info("socket").setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF,
                                                self.settings.udp_receive_buffer_bytes)
        tcp = await loop.create_server(lambda: _Stream(self), self.settings.host, self.settings.tcp_port,
                                       ssl=tls_context(self.settings))
        return udp, tcp


def tls_context(settings: SyslogSettings) -> ssl.SSLContext | None:
    """TLS for the TCP listener (RFC 5425: syslog over TLS, octet-counted) when a certificate is set.

    UDP senders cannot be authenticated; the allow-list of networks is their only gate.
    """
    if settings.tls_certfile is None:
        return None
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(settings.tls_certfile, settings.tls_keyfile)
    return context


@lru_cache(maxsize=4096)
def _context(source: str, peer: str) -> SourceContext:
    # reference_time for year inference: now, rounded to the hour so the cache stays useful.
    now = datetime.now(UTC).replace(minute=0, second=0, microsecond=0)
    return SourceContext(source=source, default_host=peer, reference_time=now)


class _Datagrams(asyncio.DatagramProtocol):
    def __init__(self, server: SyslogServer) -> None:
        self._server = server

    def datagram_received(self, data: bytes, addr: tuple[str | Any, int]) -> None:
        if not self._server.allowed(addr[0]):
            self._server.refused["disallowed_network"] += 1
            return
        self._server.receive(data.rstrip(b"\r\n\x00"), addr[0], "udp")


class _Stream(asyncio.Protocol):
    def __init__(self, server: SyslogServer) -> None:
        self._server = server
        self._framer = SyslogFramer(server.settings.max_message_bytes)
        self._transport: asyncio.Transport | None = None
        self._peer = ""
        self._idle: asyncio.TimerHandle | None = None
        self._unfinished: asyncio.TimerHandle | None = None  # a slow sender's message deadline
        self._counted = False

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]
        self._peer = transport.get_extra_info("peername")[0]
        server = self._server
        if not server.allowed(self._peer):
            return self._refuse("disallowed_network")
        if server.connections >= server.settings.max_connections:
            return self._refuse("too_many_connections")
        server.connections += 1
        self._counted = True
        self._arm()

    def data_received(self, data: bytes) -> None:
        self._arm()
        try:
            messages = self._framer.feed(data)
        except FramingError as exc:
            self._server.publishing.add("syslog-tcp", None, exc.head, Rejected(exc.reason, f"from {self._peer}"))
            self._framer.rest()  # the stream's framing is lost: nothing after this is a message
            self._close()
            return
        for message in messages:
            self._server.receive(message, self._peer, "tcp")
        self._watch_unfinished()

    def connection_lost(self, exc: Exception | None) -> None:
        rest = self._framer.rest()
        if rest.strip() and self._counted:
            self._server.receive(rest, self._peer, "tcp")
        if self._idle is not None:
            self._idle.cancel()
        if self._unfinished is not None:
            self._unfinished.cancel()
        if self._counted:
            self._server.connections -= 1
            self._counted = False

    def _arm(self) -> None:
        if self._idle is not None:
            self._idle.cancel()
        self._idle = asyncio.get_running_loop().call_later(self._server.settings.idle_timeout_s, self._close)

    def _watch_unfinished(self) -> None:
        # The idle timer restarts on every byte, so one byte a second would hold a connection forever.
        if not self._framer.pending():
            if self._unfinished is not None:
                self._unfinished.cancel()
                self._unfinished = None
        elif self._unfinished is None:
            timeout = self._server.settings.message_timeout_s
            self._unfinished = asyncio.get_running_loop().call_later(timeout, self._timed_out)

    def _timed_out(self) -> None:
        head = self._framer.rest()[: self._server.settings.max_message_bytes]
        detail = f"message unfinished after {self._server.settings.message_timeout_s} s from {self._peer}"
        self._server.publishing.add("syslog-tcp", None, head, Rejected("message_timeout", detail))
        self._close()

    def _refuse(self, reason: str) -> None:
        self._server.refused[reason] += 1
        log.warning("syslog connection refused", peer=self._peer, reason=reason)
        self._close()

    def _close(self) -> None:
        if self._transport is not None:
            self._transport.close()
