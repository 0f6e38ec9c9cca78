"""Run deskwatch's own components as processes against the real engines, and observe them.

Each component runs as ``deskwatch <command>`` in a subprocess with the test session's settings
(unique topic and index prefixes), exactly as an operator would run it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from kafka import KafkaAdminClient, KafkaConsumer, TopicPartition

from deskwatch.connect import elasticsearch_client, kafka_python_options
from deskwatch.settings import Settings

pytestmark = pytest.mark.integration


def settings_file(settings: Settings, path: Path) -> Path:
    """Write the settings tree (secrets included) to a 0600 YAML file a subprocess can read."""
    data = settings.model_dump(mode="json")
    for section, fields in type(settings).model_fields.items():
        for name in type(getattr(settings, section)).model_fields:
            value = getattr(getattr(settings, section), name)
            if hasattr(value, "get_secret_value"):
                data[section][name] = value.get_secret_value()
    path.write_text(yaml.safe_dump(data))
    path.chmod(0o600)
    return path


class Component:
    """A deskwatch subprocess with its log file."""

    def __init__(self, args: list[str], config: Path, log: Path) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("DESKWATCH_")}
        env["DESKWATCH_CONFIG"] = str(config)
        self.log = log
        self._out = log.open("wb")
        exe = str(Path(sys.executable).with_name("deskwatch"))
        self.proc = subprocess.Popen([exe, *args], env=env, stdout=self._out, stderr=subprocess.STDOUT,
                                     start_new_session=True)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 30) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self._out.close()
        return self.proc.returncode

    def tail(self, n: int = 40) -> str:
        return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])


@pytest.fixture
def pipeline_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The session's settings with a test-unique prefix, group ids and data dir."""
    tag = uuid.uuid4().hex[:8]
    return settings.model_copy(update={
        "kafka": settings.kafka.model_copy(update={"topic_prefix": f"{settings.kafka.topic_prefix}{tag}.",
                                                   "partitions": 4}),
        "elasticsearch": settings.elasticsearch.model_copy(update={"index_prefix": f"{settings.elasticsearch.index_prefix}-{tag}"}),
        "processor": settings.processor.model_copy(update={"app_id": f"dw-proc-{tag}", "datadir": tmp_path / "proc",
                                                           "commit_every": 100}),
        "sink": settings.sink.model_copy(update={"group_id": f"dw-sink-{tag}", "flush_interval_s": 0.2}),
    })


@pytest.fixture
def launch(pipeline_settings: Settings, tmp_path: Path) -> Iterator[Callable[..., Component]]:
    """Start deskwatch components; every one still running is stopped at the end of the test."""
    config = settings_file(pipeline_settings, tmp_path / "settings.yaml")
    started: list[Component] = []

    def _launch(*args: str) -> Component:
        c = Component(list(args), config, tmp_path / f"{args[0]}-{len(started)}.log")
        started.append(c)
        return c

    yield _launch
    for c in started:
        c.stop()


def committed_lag(settings: Settings, group: str, topic: str) -> int:
    """Records of ``topic`` not yet committed by consumer group ``group``."""
    opts = kafka_python_options(settings.kafka)
    consumer = KafkaConsumer(**opts)
    admin = KafkaAdminClient(**opts)
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        ends = consumer.end_offsets(parts)
        committed = admin.list_group_offsets(group).get(group, {})
        return sum(end - (committed[tp].offset if tp in committed else 0) for tp, end in ends.items())
    finally:
        consumer.close()
        admin.close()


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, on_fail: Callable[[], str] = lambda: "") -> Any:
    """Poll ``predicate`` until it returns a truthy value; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{on_fail()}")


def read_topic(settings: Settings, topic: str, timeout_s: float = 5.0) -> list[Any]:
    """Every record of ``topic`` from the beginning."""
    consumer = KafkaConsumer(topic, auto_offset_reset="earliest", enable_auto_commit=False,
                             consumer_timeout_ms=int(timeout_s * 1000), **kafka_python_options(settings.kafka))
    try:
        return list(consumer)
    finally:
        consumer.close()


def es_docs(settings: Settings, index: str) -> dict[str, dict[str, Any]]:
    """Every document of ``index`` by _id (after a refresh)."""
    client = elasticsearch_client(settings.elasticsearch)
    client.indices.refresh(index=index)
    resp = client.search(index=index, query={"match_all": {}}, size=10_000, version=True)
    return {h["_id"]: {**h["_source"], "_version": h["_version"]} for h in resp["hits"]["hits"]}
