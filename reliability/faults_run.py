"""One run of the campaign: the pipeline as processes on the private engines, fed in chunks.

A feeder thread publishes the simulated fleet chunk by chunk (``deskwatch produce``, or appends to a
file that ``deskwatch ingest tail`` follows) while the processor and the sink run; a fault is
injected part-way; the run ends when every consumer group has drained and Elasticsearch is stable.
"""

from __future__ import annotations

import signal
import subprocess
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path

from deskwatch.components import Component, write_settings_file
from deskwatch.settings import Settings
from deskwatch.topics import ensure_topics, pipeline_lag

from faults_account import Tally, dead_letters, distinct_event_ids, found_in_es



def run_settings(base: Settings, folder: Path) -> Settings:
    """``base`` (on the private engines) with this run's own prefixes, groups and state dirs."""
    s = base.separate(f"faults-{uuid.uuid4().hex[:8]}", folder)
    return s.model_copy(update={
        "kafka": s.kafka.model_copy(update={"partitions": 4}),
        "producer": s.producer.model_copy(update={"batch_max_events": 20}),  # many records in flight
        # Ticks carry wall time: far beyond a run's length, so runs differ only by their faults.
        "processor": s.processor.model_copy(update={"tick_interval_s": 3600.0, "commit_every": 100,
                                                    # a worker faust leaves stuck is restarted within a row
                                                    "heartbeat_interval_s": 5.0, "heartbeat_stall_after_s": 30.0,
                                                    "heartbeat_exit_after_s": 75.0}),
        "sink": s.sink.model_copy(update={"flush_interval_s": 0.2, "retry_max_backoff_s": 2.0}),
    })


class Run:
    """Components of one run, the feeder, and the polling that decides it has drained."""

    def __init__(self, settings: Settings, folder: Path, chunks: list[Path]) -> None:
        self.settings, self.folder, self.chunks = settings, folder, chunks
        self.components: dict[str, Component] = {}
        self.restarts: list[str] = []
        self.produce_retries = 0
        self.producing: Component | None = None
        self.producing_since = 0.0
        self.sent_chunks = 0
        self.fed = threading.Event()
        self.tail_file = folder / "tailed.jsonl"
        ensure_topics(settings.kafka)

    def worker_settings(self, name: str) -> Settings:
        """The settings processor worker ``name`` runs with: its own data dir (and so its own
        static member id), the same on every start."""
        s = self.settings
        return s.model_copy(update={"processor": s.processor.model_copy(update={"datadir": self.folder / name})})

    def start(self, name: str, *args: str) -> Component:
        """``deskwatch <args>`` under ``name``; a processor worker gets its own data dir."""
        s = self.worker_settings(name) if args[0] == "processor" else self.settings
        config = write_settings_file(s, self.folder / f"{name}.yaml")
        self.components[name] = Component(list(args), config, self.folder / f"{name}-{time.monotonic_ns()}.log")
        return self.components[name]

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Signal one component and forget it (its log stays)."""
        self.components.pop(name).stop(sig)

    def restart(self, name: str, sig: signal.Signals = signal.SIGKILL, pause_s: float = 2.0) -> Component:
        """Signal one component, wait ``pause_s``, start it again with the same command."""
        args = self.components[name].args
        self.kill(name, sig)
        time.sleep(pause_s)
        return self.start(name, *args)

    def feed(self, pause_s: float, via_tail: bool, streamed: bool = False) -> threading.Thread:
        """Publish the chunks one after the other in a background thread (``streamed``: each
        through ``deskwatch produce -``'s standard input over ``STREAM_S`` seconds, so the producer
        is publishing envelopes while later lines still arrive)."""
        def body() -> None:
            for chunk in self.chunks:
                if via_tail:
                    with self.tail_file.open("ab") as out:
                        out.write(chunk.read_bytes())
                else:
                    self._produce(chunk, streamed)
                self.sent_chunks += 1
                time.sleep(pause_s)
            self.fed.set()
        thread = threading.Thread(target=body, daemon=True)
        thread.start()
        return thread

    def _produce(self, chunk: Path, streamed: bool = False) -> None:
        """At-least-once from outside: a chunk whose producer failed (broker away, killed) is sent again."""
        while True:
            args = ["produce", "--format", "jsonl", "-" if streamed else str(chunk)]
            c = Component(args, write_settings_file(self.settings, self.folder / "produce.yaml"),
                          self.folder / f"produce-{chunk.stem}-{time.monotonic_ns()}.log",
                          stdin=subprocess.PIPE if streamed else subprocess.DEVNULL)
            self.producing, self.producing_since = c, time.monotonic()
            if streamed:
                _stream(c, chunk.read_bytes())
            if c.proc.wait() == 0:
                return
            self.produce_retries += 1
            time.sleep(2.0)

    def lag(self) -> int | None:
        """Uncommitted records over both groups' inputs, None while the broker does not answer."""
        try:
            return sum(pipeline_lag(self.settings))
        except Exception:  # noqa: BLE001 - any client error while an engine is away means "not yet"
            return None

    def supervise(self) -> None:
        """Restart a component that exited on its own (as systemd would) and note it."""
        for name, c in list(self.components.items()):
            if not c.running() and not name.startswith("produce-batch"):
                self.restarts.append(f"{name} exited rc={c.proc.returncode}: {c.tail(3)[-300:]}")
                self.start(name, *c.args)

    def wait_caught_up(self, timeout_s: float, want: Callable[[], bool] = lambda: True) -> float:
        """Seconds until every group's lag is zero (and ``want()``); raise past ``timeout_s``."""
        began = time.monotonic()
        while time.monotonic() - began < timeout_s:
            self.supervise()
            if self.lag() == 0 and want():
                return time.monotonic() - began
            time.sleep(1.0)
        raise TimeoutError(f"not caught up after {timeout_s:.0f}s: lag {self.lag()}\n{self.tails()}")

    def settle(self, timeout_s: float, sent: int, quiet_s: float = 10.0) -> None:
        """Wait until all is fed and lags are zero, and ES holds every event or stops changing."""
        self.fed.wait(timeout_s)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            self.wait_caught_up(timeout_s)
            before = found_in_es(self.settings)[0]
            if before >= sent:
                time.sleep(3.0)  # a late duplicate would still show up
            else:
                time.sleep(quiet_s)
            if self.lag() == 0 and found_in_es(self.settings)[0] == before:
                return
        raise TimeoutError(f"not settled after {timeout_s:.0f}s\n{self.tails()}")

    def tally(self, fault: str, events_file: Path, recover_s: float | None) -> Tally:
        """The row of this run."""
        events, digests, incidents = found_in_es(self.settings)
        t = Tally(fault, sent=distinct_event_ids(events_file), events_found=events, digests=digests,
                  incidents=incidents, dead=dead_letters(self.settings), recover_s=recover_s)
        t.notes += self.restarts
        if self.produce_retries:
            t.notes.append(f"{self.produce_retries} produce calls failed and were retried")
        return t

    def tails(self) -> str:
        return "\n---\n".join(f"{n}: {c.tail(8)}" for n, c in self.components.items())

    def stop(self) -> None:
        for c in self.components.values():
            c.stop()


STREAM_S = 4.0  # how long a streamed chunk takes to arrive on the producer's standard input


def _stream(c: Component, data: bytes) -> None:
    """Write ``data`` to the component's stdin in 20 slices over ``STREAM_S``, line-aligned; a
    killed reader (BrokenPipe) ends the feed — the caller sends the whole chunk again."""
    lines = data.splitlines(keepends=True)
    step = max(1, len(lines) // 20)
    assert c.proc.stdin is not None
    try:
        for i in range(0, len(lines), step):
            c.proc.stdin.write(b"".join(lines[i:i + step]))
            c.proc.stdin.flush()
            time.sleep(STREAM_S / 20)
        c.proc.stdin.close()
    except (BrokenPipeError, ValueError):
        pass
