"""Private engines for the fault campaign: the project's own stack code on another home and ports.

The shared engines (19092/19200) serve everyone and are never touched here; every signal goes to a
pid recorded in *this* home's state file.
"""

from __future__ import annotations

import os
import shutil
import signal
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from deskwatch.settings import Settings, StackSettings, load_settings
from deskwatch.stack import ensure_up
from deskwatch.stack.elasticsearch import es_url
from deskwatch.stack.fetch import is_complete
from deskwatch.stack.kafka import kafka_bootstrap
from deskwatch.stack.layout import Layout
from deskwatch.stack.progress import ElapsedReport
from deskwatch.stack.state import read_state
from deskwatch.stack.supervise import group_members

FAULTS_HOME = Path("/var/lib/deskwatch-faults")  # the ES engine user must traverse it: not under /root
SHARED_PORTS = frozenset({19092, 19093, 19200, 19300})


class FaultEngineError(RuntimeError):
    """A private engine could not be started, found or stopped."""


def private_stack_settings(home: Path = FAULTS_HOME, port_base: int = 24000) -> StackSettings:
    """The shared stack's settings moved to ``home``, ports ``port_base`` + 92/93/200/300, 512m heaps.

    The ports sit below the ephemeral range (32768+): 49300 once collided with a client's port.
    """
    shared = load_settings().stack
    return shared.model_copy(update={
        "home": home, "mode": "local", "security": "off",
        "kafka_port": port_base + 92, "kafka_controller_port": port_base + 93,
        "es_http_port": port_base + 200, "es_transport_port": port_base + 300,
        "kafka_heap": "512m", "es_heap": "512m",
        "maven_repo": Layout(shared.home, shared.maven_repo).m2,
    })


@dataclass
class PrivateStack:
    """Kafka and Elasticsearch of one private home, which the campaign may kill and restart."""

    stack: StackSettings = field(default_factory=private_stack_settings)
    report: ElapsedReport = field(default_factory=ElapsedReport)

    def __post_init__(self) -> None:
        ports = {self.stack.kafka_port, self.stack.kafka_controller_port, self.stack.es_http_port,
                 self.stack.es_transport_port}
        if ports & SHARED_PORTS:
            raise FaultEngineError(f"private stack would use shared ports {sorted(ports & SHARED_PORTS)}")

    @property
    def layout(self) -> Layout:
        return Layout(self.stack.home, self.stack.maven_repo)

    def up(self, stack: StackSettings | None = None) -> None:
        """Start whatever engine is not running (reusing live ones); copy the installs first."""
        self.stack = stack or self.stack
        self._install()
        ensure_up(self.stack, self.report)

    def _install(self) -> None:
        """Copy the shared stack's unpacked installs so no download is needed."""
        shared = Layout(load_settings().stack.home)
        self.stack.home.mkdir(parents=True, exist_ok=True)
        self.stack.home.chmod(0o755)
        for mine, theirs in ((self.layout.kafka_dist, shared.kafka_dist), (self.layout.es_dist, shared.es_dist)):
            if not is_complete(mine) and is_complete(theirs):
                shutil.copytree(theirs, mine, symlinks=True, dirs_exist_ok=True)

    def clients(self, base: Settings) -> Settings:
        """``base`` with its Kafka and Elasticsearch clients pointed at these engines."""
        return base.model_copy(update={
            "kafka": base.kafka.model_copy(update={"bootstrap_servers": kafka_bootstrap(self.stack)}),
            "elasticsearch": base.elasticsearch.model_copy(update={"url": es_url(self.stack)}),
        })

    def pid(self, engine: str) -> int:
        """The process-group leader this home recorded for ``engine`` (kafka or elasticsearch)."""
        state = read_state(self.layout.state_file)
        if state is None or engine not in state.engines:
            raise FaultEngineError(f"no {engine} recorded in {self.layout.state_file}")
        return state.engines[engine].pid

    def kill(self, engine: str, sig: signal.Signals, timeout_s: float = 60.0) -> float:
        """Send ``sig`` to the engine's group and wait until it is gone; return the seconds it took."""
        pgid, began = self.pid(engine), time.monotonic()
        if pgid <= 1:
            raise FaultEngineError(f"refusing to signal process group {pgid}")
        os.killpg(pgid, sig)
        while group_members(pgid):
            try:
                os.waitpid(pgid, os.WNOHANG)
            except ChildProcessError:
                pass
            if time.monotonic() - began > timeout_s:
                os.killpg(pgid, signal.SIGKILL)
            time.sleep(0.2)
        return time.monotonic() - began

    def kafka_killed(self, outage_s: float) -> None:
        """SIGKILL the broker and start it again after ``outage_s``, 10 s at most: a broker that
        dies is restarted by its service manager within seconds."""
        self.kill("kafka", signal.SIGKILL)
        time.sleep(min(outage_s, 10.0))
        self.up()

    def es_stopped(self, outage_s: float) -> None:
        """Stop Elasticsearch (SIGTERM) and start it again after ``outage_s``."""
        self.kill("elasticsearch", signal.SIGTERM)
        time.sleep(outage_s)
        self.up()

    @contextmanager
    def running(self, keep: bool = False) -> Iterator[PrivateStack]:
        """Both engines up for the ``with`` block, stopped after it unless ``keep``."""
        self.up()
        try:
            yield self
        finally:
            if not keep:
                self.down()

    def down(self) -> None:
        """Stop both private engines (SIGTERM, SIGKILL after the grace)."""
        state = read_state(self.layout.state_file)
        for name in (state.engines if state else {}):
            try:
                if group_members(self.pid(name)):
                    self.kill(name, signal.SIGTERM, self.stack.stop_timeout_s)
            except FaultEngineError:
                pass

    def write_rejections(self) -> int:
        """Bulk shard requests the write thread pool rejected (429) since the node started."""
        from elasticsearch import Elasticsearch

        client = Elasticsearch(es_url(self.stack), request_timeout=10)
        try:
            nodes = client.nodes.stats(metric="thread_pool")["nodes"]
            return sum(int(n["thread_pool"]["write"]["rejected"]) for n in nodes.values())
        finally:
            client.close()
