"""kafka-python 3.0.12 drops the bytes that arrived with a broker's close; deskwatch reads them first.

Its transports read a socket until it would block (``_sock_recv``), then hand the bytes to the
protocol, unless the last read found the connection closed: then they abort with "socket
disconnected" and the bytes read before the close are never parsed. A Kafka broker answers a
refused SASL password and closes the connection at once (after its
``connection.failed.authentication.delay.ms``), so the answer and the close usually arrive in
one read: the ``SaslAuthenticationFailedError`` it carries was lost on 30 attempts of 30 by one
client on this machine, and ``deskwatch`` then said "cannot reach Kafka, is it running?" for a
broker that had answered, and refused (exit 69, not 77; the fresh-clone CI of 2026-12-06 failed
on it). The same holds for any response a broker sends just before it closes.

Decision: wrap both transports' ``_sock_recv`` so that bytes read before a close are returned
without the error; the transport parses them, and its next read finds the close again (a closed
socket reads empty every time) and aborts as before. A wrapper rather than a copy of the read
loop, so the library's own code runs unchanged around it; kafka-python is pinned (==3.0.12), and
``tests/deskwatch/test_kafka_eof.py`` fails if the method it wraps moves or changes its contract.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

_WRAPPED = "_deskwatch_reads_before_close"


def _reads_before_close(sock_recv: Callable[[Any], tuple[bytes, Exception | None]]) -> Callable[[Any], tuple[bytes, Exception | None]]:
    from kafka.errors import KafkaConnectionError

    @functools.wraps(sock_recv)
    def read(transport: Any) -> tuple[bytes, Exception | None]:
        data, err = sock_recv(transport)
        if data and isinstance(err, KafkaConnectionError):
            return data, None  # parsed now; the next read sees the close again
        return data, err

    setattr(read, _WRAPPED, True)
    return read


def read_before_close() -> None:
    """Make kafka-python's TCP and SSL transports parse what arrived before a close (once per process)."""
    from kafka.net import transport

    for cls in (transport.KafkaTCPTransport, transport.KafkaSSLTransport):
        own = cls.__dict__["_sock_recv"]
        if not getattr(own, _WRAPPED, False):
            cls._sock_recv = _reads_before_close(own)  # noqa: SLF001 - the wrapped method, see the module doc
