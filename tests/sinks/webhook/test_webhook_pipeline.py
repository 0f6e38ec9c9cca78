"""End to end on the real engines: events → ``deskwatch processor run`` → incident-changes carrying
CloudEvents headers → ``deskwatch webhook run`` → a real HTTP receiver on 127.0.0.1."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import orjson
import pytest
from deskwatch.sinks.webhook.sign import verify
from pydantic import SecretStr

from deskwatch.components import Component, write_settings_file
from deskwatch.settings import Settings
from deskwatch.topology import INCIDENT_CHANGES
from tests.integration.conftest import pipeline_settings, read_topic, wait_for  # noqa: F401  (fixture)

if TYPE_CHECKING:  # the fixture's type; its conftest is not imported at run time
    from tests.sinks.webhook.conftest import Receiver

pytestmark = pytest.mark.integration
SECRET = "pipeline-secret"


def _event(ts: str, host: str, code: str, provider: str, msg: str) -> bytes:
    return orjson.dumps({"@timestamp": ts, "event": {"code": code, "provider": provider},
                         "host": {"name": host}, "log": {"level": "error"}, "message": msg})


EVENTS = [
    _event("2026-11-29T08:00:00Z", "PC-001", "1058", "Microsoft-Windows-GroupPolicy", "GPO processing failed (1)"),
    _event("2026-11-29T08:05:00Z", "PC-001", "1058", "Microsoft-Windows-GroupPolicy", "GPO processing failed (2)"),
    _event("2026-11-29T08:10:00Z", "PC-001", "1058", "Microsoft-Windows-GroupPolicy", "GPO processing failed (3)"),
    _event("2026-11-29T08:01:00Z", "PC-002", "7", "disk", "The device has a bad block."),
    _event("2026-11-29T08:02:00Z", "PC-002", "7", "disk", "The device has a bad block."),
]


@pytest.fixture
def components(pipeline_settings: Settings, receiver: Receiver, tmp_path: Path) -> Iterator[tuple[Settings, list[Component], str]]:  # noqa: F811
    hook = pipeline_settings.webhook.model_copy(update={
        "urls": (receiver.on("/tickets"),), "secret": SecretStr(SECRET), "group_id": "dw-hook-e2e",
        "backoff_initial_s": 0.05, "absorb_wait_s": 1.0})  # gpo-failure-host's opening is held (hold.py)
    s = pipeline_settings.model_copy(update={"webhook": hook})
    config = write_settings_file(s, tmp_path / "settings.yaml")
    started: list[Component] = []
    yield s, started, str(config)
    for c in started:
        c.stop()


def test_changes_carry_cloudevents_headers_and_reach_the_webhook(
    components: tuple[Settings, list[Component], str], receiver: Receiver, tmp_path: Path
) -> None:
    s, started, config = components
    path = tmp_path / "events.jsonl"
    path.write_bytes(b"\n".join(EVENTS) + b"\n")

    def launch(*args: str) -> Component:
        started.append(Component(list(args), Path(config), tmp_path / f"{args[0]}-{len(started)}.log"))
        return started[-1]

    producer = launch("produce", "--format", "jsonl", str(path))
    assert producer.proc.wait(120) == 0, producer.tail()
    processor, hook = launch("processor", "run"), launch("webhook", "run")
    wait_for(lambda: len({r.headers["Idempotency-Key"] for r in receiver.requests}) >= 2, 150,
             "two opened incidents POSTed", lambda: processor.tail() + "\n---\n" + hook.tail())

    records = read_topic(s, INCIDENT_CHANGES.name(s.kafka))
    assert records, "stage 2 wrote changes"
    for record in records:
        change = json.loads(record.value)
        ce = {k: v.decode() for k, v in record.headers}
        digest = hashlib.blake2b(record.value, digest_size=8).hexdigest()
        assert ce["ce_id"] == f"{change['incident_id']}:{change['revision']}:{digest}"
        assert ce["ce_type"] == f"org.deskwatch.incident.{change['reason']}"
        assert ce["ce_source"] == f"deskwatch/{s.processor.app_id}" and ce["ce_specversion"] == "1.0"
        assert ce["content-type"] == "application/json" and ce["ce_time"].startswith("2026-11-29T")
    notified = {dict(r.headers)["ce_id"].decode() for r in records if json.loads(r.value)["notify"]}
    wait_for(lambda: {r.headers["Idempotency-Key"] for r in receiver.requests} >= notified, 30, "every change POSTed")
    posted = {r.headers["Idempotency-Key"]: r for r in receiver.requests}
    for key, request in posted.items():
        assert verify(SECRET.encode(), request.body, request.headers["X-Deskwatch-Signature"]), key
        assert request.headers["ce-id"] == key
