"""Every limit of the listeners, from settings, tried with a real socket against a real
``deskwatch ingest serve-*`` process on the real broker: over-limit clients get the protocol's own
answer (HTTP 408/413/429, a closed connection) and the listener keeps serving the others."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable, Iterator

import pytest

from deskwatch.settings import Settings
from reliability.listener_process import Listener, campaign_settings, read_back

pytestmark = pytest.mark.integration

SLOW_S = 0.25  # one byte per this many seconds: faster than any idle timeout, never finishing
GOOD_5424 = b"<34>1 2026-11-29T08:00:00Z PC-LIMIT app 1 ID1 - still serving"


@pytest.fixture(scope="module")
def syslog(settings: Settings) -> Iterator[Listener]:
    s = campaign_settings(settings, syslog={"max_connections": 2, "message_timeout_s": 1.0,
                                            "idle_timeout_s": 30.0, "max_message_bytes": 1024})
    listener = Listener(s, "serve-syslog").start()
    yield listener
    if listener.alive:
        listener.stop()


@pytest.fixture(scope="module")
def http(settings: Settings) -> Iterator[Listener]:
    s = campaign_settings(settings, http_ingest={"header_timeout_s": 1.0, "body_timeout_s": 1.0,
                                                 "max_concurrent_requests": 1, "max_body_bytes": 4096})
    listener = Listener(s, "serve-http").start()
    yield listener
    if listener.alive:
        listener.stop()


def _closed_within(conn: socket.socket, seconds: float, trickle: bytes = b"") -> float | None:
    """Seconds until the server closes ``conn`` (sending ``trickle`` a byte at a time), or None."""
    started = time.monotonic()
    conn.settimeout(SLOW_S)
    for i in range(int(seconds / SLOW_S)):
        try:
            if trickle:
                conn.sendall(trickle[i % len(trickle): i % len(trickle) + 1])
            if conn.recv(65536) == b"":
                return time.monotonic() - started
        except TimeoutError:
            continue
        except (ConnectionResetError, BrokenPipeError):
            return time.monotonic() - started
    return None


def _syslog_slow_loris(listener: Listener) -> dict[str, object]:
    with socket.create_connection(("127.0.0.1", listener.ports[1])) as conn:
        closed = _closed_within(conn, 10, trickle=b"<13>Nov 29 08:00:00 slow")
    return {"closed": closed is not None and closed < 5}


def _syslog_too_many(listener: Listener) -> dict[str, object]:
    held = [socket.create_connection(("127.0.0.1", listener.ports[1])) for _ in range(2)]
    time.sleep(0.2)
    with socket.create_connection(("127.0.0.1", listener.ports[1])) as third:
        closed = _closed_within(third, 3)
    for conn in held:
        conn.close()
    time.sleep(0.3)  # the freed slots serve again
    with socket.create_connection(("127.0.0.1", listener.ports[1])) as again:
        again.sendall(b"%d %s" % (len(GOOD_5424), GOOD_5424))
        kept_open = _closed_within(again, 0.6) is None
    return {"closed": closed is not None, "kept_open_after_free": kept_open}


def _syslog_oversize(listener: Listener) -> dict[str, object]:
    with socket.create_connection(("127.0.0.1", listener.ports[1])) as conn:
        conn.sendall(b"5000 <13>" + b"x" * 2000)
        closed = _closed_within(conn, 3)
    return {"closed": closed is not None}


@pytest.mark.parametrize(("probe", "expected"), [
    (_syslog_slow_loris, {"closed": True}),
    (_syslog_too_many, {"closed": True, "kept_open_after_free": True}),
    (_syslog_oversize, {"closed": True}),
], ids=["slow-loris-closed-by-message-timeout", "too-many-connections-closed", "oversize-frame-closed"])
def test_syslog_tcp_limit(syslog: Listener, probe: Callable[[Listener], dict[str, object]],
                          expected: dict[str, object]) -> None:
    assert probe(syslog) == expected
    assert syslog.alive


def test_syslog_limits_dead_letter_what_they_cut(syslog: Listener) -> None:
    """After the probes above: the slow message and the oversize frame are dead letters, the
    message on the freed slot an event."""
    for probe in (_syslog_slow_loris, _syslog_oversize, _syslog_too_many):
        probe(syslog)
    syslog.stop()
    events, letters = read_back(syslog.settings)
    assert letters["message_timeout"] >= 1 and letters["oversize_message"] >= 1
    assert events >= 1


def _status_of(raw: bytes) -> int:
    return int(raw.split(b" ", 2)[1]) if raw.startswith(b"HTTP/1.1 ") else 0


def _http_slow_head(listener: Listener) -> int | str:
    with socket.create_connection(("127.0.0.1", listener.ports[0])) as conn:
        closed = _closed_within(conn, 10, trickle=b"POST /v1/events HTTP/1.1\r\nHost: x\r\nX-Slow: 1")
    return "closed" if closed is not None and closed < 5 else "open"


def _http_slow_body(listener: Listener) -> int | str:
    with socket.create_connection(("127.0.0.1", listener.ports[0])) as conn:
        conn.sendall(_head(listener, 1000) + b'{"a"')
        conn.settimeout(5)
        return _status_of(conn.recv(65536))


def _http_too_large(listener: Listener) -> int | str:
    with socket.create_connection(("127.0.0.1", listener.ports[0])) as conn:
        conn.sendall(_head(listener, 5000))
        conn.settimeout(5)
        return _status_of(conn.recv(65536))


def _http_too_many(listener: Listener) -> int | str:
    with socket.create_connection(("127.0.0.1", listener.ports[0])) as slow:
        slow.sendall(_head(listener, 1000) + b"{")  # holds the only slot until its body times out
        time.sleep(0.3)
        with socket.create_connection(("127.0.0.1", listener.ports[0])) as second:
            second.sendall(_head(listener, 2) + b"{}")
            second.settimeout(5)
            return _status_of(second.recv(65536))


def _http_still_serves(listener: Listener) -> int | str:
    line = b'{"@timestamp":"2026-11-29T08:00:00Z","event":{"code":"1"},"host":{"name":"pc-1"}}'
    with socket.create_connection(("127.0.0.1", listener.ports[0])) as conn:
        conn.sendall(_head(listener, len(line)) + line)
        conn.settimeout(10)
        return _status_of(conn.recv(65536))


def _head(listener: Listener, length: int) -> bytes:
    token = listener.settings.http_ingest.token.get_secret_value()  # type: ignore[union-attr]
    return (b"POST /v1/events HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            b"Content-Length: %d\r\n\r\n" % (token.encode(), length))


@pytest.mark.parametrize(("probe", "expected"), [
    (_http_slow_head, "closed"),
    (_http_slow_body, 408),
    (_http_too_large, 413),
    (_http_too_many, 429),
    (_http_still_serves, 200),
], ids=["slow-loris-head-closed", "slow-body-408", "body-over-limit-413", "concurrency-429", "still-200"])
def test_http_limit(http: Listener, probe: Callable[[Listener], int | str], expected: int | str) -> None:
    assert probe(http) == expected
    assert http.alive
