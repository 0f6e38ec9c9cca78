"""Elasticsearch goes away for more than 30 s mid-stream: the sink backs off without committing,
resumes when it is back, and every incident, transition and event ends there exactly once.

The shared Elasticsearch serves everyone, so this test runs a second, private one with the project's
own stack code (``deskwatch.stack``: same install, own home, ports and 512m heap) and stops only that.
Kafka stays the shared broker (topics are per test).
"""

from __future__ import annotations

import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deskwatch.components import Component, write_settings_file
from deskwatch.settings import Settings, StackSettings, load_settings
from deskwatch.stack.account import engine_account
from deskwatch.stack.elasticsearch import elasticsearch_spec, es_url, prepare_elasticsearch
from deskwatch.stack.engine import EngineSpec, port_open
from deskwatch.stack.fetch import fetch_elasticsearch, is_complete
from deskwatch.stack.layout import Layout
from deskwatch.stack.lock import stack_lock
from deskwatch.stack.progress import ElapsedReport
from deskwatch.stack.render import LOOPBACK
from deskwatch.stack.supervise import spawn, stop_group
from deskwatch.stack.wait import wait_serving
from deskwatch.topics import ensure_topics

from deskwatch.sinks.elasticsearch.templates import Kind

from .conftest import wait_for
from .test_sink_replay import held, incident_stream, last_records, produce, sink_lag, snapshot

pytestmark = pytest.mark.integration

PRIVATE_HOME = Path("/var/lib/deskwatch-test-es")  # the engine user must traverse it: not under /root
OUTAGE_S = 32.0
report = ElapsedReport()


@dataclass
class PrivateElasticsearch:
    """One Elasticsearch process of the local stack, in its own home, that this test may stop."""

    stack: StackSettings
    spec: EngineSpec
    pid: int = 0

    def start(self) -> None:
        proc = spawn(self.spec.argv, cwd=self.spec.cwd, env=self.spec.env, log=self.spec.log, user=self.spec.user)
        self.pid = proc.pid
        wait_serving(self.spec, self.pid, self.stack.start_timeout_s, report)

    def stop(self) -> None:
        """SIGTERM its process group (its pid: ``spawn`` starts a new session), SIGKILL after the grace."""
        if self.pid:
            stop_group("private elasticsearch", self.pid, self.stack.stop_timeout_s, report)


def _install(private: Layout) -> None:
    """Copy the shared stack's unpacked install (or fetch one): the config inside is per home."""
    if is_complete(private.es_dist):
        return
    shared = Layout(load_settings().stack.home)
    if is_complete(shared.es_dist):
        shutil.copytree(shared.es_dist, private.es_dist, symlinks=True, dirs_exist_ok=True)
    else:
        fetch_elasticsearch(private, report)


@pytest.fixture
def private_es() -> Iterator[PrivateElasticsearch]:
    """A private Elasticsearch on 29200/29300 under PRIVATE_HOME; stopped and removed at the end."""
    stack = load_settings().stack.model_copy(update={
        "home": PRIVATE_HOME, "es_http_port": 29200, "es_transport_port": 29300, "es_heap": "512m",
        "security": "off"})
    PRIVATE_HOME.mkdir(parents=True, exist_ok=True)
    PRIVATE_HOME.chmod(0o755)
    with stack_lock(PRIVATE_HOME, report):  # one such test at a time on this machine
        assert not port_open(LOOPBACK, stack.es_http_port), "port 29200 is taken: another private ES?"
        layout = Layout(PRIVATE_HOME)
        _install(layout)
        user = engine_account(stack.engine_user)
        prepare_elasticsearch(stack, layout, user)
        es = PrivateElasticsearch(stack, elasticsearch_spec(stack, layout, user))
        try:
            es.start()
            yield es
        finally:
            es.stop()
            shutil.rmtree(layout.home / "run", ignore_errors=True)
    shutil.rmtree(PRIVATE_HOME, ignore_errors=True)


def test_sink_backs_off_through_an_outage_and_resumes_without_loss_or_duplicates(
    private_es: PrivateElasticsearch, pipeline_settings: Settings, tmp_path: Path
) -> None:
    s = pipeline_settings.model_copy(update={
        "elasticsearch": pipeline_settings.elasticsearch.model_copy(update={"url": es_url(private_es.stack)}),
        "sink": pipeline_settings.sink.model_copy(update={"retry_max_backoff_s": 2.0, "bulk_max_docs": 50}),
    })
    ensure_topics(s.kafka)
    stream = incident_stream()
    third = len(stream.records) // 3
    before, during, after = stream.records[:third], stream.records[third:2 * third], stream.records[2 * third:]
    sink = Component(["sink", "run"], write_settings_file(s, tmp_path / "settings.yaml"), tmp_path / "sink.log")
    try:
        offsets = produce(s, before)
        wait_for(lambda: sink_lag(s) == 0, 90, "the first third to be indexed", sink.tail)
        private_es.stop()
        down_at = time.monotonic()
        for start in range(0, len(during), 20):  # the stream goes on while Elasticsearch is away
            offsets += produce(s, during[start:start + 20])
            time.sleep(0.5)
        time.sleep(max(0.0, OUTAGE_S - (time.monotonic() - down_at)))
        assert sink.running(), sink.tail()
        assert sink_lag(s) == len(during), "nothing committed while Elasticsearch is down"
        private_es.start()
        offsets += produce(s, after)
        wait_for(lambda: sink_lag(s) == 0, 180, "the sink to catch up after the outage", sink.tail)
        outage_s = time.monotonic() - down_at
    finally:
        sink.stop()
    log = sink.log.read_text()
    assert log.count("elasticsearch unavailable") == 1 and log.count("elasticsearch answers again") == 1, log[-3000:]
    assert outage_s >= OUTAGE_S

    snap = snapshot(s)
    assert {i: d["_source"] for i, d in snap[Kind.INCIDENTS].items()} == \
        {i: inc.model_dump(mode="json") for i, inc in stream.incidents.items()}
    assert held(snap, Kind.INCIDENTS) == last_records(stream.records, offsets)[Kind.INCIDENTS]
    assert {i: d["_source"] for i, d in snap[Kind.HISTORY].items()} == \
        {i: c.model_dump(mode="json") for i, c in stream.changes.items()}
    assert {i: d["_version"] for i, d in snap[Kind.EVENTS].items()} == \
        {i: dg.repeat_count for i, dg in stream.digests.items()}
    assert "dead_lettered=0" in sink.tail(3)
