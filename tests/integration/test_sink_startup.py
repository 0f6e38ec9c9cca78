"""A sink started before its Elasticsearch waits for it (with backoff, logged once) and then indexes
everything; one whose Elasticsearch never comes exits 69 after ``sink.startup_wait_s``.

"Elasticsearch comes up later" is a port nothing listens on at first, then a byte relay on it to the
session's real server: the sink meets the real server's answers, only later than it started.
"""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import pytest

from deskwatch.components import Component, write_settings_file
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.templates import Kind
from deskwatch.topics import ensure_topics

from .conftest import wait_for
from .test_sink_replay import drop_indices, held, incident_stream, last_records, produce, sink_lag, snapshot

pytestmark = pytest.mark.integration


class Relay:
    """Accepts on ``port`` of 127.0.0.1 and copies bytes both ways to ``upstream``, until closed."""

    def __init__(self, port: int, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.server = socket.create_server(("127.0.0.1", port))
        self.sockets: list[socket.socket] = [self.server]
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return  # closed
            upstream = socket.create_connection(self.upstream)
            self.sockets += [client, upstream]
            for src, dst in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(src, dst), daemon=True).start()

    @staticmethod
    def _pump(src: socket.socket, dst: socket.socket) -> None:
        try:
            while data := src.recv(65536):
                dst.sendall(data)
            dst.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def close(self) -> None:
        for s in self.sockets:
            s.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _at_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.hostname}:{port}"))


@pytest.fixture
def late(pipeline_settings: Settings) -> Iterator[tuple[Settings, int]]:
    """Settings whose Elasticsearch URL names a free port (nothing answers there yet), and that port."""
    port = _free_port()
    es = pipeline_settings.elasticsearch
    s = pipeline_settings.model_copy(update={"elasticsearch": es.model_copy(update={"url": _at_port(es.url, port)})})
    ensure_topics(s.kafka)
    yield s, port
    drop_indices(pipeline_settings)


def test_sink_started_before_elasticsearch_waits_for_it_then_indexes_everything(
    late: tuple[Settings, int], pipeline_settings: Settings, tmp_path: Path
) -> None:
    s, port = late
    stream = incident_stream(10)
    offsets = produce(s, stream.records)
    sink = Component(["sink", "run"], write_settings_file(s, tmp_path / "settings.yaml"), tmp_path / "sink.log")
    relay = None
    try:
        wait_for(lambda: "elasticsearch not answering yet" in sink.log.read_text(), 60, "the sink to wait", sink.tail)
        time.sleep(4)  # several retries' worth: the wait is logged once, not per retry
        assert sink.running(), sink.tail()
        assert sink_lag(s) == len(stream.records), "nothing consumed before Elasticsearch answered"
        real = urlsplit(pipeline_settings.elasticsearch.url)
        relay = Relay(port, (str(real.hostname), int(real.port or 9200)))
        wait_for(lambda: sink_lag(s) == 0, 90, "the sink to start and index everything", sink.tail)
    finally:
        code = sink.stop()
        if relay is not None:
            relay.close()
    log = sink.log.read_text()
    assert code == 0, log[-3000:]
    assert log.count("elasticsearch not answering yet") == 1 and log.count("elasticsearch answers, starting") == 1, \
        log[-3000:]
    snap = snapshot(pipeline_settings)  # read straight from the real server
    assert held(snap, Kind.INCIDENTS) == last_records(stream.records, offsets)[Kind.INCIDENTS]
    assert {i: d["_source"] for i, d in snap[Kind.INCIDENTS].items()} == \
        {i: inc.model_dump(mode="json") for i, inc in stream.incidents.items()}
    assert set(snap[Kind.HISTORY]) == set(stream.changes)
    assert {i: d["_version"] for i, d in snap[Kind.EVENTS].items()} == \
        {i: dg.repeat_count for i, dg in stream.digests.items()}


def test_sink_whose_elasticsearch_never_answers_exits_69_after_its_start_up_wait(
    late: tuple[Settings, int], tmp_path: Path
) -> None:
    s, _ = late
    s = s.model_copy(update={"sink": s.sink.model_copy(update={"startup_wait_s": 3.0})})
    started = time.monotonic()
    sink = Component(["sink", "run"], write_settings_file(s, tmp_path / "settings.yaml"), tmp_path / "sink.log")
    code = sink.proc.wait(60)
    waited = time.monotonic() - started
    sink.stop()
    log = sink.log.read_text()
    assert code == 69, log[-3000:]
    assert waited >= 3.0, waited
    assert "elasticsearch did not answer in time, giving up" in log
    assert f"deskwatch: cannot reach Elasticsearch at {s.elasticsearch.url}" in log
    assert "Traceback" not in log


def test_sink_asked_to_stop_while_waiting_stops_at_once_and_cleanly(late: tuple[Settings, int], tmp_path: Path) -> None:
    s, _ = late
    sink = Component(["sink", "run"], write_settings_file(s, tmp_path / "settings.yaml"), tmp_path / "sink.log")
    wait_for(lambda: "elasticsearch not answering yet" in sink.log.read_text(), 60, "the sink to wait", sink.tail)
    asked = time.monotonic()
    code = sink.stop()
    stopped_in = time.monotonic() - asked
    log = sink.log.read_text()
    assert code == 0 and stopped_in < 10, (stopped_in, log[-3000:])
    assert "sink stopped while waiting for Elasticsearch; nothing was consumed" in log and "Traceback" not in log
