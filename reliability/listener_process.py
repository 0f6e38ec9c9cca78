"""A deskwatch listener as a real child process on the real broker, its RSS, and its topics read back.

Each run gets its own topic prefix, so the events and dead-letter topics hold only its inputs.
"""

from __future__ import annotations

import re
import shutil
import tempfile
import threading
import time
import uuid
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from deskwatch.schemas import DeadLetter, EventBatch, decode_events_record
import structlog
from kafka import KafkaConsumer
from kafka.errors import KafkaError
from pydantic import SecretStr

from deskwatch.components import Component, write_settings_file
from deskwatch.connect import kafka_python_options
from deskwatch.settings import Settings, load_settings
from deskwatch.topics import delete_topics, ensure_topics
from deskwatch.topology import DEAD_LETTER, EVENTS

log = structlog.get_logger(__name__)

LISTENING = re.compile(rb"listening (?:syslog udp=(\d+) tcp=(\d+)|http port=(\d+))")


class ListenerError(Exception):
    """The listener process did not start or died."""


def campaign_settings(base: Settings | None = None, **sections: dict[str, Any]) -> Settings:
    """``base`` (default: the user's settings) with a fresh topic prefix, free ports and the given
    section overrides."""
    base = base or load_settings()
    tag = uuid.uuid4().hex[:8]
    updates: dict[str, Any] = {
        # under the base prefix: a test session's cleanup, and the broker's topic ACLs, cover them
        "kafka": base.kafka.model_copy(update={"topic_prefix": f"{base.kafka.topic_prefix}fuzz-{tag}.",
                                               "partitions": 2}),
        "syslog": base.syslog.model_copy(update={"udp_port": 0, "tcp_port": 0}),
        "http_ingest": base.http_ingest.model_copy(update={"port": 0, "token": SecretStr(f"fuzz-{tag}")}),
    }
    for name, changes in sections.items():
        updates[name] = updates.get(name, getattr(base, name)).model_copy(update=changes)
    return base.model_copy(update=updates)


@dataclass
class Listener:
    """``deskwatch ingest serve-syslog|serve-http`` running; ``ports`` as it printed them."""

    settings: Settings
    command: str
    folder: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="dw-fuzz-")))
    ports: tuple[int, ...] = ()
    rss_samples: list[int] = field(default_factory=list)
    _component: Component | None = None
    _sampling: bool = True

    def start(self, timeout_s: float = 30.0) -> Listener:
        """Create the topics, start the process and wait for its ``listening`` line."""
        ensure_topics(self.settings.kafka)
        config = write_settings_file(self.settings, self.folder / "settings.yaml")
        self._component = Component(["ingest", self.command], config, self.folder / "listener.log")
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            found = LISTENING.search(self._component.log.read_bytes())
            if found:
                self.ports = tuple(int(g) for g in found.groups() if g)
                threading.Thread(target=self._sample, daemon=True).start()
                return self
            if not self._component.running():
                break
            time.sleep(0.1)
        raise ListenerError(f"{self.command} did not start:\n{self._component.tail()}")

    def __enter__(self) -> Listener:
        return self

    def __exit__(self, *exc: object) -> None:
        # A campaign that failed mid-way must not leave its listener running, nor (read back or
        # not) its topics: each run makes nine, and a broker holding every run's ran out of files.
        if self.alive:
            self._sampling = False
            self._component.stop()  # type: ignore[union-attr]
        try:
            delete_topics(self.settings.kafka, self.settings.kafka.topic_prefix)
        except KafkaError as err:
            log.warning("campaign topics not deleted", prefix=self.settings.kafka.topic_prefix, error=str(err))

    @property
    def alive(self) -> bool:
        """Is the process still running?"""
        return self._component is not None and self._component.running()

    def peak_rss(self) -> int:
        """The kernel's high-water mark of the process's resident memory (VmHWM), in bytes."""
        assert self._component is not None
        status = Path(f"/proc/{self._component.proc.pid}/status").read_text()
        return int(re.search(r"VmHWM:\s+(\d+) kB", status)[1]) * 1024  # type: ignore[index]

    def udp_drops(self) -> int:
        """Datagrams the kernel dropped at the listener's UDP socket (full receive buffer)."""
        assert self._component is not None
        port = f":{self.ports[0]:04X} "
        for row in Path(f"/proc/{self._component.proc.pid}/net/udp").read_text().splitlines()[1:]:
            fields = row.split()
            if port in f"{fields[1]} ":
                return int(fields[-1])
        raise ListenerError(f"no UDP socket on port {self.ports[0]}")

    def stop(self) -> str:
        """SIGTERM (the listener flushes), wait; returns the log's last lines."""
        self._sampling = False
        assert self._component is not None
        code = self._component.stop()
        tail = self._component.tail(5)
        if code != 0:
            raise ListenerError(f"{self.command} exited {code}:\n{self._component.tail()}")
        shutil.rmtree(self.folder, ignore_errors=True)  # kept on failure, for its log
        return tail

    def _sample(self) -> None:
        while self._sampling and self.alive:
            try:
                pid = self._component.proc.pid  # type: ignore[union-attr]
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                return
            found = re.search(r"VmRSS:\s+(\d+) kB", status)
            if found:
                self.rss_samples.append(int(found[1]) * 1024)
            time.sleep(0.2)


def read_back(settings: Settings, timeout_s: float = 5.0) -> tuple[int, Counter[str]]:
    """(events in the events topic, dead letters by reason) of this run's topics."""
    # the listeners publish event batches only (a tick would fail here, as it did untyped)
    events = sum(len(cast(EventBatch, decode_events_record(r.value)).events)
                 for r in _records(settings, EVENTS.name(settings.kafka), timeout_s))
    letters = Counter(DeadLetter.model_validate_json(r.value).reason
                      for r in _records(settings, DEAD_LETTER.name(settings.kafka), timeout_s))
    return events, letters


def _records(settings: Settings, topic: str, timeout_s: float) -> list[Any]:
    consumer = KafkaConsumer(topic, auto_offset_reset="earliest", enable_auto_commit=False,
                             consumer_timeout_ms=int(timeout_s * 1000), fetch_max_bytes=64 * 2**20,
                             max_partition_fetch_bytes=16 * 2**20, **kafka_python_options(settings.kafka))
    try:
        return list(consumer)
    finally:
        consumer.close()
