"""Signing and delivery against a real HTTP receiver on 127.0.0.1 (no broker needed)."""

from __future__ import annotations

import socket
from typing import TYPE_CHECKING

import pytest
import urllib3
from deskwatch.sinks.webhook.deliver import Outcome, backoff, deliver
from deskwatch.sinks.webhook.sign import signature, verify

from deskwatch.settings import WebhookSettings

if TYPE_CHECKING:  # the fixture's type; its conftest is not imported at run time
    from tests.sinks.webhook.conftest import Receiver

SETTINGS = WebhookSettings(max_attempts=3, backoff_initial_s=0.01, backoff_max_s=0.02, connect_timeout_s=1,
                           read_timeout_s=2)
BODY = b'{"incident_id": "abc", "revision": 2}'


@pytest.mark.parametrize(("secret", "body", "header", "ok"), [
    (b"k", BODY, signature(b"k", BODY), True),
    (b"k", BODY, signature(b"other", BODY), False),
    (b"k", BODY, signature(b"k", BODY + b" "), False),
    (b"k", BODY, None, False),
    (b"k", BODY, signature(b"k", BODY).removeprefix("sha256="), False),
], ids=["good", "wrong-secret", "tampered-body", "missing", "no-prefix"])
def test_verify(secret: bytes, body: bytes, header: str | None, ok: bool) -> None:
    assert verify(secret, body, header) is ok


def test_signature_is_hmac_sha256_hex() -> None:
    # RFC 4231 test case 2
    assert signature(b"Jefe", b"what do ya want for nothing?") == (
        "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843")


@pytest.mark.parametrize(("attempt", "delay"), [(1, 0.01), (2, 0.02), (5, 0.02)], ids=["first", "doubled", "capped"])
def test_backoff(attempt: int, delay: float) -> None:
    assert backoff(attempt, SETTINGS) == pytest.approx(delay)


@pytest.mark.parametrize(("statuses", "outcome", "attempts", "last"), [
    ((200,), Outcome.DELIVERED, 1, 200),
    ((500, 503, 204), Outcome.DELIVERED, 3, 204),
    ((500, 500, 500), Outcome.EXHAUSTED, 3, 500),
    ((429, 400), Outcome.REFUSED, 2, 400),
    ((404,), Outcome.REFUSED, 1, 404),
], ids=["ok", "retried-then-ok", "exhausted", "throttled-then-refused", "refused"])
def test_deliver_sorts_statuses(
    receiver: Receiver, statuses: tuple[int, ...], outcome: Outcome, attempts: int, last: int
) -> None:
    url = receiver.on("/hook", *statuses)
    slept: list[float] = []
    result = deliver(urllib3.PoolManager(), url, BODY, {"X-Test": "1"}, SETTINGS, sleep=slept.append)
    assert (result.outcome, result.attempts, result.last_status) == (outcome, attempts, last)
    assert len(receiver.requests) == attempts and all(r.body == BODY for r in receiver.requests)
    assert len(slept) == attempts - 1


def test_unreachable_receiver_is_exhausted_with_no_status() -> None:
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    result = deliver(urllib3.PoolManager(), f"http://127.0.0.1:{port}/x", BODY, {}, SETTINGS, sleep=lambda _: None)
    assert result.outcome is Outcome.EXHAUSTED and result.last_status is None and result.attempts == 3
    assert "Error" in result.reason
