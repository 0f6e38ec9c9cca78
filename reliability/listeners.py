"""Fuzz targets over real sockets: the syslog listener (UDP, TCP octet-counted, TCP LF) and the HTTP
ingest, each a real ``deskwatch ingest serve-*`` process publishing to the real broker.

Every input is reconciled: inputs = events read back from the events topic + dead letters read
back from the dead-letter topic (by reason) + inputs the listener refused as a whole (HTTP 413,
for lines of an over-limit body). The listener must still be serving at the end.
"""

from __future__ import annotations

import http.client
import json
import random
import socket
import time
from collections.abc import Iterator
from typing import Final

from deskwatch.settings import Settings

from reliability.listener_process import Listener, campaign_settings, read_back
from reliability.mutate import mutants
from reliability.outcome import Outcome
from reliability.seeds import seeds

UDP_MAX: Final = 60_000  # what one datagram can carry
UDP_PACE: Final = (50, 0.02)  # every 50 datagrams, pause 20 ms: a full socket buffer drops silently
UDP_BYTES_PER_S: Final = 20e6
HTTP_ALONE_BYTES: Final = 1_000_000  # a line this big goes in a request of its own


def _tcp_inputs(count: int, seed: int, lf: bool) -> Iterator[bytes]:
    """Non-blank mutants; for LF framing without LF inside and not starting with a digit
    (RFC 6587 reads a leading digit as an octet count)."""
    for _, data in mutants(seeds()["syslog"], count, seed):
        if lf:
            data = data.replace(b"\n", b" ")
            data = b" " + data if data[:1].isdigit() else data
        if data.rstrip(b"\r\n\x00").strip() and data.rstrip(b"\r\x00").strip():
            yield data


def _send_tcp(port: int, payload: bytes) -> None:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as conn:
        try:
            conn.sendall(payload)
            conn.shutdown(socket.SHUT_WR)
            while conn.recv(65536):  # until the server closes: everything sent was read
                pass
        except OSError:  # reset, broken pipe, not connected: the server closed first (an oversize
            pass  # frame), and its dead letter accounts for the message


def _tcp_phase(count: int, seed: int, lf: bool, outcome: Outcome, base: Settings | None) -> None:
    with Listener(campaign_settings(base), "serve-syslog").start() as listener:
        _tcp_send_all(listener, count, seed, lf, outcome)
        _finish(listener, outcome)


def _tcp_send_all(listener: Listener, count: int, seed: int, lf: bool, outcome: Outcome) -> None:
    rng, batch = random.Random(seed), []
    for data in _tcp_inputs(count, seed, lf):
        outcome.inputs += 1
        frame = data + b"\n" if lf else b"%d %s" % (len(data), data)
        if len(data) > listener.settings.syslog.max_message_bytes:
            _send_tcp(listener.ports[1], frame)  # alone: the server closes after an oversize frame
            continue
        batch.append(frame)
        if len(batch) >= rng.randint(1, 50):
            _send_tcp(listener.ports[1], b"".join(batch))
            batch = []
    if batch:
        _send_tcp(listener.ports[1], b"".join(batch))


def _udp_phase(count: int, seed: int, outcome: Outcome, base: Settings | None) -> None:
    with Listener(campaign_settings(base), "serve-syslog").start() as listener:
        _udp_send_all(listener, count, seed, outcome)
        _finish(listener, outcome)


def _udp_send_all(listener: Listener, count: int, seed: int, outcome: Outcome) -> None:
    every, pause = UDP_PACE
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        for i, (_, data) in enumerate(mutants(seeds()["syslog"], count, seed, max_bytes=UDP_MAX)):
            sock.sendto(data, ("127.0.0.1", listener.ports[0]))
            outcome.inputs += 1
            time.sleep(len(data) / UDP_BYTES_PER_S)
            if i % every == every - 1:
                time.sleep(pause)
    time.sleep(1.0)  # the listener drains its socket buffer before the drop counter is read
    drops = listener.udp_drops()
    if drops:
        outcome.refused["dropped_by_kernel"] = drops


def _finish(listener: Listener, outcome: Outcome) -> None:
    """Check it still serves, stop it (it flushes), read its topics back."""
    if not listener.alive:
        outcome.crashes.append("listener process died")
        return
    outcome.peak_bytes = listener.peak_rss()
    outcome.memory_kind = "listener VmHWM"
    outcome.notes.append(f"last log lines: {listener.stop()!r}")
    outcome.events, outcome.dead = read_back(listener.settings)


def fuzz_syslog(count: int, seed: int = 0, base: Settings | None = None) -> Iterator[Outcome]:
    """The three syslog transports, ``count`` inputs each (``base``: settings to start from)."""
    for name in ("udp", "tcp octet-counted", "tcp LF"):
        outcome = Outcome(f"syslog {name}")
        started = time.monotonic()
        if name == "udp":
            _udp_phase(count, seed, outcome, base)
        else:
            _tcp_phase(count, seed, name == "tcp LF", outcome, base)
        outcome.seconds = time.monotonic() - started
        yield outcome


def _labelled(fmt: str, inputs: Iterator[tuple[str, bytes]]) -> Iterator[tuple[str, bytes]]:
    for _, data in inputs:
        yield fmt, data


def _http_lines(count: int, seed: int) -> Iterator[tuple[str, bytes]]:
    """(format, line): mutants of each HTTP format's records; no LF inside, never blank."""
    formats = ("jsonl", "ecs_json", "nxlog_json", "syslog")
    per = count // len(formats) + 1
    streams = [_labelled(fmt, mutants(seeds()[fmt], per, seed + i)) for i, fmt in enumerate(formats)]
    produced = 0
    for fmt, data in (item for group in zip(*streams, strict=False) for item in group):
        data = data.replace(b"\n", b" ")
        if data.rstrip(b"\r").strip() and produced < count:
            produced += 1
            yield fmt, data


def fuzz_http(count: int, seed: int = 0, base: Settings | None = None) -> Outcome:
    """``count`` lines in requests of 1-200 lines (one format per request) to POST /v1/events,
    then one batch of real records past the body limit."""
    outcome, started, answered = Outcome("http ingest"), time.monotonic(), 0
    with Listener(campaign_settings(base), "serve-http").start() as listener:
        token = listener.settings.http_ingest.token.get_secret_value()  # type: ignore[union-attr]
        for fmt, lines in _http_requests(count, seed, listener.settings.http_ingest.max_body_bytes):
            status, body = _post(listener.ports[0], token, fmt, b"\n".join(lines))
            outcome.inputs += len(lines)
            if status == 200:
                answered += len(json.loads(body)["results"])
            else:
                outcome.refused[f"http_{status}"] += len(lines)
        _finish(listener, outcome)
    if answered != outcome.events + sum(outcome.dead.values()):
        outcome.crashes.append(f"responses listed {answered} lines, topics hold "
                               f"{outcome.events + sum(outcome.dead.values())}")
    outcome.seconds = time.monotonic() - started
    return outcome


def _http_requests(count: int, seed: int, body_limit: int) -> list[tuple[str, list[bytes]]]:
    """(format, lines) per request: random sizes, lines over 1 MB alone, the oversized batch last."""
    rng, by_format = random.Random(seed), dict[str, list[bytes]]()
    for fmt, data in _http_lines(count, seed):
        by_format.setdefault(fmt, []).append(data)
    requests = [(fmt, lines[i: i + 200])
                for fmt, lines in by_format.items() for i in range(0, len(lines), 200)]
    requests = [(fmt, part) for fmt, chunk in requests for part in _split(chunk, rng)]
    alone = [(fmt, [line]) for fmt, lines in requests for line in lines if len(line) > HTTP_ALONE_BYTES]
    small = [(fmt, [ln for ln in lines if len(ln) <= HTTP_ALONE_BYTES]) for fmt, lines in requests]
    return [(fmt, lines) for fmt, lines in small + alone if lines] + [
        ("jsonl", _oversized_batch(body_limit))]


def _split(lines: list[bytes], rng: random.Random) -> Iterator[list[bytes]]:
    while lines:
        take = rng.randint(1, len(lines))
        yield lines[:take]
        lines = lines[take:]


def _oversized_batch(limit: int) -> list[bytes]:
    """Real records, repeated past the body limit: a batch the server must refuse (413)."""
    records = list(seeds()["jsonl"])
    size = 0
    batch: list[bytes] = []
    while size <= limit:
        batch.append(records[len(batch) % len(records)])
        size += len(batch[-1]) + 1
    return batch


def _post(port: int, token: str, fmt: str, body: bytes) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("POST", f"/v1/events?format={fmt}", body=body,
                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/x-ndjson"})
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()
