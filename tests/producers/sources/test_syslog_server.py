"""The syslog listener on real UDP and TCP sockets, publishing to the real broker."""

from __future__ import annotations

import asyncio
import socket
import ssl
import subprocess
from collections import Counter
from pathlib import Path
from typing import cast

import pytest
from deskwatch.producers.publish import Publisher
from deskwatch.producers.sources.publish_async import AsyncPublishing
from deskwatch.producers.sources.syslog_server import SyslogServer
from deskwatch.schemas import DeadLetter, EventBatch, decode_events_record

from deskwatch.settings import Settings, SyslogSettings
from deskwatch.topology import DEAD_LETTER, EVENTS

from .conftest import LIMITS, read_topic

pytestmark = pytest.mark.integration

M5424 = b"<34>1 2026-11-29T08:00:00Z PC-5424 app 12 ID47 - from 5424 %d"
M3164_NOHOST = b"<13>Nov 29 08:00:01 sshd[1]: no host in this one %d"


async def _tcp_send(port: int, payload: bytes, wait_close: bool = False) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(payload)
    await writer.drain()
    got = await asyncio.wait_for(reader.read(), 5) if wait_close else b""
    writer.close()
    await writer.wait_closed()
    return got


def _octets(message: bytes) -> bytes:
    return b"%d %s" % (len(message), message)


async def _scenario(settings: SyslogSettings, publisher: Publisher) -> tuple[SyslogServer, dict[str, bool]]:
    publishing = AsyncPublishing(publisher, LIMITS, "syslog")
    publishing.start()
    server = SyslogServer(settings, publishing)
    udp, tcp = await server.start()
    udp_port, tcp_port = udp.get_extra_info("sockname")[1], tcp.sockets[0].getsockname()[1]
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(M5424 % 1, ("127.0.0.1", udp_port))
        s.sendto(M3164_NOHOST % 2, ("127.0.0.1", udp_port))
        s.sendto(b"<13>" + b"u" * 2000, ("127.0.0.1", udp_port))  # over max_message_bytes
    await _tcp_send(tcp_port, _octets(M5424 % 3) + _octets(M3164_NOHOST % 4))
    await _tcp_send(tcp_port, (M5424 % 5) + b"\r\n" + (M3164_NOHOST % 6) + b"\n")
    oversize_closed = await _tcp_send(tcp_port, b"99999 <13>abc", wait_close=True) == b""
    await _tcp_send(tcp_port, b"garbage that is not syslog\n")
    # max_connections=2: hold two, the third is closed at once
    held = [await asyncio.open_connection("127.0.0.1", tcp_port) for _ in range(2)]
    third_r, third_w = await asyncio.open_connection("127.0.0.1", tcp_port)
    third_closed = await asyncio.wait_for(third_r.read(), 5) == b""
    # idle_timeout_s=0.5: the held connections are closed by the server
    idle_closed = all([await asyncio.wait_for(r.read(), 5) == b"" for r, _ in held])
    for _, w in [*held, (third_r, third_w)]:
        w.close()
    await asyncio.sleep(0.2)
    udp.close()
    tcp.close()
    await publishing.close()
    return server, {"oversize_closed": oversize_closed, "third_closed": third_closed, "idle_closed": idle_closed}


def test_syslog_udp_and_tcp_both_framings_and_limits(broker_settings: Settings, publisher: Publisher) -> None:
    settings = SyslogSettings(udp_port=0, tcp_port=0, max_message_bytes=1024, max_connections=2,
                              idle_timeout_s=0.5)
    server, flags = asyncio.run(_scenario(settings, publisher))
    assert flags == {"oversize_closed": True, "third_closed": True, "idle_closed": True}
    assert server.refused["too_many_connections"] == 1
    events = [e for r in read_topic(broker_settings, EVENTS.name(broker_settings.kafka))
              for e in cast(EventBatch, decode_events_record(r.value)).events]
    by_message = {e.message: e for e in events}
    assert sorted(by_message) == sorted([(M5424 % i).split(b" - ")[-1].decode() for i in (1, 3, 5)]
                                        + [(M3164_NOHOST % i).split(b": ")[-1].decode() for i in (2, 4, 6)])
    assert Counter(e.host.name for e in events) == {"PC-5424": 3, "127.0.0.1": 3}  # no HOSTNAME: the peer
    letters = Counter(DeadLetter.model_validate_json(r.value).reason
                      for r in read_topic(broker_settings, DEAD_LETTER.name(broker_settings.kafka)))
    assert letters == {"oversize_message": 2, "unparseable_line": 1}
    assert server.publishing.read == 9 and server.publishing.accepted == 6


async def _disallowed(settings: SyslogSettings, publisher: Publisher) -> tuple[SyslogServer, bool]:
    publishing = AsyncPublishing(publisher, LIMITS, "syslog")
    publishing.start()
    server = SyslogServer(settings, publishing)
    udp, tcp = await server.start()
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.sendto(M5424 % 1, ("127.0.0.1", udp.get_extra_info("sockname")[1]))
    closed = await _tcp_send(tcp.sockets[0].getsockname()[1], _octets(M5424 % 2), wait_close=True) == b""
    await asyncio.sleep(0.2)
    udp.close()
    tcp.close()
    await publishing.close()
    return server, closed


def test_syslog_refuses_peers_outside_the_allow_list(broker_settings: Settings, publisher: Publisher) -> None:
    settings = SyslogSettings(udp_port=0, tcp_port=0, allowed_networks=("10.0.0.0/8",))
    server, closed = asyncio.run(_disallowed(settings, publisher))
    assert closed
    assert server.refused["disallowed_network"] == 2  # one datagram, one connection
    assert server.publishing.read == 0
    assert read_topic(broker_settings, EVENTS.name(broker_settings.kafka), timeout_s=2) == []


def _self_signed(folder: Path) -> tuple[Path, Path]:
    cert, key = folder / "syslog.pem", folder / "syslog.key"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=127.0.0.1",
                    "-addext", "subjectAltName=IP:127.0.0.1", "-keyout", str(key), "-out", str(cert)],
                   check=True, capture_output=True)
    return cert, key


async def _tls(settings: SyslogSettings, publisher: Publisher, cert: Path) -> tuple[SyslogServer, bool]:
    publishing = AsyncPublishing(publisher, LIMITS, "syslog")
    publishing.start()
    server = SyslogServer(settings, publishing)
    udp, tcp = await server.start()
    port = tcp.sockets[0].getsockname()[1]
    client = ssl.create_default_context(cafile=str(cert))
    reader, writer = await asyncio.open_connection("127.0.0.1", port, ssl=client)
    writer.write(_octets(M5424 % 7))  # RFC 5425: octet-counted frames inside TLS
    await writer.drain()
    writer.close()
    await writer.wait_closed()
    plain_refused = await _tcp_send(port, _octets(M5424 % 8), wait_close=True) == b""
    await asyncio.sleep(0.2)
    udp.close()
    tcp.close()
    await publishing.close()
    return server, plain_refused


def test_syslog_over_tls_accepts_tls_senders_and_refuses_plain_tcp(
    broker_settings: Settings, publisher: Publisher, tmp_path: Path
) -> None:
    cert, key = _self_signed(tmp_path)
    settings = SyslogSettings(udp_port=0, tcp_port=0, tls_certfile=cert, tls_keyfile=key)
    server, plain_refused = asyncio.run(_tls(settings, publisher, cert))
    assert plain_refused, "a plaintext sender gets no syslog service on the TLS port"
    events = [e for r in read_topic(broker_settings, EVENTS.name(broker_settings.kafka))
              for e in cast(EventBatch, decode_events_record(r.value)).events]
    assert [e.message for e in events] == [(M5424 % 7).split(b" - ")[-1].decode()]
    assert server.publishing.read == 1
