"""The webhook relay on the real broker, POSTing to a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import base64
import json
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import pytest
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.incident import ChangeReason, IncidentStatus, Severity
from deskwatch.sinks.webhook.cloudevents import ce_headers, ce_id
from deskwatch.sinks.webhook.relay import WebhookConfigError, WebhookRelay
from deskwatch.sinks.webhook.sign import verify
from kafka import KafkaProducer
from pydantic import SecretStr

from deskwatch.connect import kafka_python_options
from deskwatch.settings import Settings
from deskwatch.topics import consumer_lag, ensure_topics
from deskwatch.topology import DEAD_LETTER, INCIDENT_CHANGES
from tests.prefixed import prefixed

if TYPE_CHECKING:  # the fixture's type; its conftest is not imported at run time
    from tests.sinks.webhook.conftest import Receiver

pytestmark = pytest.mark.integration
SECRET = "s3cret-for-tests"


def _change(incident_id: str, revision: int, notify: bool = True, rule_id: str = "disk-errors",
            reason: ChangeReason = ChangeReason.OPENED) -> IncidentChange:
    return IncidentChange(incident_id=incident_id, revision=revision, rule_id=rule_id, rule_version=1,
                          group_key=f"{rule_id}|host={incident_id}", from_status=None,
                          to_status=IncidentStatus.OPEN, reason=reason, severity=Severity.HIGH,
                          at=datetime(2026, 11, 29, 8, 0, tzinfo=UTC), notify=notify)


def _settings(settings: Settings, urls: list[str], attempts: int = 3, absorb_wait_s: float = 120.0) -> Settings:
    s = prefixed(settings, 2, webhook={"urls": tuple(urls), "secret": SecretStr(SECRET), "max_attempts": attempts,
                                       "backoff_initial_s": 0.01, "backoff_max_s": 0.05,
                                       "absorb_wait_s": absorb_wait_s, "group_id": lambda tag: f"dw-hook-{tag}"})
    ensure_topics(s.kafka)
    return s


def _send(s: Settings, records: list[tuple[bytes, bytes, list[tuple[str, bytes]]]]) -> None:
    producer = KafkaProducer(acks="all", **kafka_python_options(s.kafka))
    for key, value, headers in records:
        producer.send(INCIDENT_CHANGES.name(s.kafka), key=key, value=value, headers=headers)
    producer.flush()
    producer.close()


def _record(key: bytes, change: IncidentChange) -> tuple[bytes, bytes, list[tuple[str, bytes]]]:
    """A change as stage 2 writes it: its JSON, and the CloudEvents headers of that value."""
    body = change.model_dump_json().encode()
    return key, body, ce_headers(change, "dw-test", body)


def _drain(s: Settings, expected: int, timeout_s: float = 60) -> WebhookRelay:
    relay = WebhookRelay(s)
    relay.start()
    deadline = time.monotonic() + timeout_s
    try:
        while relay.counts["consumed"] < expected and time.monotonic() < deadline:
            relay.step()
    finally:
        relay.close()
    assert relay.counts["consumed"] == expected, relay.counts
    return relay


def _dead_letters(s: Settings) -> list[dict[str, Any]]:
    from tests.integration.conftest import read_topic

    return [json.loads(r.value) for r in read_topic(s, DEAD_LETTER.name(s.kafka), timeout_s=3)]


def _revision(request: Any) -> str:
    """``<incident id>:<revision>`` of a request's Idempotency-Key (``cloudevents.ce_id``)."""
    return str(request.headers["Idempotency-Key"]).rsplit(":", 1)[0]


def test_a_change_without_cloudevents_headers_gets_the_same_key(settings: Settings, receiver: Receiver) -> None:
    """A record written before the headers (or by another producer) is keyed as stage 2 keys it."""
    s = _settings(settings, [receiver.on("/ok")])
    change = _change("inc5", 2)
    body = change.model_dump_json().encode()
    _send(s, [(b"inc5", body, [])])
    _drain(s, 1)
    [request] = receiver.requests
    assert request.headers["Idempotency-Key"] == ce_id(change, body)


def test_changes_are_signed_retried_and_committed(settings: Settings, receiver: Receiver) -> None:
    s = _settings(settings, [receiver.on("/ok"), receiver.on("/flaky", 500, 500)])
    good, quiet = _change("inc1", 3), _change("inc2", 1, notify=False)
    _send(s, [_record(b"inc1", good), _record(b"inc2", quiet), (b"bad", b"not a change", [])])
    key = ce_id(good, good.model_dump_json().encode())
    topic = INCIDENT_CHANGES.name(s.kafka)
    assert consumer_lag(s.kafka, s.webhook.group_id, topic) == 3, "nothing committed before the relay ran"
    relay = _drain(s, 3)

    by_path = {p: [r for r in receiver.requests if r.path == p] for p in ("/ok", "/flaky")}
    assert len(by_path["/ok"]) == 1 and len(by_path["/flaky"]) == 3, "500, 500, then 200"
    for r in by_path["/ok"] + by_path["/flaky"]:
        assert r.body == good.model_dump_json().encode()
        assert verify(SECRET.encode(), r.body, r.headers["X-Deskwatch-Signature"])
        assert r.headers["Idempotency-Key"] == key and key.startswith("inc1:3:")
        assert r.headers["ce-type"] == "org.deskwatch.incident.opened" and r.headers["ce-id"] == key
    assert relay.counts["skipped_quiet"] == 1 and relay.counts["delivered"] == 2
    letters = _dead_letters(s)
    assert [(d["reason"], base64.b64decode(d["original_b64"])) for d in letters] == [("invalid_change", b"not a change")]
    assert consumer_lag(s.kafka, s.webhook.group_id, topic) == 0, "offsets committed after delivery"


def test_dead_letter_after_the_bound_with_last_status_and_original_bytes(
    settings: Settings, receiver: Receiver
) -> None:
    s = _settings(settings, [receiver.on("/down", *[500] * 10)], attempts=2)
    key, body, headers = _record(b"inc9", _change("inc9", 7))
    _send(s, [(key, body, headers)])
    relay = _drain(s, 1)
    assert len(receiver.requests) == 2 and relay.counts["exhausted"] == 1
    [letter] = _dead_letters(s)
    assert letter["reason"] == "webhook_exhausted" and letter["stage"] == "webhook"
    assert "last_status=500" in letter["detail"] and "attempts=2" in letter["detail"]
    assert base64.b64decode(letter["original_b64"]) == body
    assert consumer_lag(s.kafka, s.webhook.group_id, INCIDENT_CHANGES.name(s.kafka)) == 0


def test_a_child_incident_absorbed_while_held_is_never_posted(settings: Settings, receiver: Receiver) -> None:
    """dns-timeouts is absorbed by dns-timeouts-site in the default pack: its openings wait
    absorb_wait_s; one absorbed meanwhile is dropped whole, one that is not is posted when the wait
    ends, in order, and no commit passes a held record until then. disk-errors is never held."""
    s = _settings(settings, [receiver.on("/hook")], absorb_wait_s=3.0)
    changes = [_change("dns1", 1, rule_id="dns-timeouts"), _change("disk", 1),
               _change("dns2", 1, rule_id="dns-timeouts"),
               _change("dns1", 2, rule_id="dns-timeouts", reason=ChangeReason.RECOVERY_EVENT),
               _change("dns2", 2, notify=False, rule_id="dns-timeouts", reason=ChangeReason.ABSORBED)]
    # one key: one partition, so the commit held at dns1 also holds back what came after it
    _send(s, [_record(b"k", c) for c in changes])
    topic = INCIDENT_CHANGES.name(s.kafka)
    relay = WebhookRelay(s)
    relay.start()
    try:
        deadline = time.monotonic() + 60
        while relay.counts["consumed"] < len(changes) and time.monotonic() < deadline:
            relay.step()
        assert [_revision(r) for r in receiver.requests] == ["disk:1"], "only disk-errors at once"
        assert relay.counts["held"] == 2 and relay.counts["absorbed_while_held"] == 2, relay.counts
        assert consumer_lag(s.kafka, s.webhook.group_id, topic) == len(changes), "nothing committed past dns1"
        while relay.counts["held"] and time.monotonic() < deadline:
            relay.step(timeout_s=0.2)
    finally:
        relay.close()
    assert [_revision(r) for r in receiver.requests] == ["disk:1", "dns1:1", "dns1:2"]
    assert consumer_lag(s.kafka, s.webhook.group_id, topic) == 0, "committed once nothing is held"


@pytest.mark.parametrize(("update", "message"), [
    ({"urls": ()}, "webhook.urls is empty"),
    ({"urls": ("http://127.0.0.1:1/x",), "secret": None}, "webhook.secret is not set"),
], ids=["no-urls", "no-secret"])
def test_bad_configuration_fails_at_start(settings: Settings, update: dict[str, Any], message: str) -> None:
    s = settings.model_copy(update={"webhook": settings.webhook.model_copy(update=update)})
    with pytest.raises(WebhookConfigError, match=message):
        WebhookRelay(s)
