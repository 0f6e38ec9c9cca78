"""Latency: from an event's send to its incident being searchable in Elasticsearch, at a fixed rate.

    .venv/bin/python -m bench.latency [--rate 100] [--seconds 60] [--hosts 500]

A simulated fleet's JSON lines are appended to a log file at a fixed rate (a paced writer, 10 ms
ticks), each stamped with the wall-clock time it is written as its ``@timestamp``: that is its
send time. ``deskwatch ingest tail`` follows the file (the product's file source), and a real
processor and sink run on fresh topics and indices. A poller searches the incidents alias every
50 ms and notes when each incident id first becomes searchable. An incident's opening transition
(history, reason ``opened``) carries ``at`` = the time of the event that opened it, i.e. that
event's stamped send time; latency = first searchable − ``at``. The first events warm the
pipeline up (until a first digest is searchable); only incidents opened after that count. The
result is reported next to the index refresh interval (target p99 ≤ refresh + 250 ms).
"""

from __future__ import annotations

import argparse
import tempfile
import threading
import time
import uuid
from itertools import islice
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, BinaryIO

import orjson
from elasticsearch import ApiError

from bench.e2e import drained
from bench.latency_hops import IndexWatcher, hop_times
from bench.memory import publish_inventory
from deskwatch.components import Component, write_settings_file
from deskwatch.connect import elasticsearch_client
from deskwatch.producers.simulate import FleetSpec, simulate_fleet
from deskwatch.schemas.asset import Asset
from deskwatch.settings import Settings, load_settings
from deskwatch.sinks.elasticsearch.templates import delete_indices, events_alias, history_alias, incidents_alias
from deskwatch.topics import delete_topics, ensure_topics

POLL_S = 0.05
TICK_S = 0.01
WARMUP_TIMEOUT_S = 120.0
MARGIN_S = 0.25
NOT_YET = (404, 503)  # no index yet / its shard not yet started


class LatencyBenchError(Exception):
    """A component exited or the pipeline never became searchable."""


def refresh_seconds(interval: str) -> float:
    """Elasticsearch's ``refresh_interval`` (``1s``, ``500ms``, ``-1``) in seconds."""
    units = {"ms": 0.001, "s": 1.0, "m": 60.0}
    for suffix in ("ms", "s", "m"):
        if interval.endswith(suffix):
            return float(interval[: -len(suffix)]) * units[suffix]
    return float(interval)


def percentile(values: list[float], q: float) -> float:
    """The ``q``-th percentile (0–100) by linear interpolation; ``values`` need not be sorted."""
    if not values:
        raise ValueError("no values")
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = int(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


def stamp(line: bytes, now: datetime) -> bytes:
    """``line`` with its ``@timestamp`` set to ``now`` (its send time)."""
    doc = orjson.loads(line)
    doc["@timestamp"] = now.isoformat().replace("+00:00", "Z")
    return orjson.dumps(doc)


def fleet_lines(hosts: int, events: int) -> tuple[list[bytes], list[Asset]]:
    """About ``events`` simulated JSON lines over ``hosts`` hosts (one working hour, all scenarios)."""
    sim = simulate_fleet(FleetSpec(seed=11, start=datetime(2026, 11, 23, 8, tzinfo=UTC), hosts=hosts,
                                   duration=timedelta(hours=1), noise_events_per_host_per_hour=events / hosts))
    return list(islice(sim.events.json_lines(), events)), sim.assets


class Poller(threading.Thread):
    """Notes the wall time at which each incident id is first searchable."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(daemon=True)
        self._client = elasticsearch_client(settings.elasticsearch)
        self._alias = incidents_alias(settings.elasticsearch)
        self.found: dict[str, float] = {}
        self.stop = threading.Event()
        self.polls = 0

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                hits = self._client.search(index=self._alias, size=10_000, source=False)["hits"]["hits"]
            except ApiError as exc:
                if exc.meta.status not in NOT_YET:
                    raise
                hits = []
            now = time.time()
            for hit in hits:
                self.found.setdefault(hit["_id"], now)
            self.polls += 1
            self.stop.wait(POLL_S)


class Pacer:
    """Appends lines to a file at ``rate`` lines/s, stamping each with its write time."""

    def __init__(self, out: BinaryIO, rate: float) -> None:
        self._out = out
        self._rate = rate
        self.sent_us: set[int] = set()

    def send(self, lines: list[bytes], check: Any) -> float:
        """Write every line on schedule; ``check()`` runs every tick. Returns the achieved rate."""
        start = time.monotonic()
        i = 0
        while i < len(lines):
            due = min(len(lines), int((time.monotonic() - start) * self._rate) + 1)
            chunk = []
            for line in lines[i:due]:
                now = datetime.now(UTC)
                self.sent_us.add(int(now.timestamp() * 1_000_000))
                chunk.append(stamp(line, now))
            if chunk:
                self._out.write(b"\n".join(chunk) + b"\n")
                self._out.flush()
            i = due
            check()
            time.sleep(TICK_S)
        return len(lines) / max(time.monotonic() - start, 1e-9)


def opened_at(settings: Settings) -> dict[str, float]:
    """Incident id → ``at`` (epoch seconds) of its ``opened`` transition."""
    client = elasticsearch_client(settings.elasticsearch)
    client.indices.refresh(index=history_alias(settings.elasticsearch))
    hits = client.search(index=history_alias(settings.elasticsearch), size=10_000,
                         source=["incident_id", "at", "reason"])["hits"]["hits"]
    return {h["_source"]["incident_id"]: datetime.fromisoformat(h["_source"]["at"]).timestamp()
            for h in hits if h["_source"]["reason"] == "opened"}


def searchable_events(settings: Settings) -> int:
    """Digests searchable now (0 while the index does not exist)."""
    client = elasticsearch_client(settings.elasticsearch)
    try:
        return int(client.count(index=events_alias(settings.elasticsearch))["count"])
    except ApiError as exc:
        if exc.meta.status not in NOT_YET:
            raise
        return 0


def run(base: Settings, rate: float, seconds: float, hosts: int, folder: Path,
        processor_workers: int = 1) -> dict[str, Any]:
    """One paced run on fresh topics and indices; the latencies and what they were measured on.
    ``processor_workers`` processes of one app share the partitions, each with its own data dir."""
    tag = uuid.uuid4().hex[:8]
    s = base.separate(f"bench-lat-{tag}", folder)
    lines, assets = fleet_lines(hosts, int(rate * seconds))
    ensure_topics(s.kafka)
    config = write_settings_file(s, folder / "settings.yaml")
    publish_inventory(config, assets, folder)
    log = folder / "fleet.log"
    log.touch()
    workers = [Component(["processor", "run"], _worker_settings(s, folder, n), folder / f"processor-{n}.log")
               for n in range(processor_workers)]
    workers += [Component(a, config, folder / f"{a[0]}.log") for a in
                (["sink", "run"], ["ingest", "tail", "--format", "jsonl", str(log)])]
    poller, watcher = Poller(s), IndexWatcher(s)
    try:
        poller.start()
        watcher.start()
        figures = _paced(s, workers, lines, rate, log)
        opened = opened_at(s)
        hops = hop_times(s, {i: at for i, at in opened.items() if at >= figures["measured_from"]},
                         poller.found, watcher.indexed)
    finally:
        poller.stop.set()
        watcher.stop.set()
        for w in workers:
            w.stop()
        cleanup(s)
    latencies = [poller.found[i] - at for i, at in opened.items()
                 if i in poller.found and at >= figures["measured_from"]]
    sent_us = figures.pop("sent_us")
    matched = sum(1 for at in opened.values() if int(round(at * 1_000_000)) in sent_us)
    return summarise(latencies, s, figures | {"incidents_opened": len(opened), "at_matches_a_send": matched,
                                              "polls": poller.polls, "hosts": hosts, "hops": hop_figures(hops)})


def _worker_settings(s: Settings, folder: Path, n: int) -> Path:
    """Worker ``n``'s settings file: the run's, with a data dir of its own (its member id follows)."""
    own = s.model_copy(update={"processor": s.processor.model_copy(update={"datadir": folder / f"processor-{n}"})})
    return write_settings_file(own, folder / f"processor-{n}.yaml")


def hop_figures(hops: dict[str, list[float]]) -> dict[str, dict[str, float | int | None]]:
    """Per hop: how many incidents, p50 / p99 / max in ms."""
    return {name: {"n": len(v), "p50_ms": percentile(v, 50) * 1000 if v else None,
                   "p99_ms": percentile(v, 99) * 1000 if v else None, "max_ms": max(v) * 1000 if v else None}
            for name, v in hops.items()}


def _paced(s: Settings, workers: list[Component], lines: list[bytes], rate: float, log: Path) -> dict[str, Any]:
    """Warm up until a digest is searchable, then send the rest; wait until drained."""
    def check() -> None:
        for w in workers:
            if not w.running():
                raise LatencyBenchError(f"deskwatch {' '.join(w.args)} exited:\n{w.tail()}")

    warm = max(1, int(rate))  # one second's worth of events
    with log.open("ab") as out:
        pacer = Pacer(out, rate)
        pacer.send(lines[:warm], check)
        deadline = time.monotonic() + WARMUP_TIMEOUT_S
        while searchable_events(s) == 0:
            check()
            if time.monotonic() > deadline:
                raise LatencyBenchError(f"nothing searchable after {WARMUP_TIMEOUT_S:.0f}s")
            time.sleep(0.2)
        measured_from = time.time()
        achieved = pacer.send(lines[warm:], check)
    deadline = time.monotonic() + 120
    while not drained(s) and time.monotonic() < deadline:
        check()
        time.sleep(0.2)
    time.sleep(2 * refresh_seconds(s.elasticsearch.refresh_interval) + 0.5)  # the last incidents' refresh
    return {"rate_asked": rate, "rate_achieved": achieved, "events": len(lines) - warm,
            "measured_from": measured_from, "sent_us": pacer.sent_us}


def summarise(latencies: list[float], s: Settings, figures: dict[str, Any]) -> dict[str, Any]:
    """p50 / p99 in ms next to the refresh interval and the target."""
    refresh = refresh_seconds(s.elasticsearch.refresh_interval)
    out = {**figures, "refresh_interval": s.elasticsearch.refresh_interval, "poll_interval_ms": POLL_S * 1000,
           "incidents_measured": len(latencies), "target_p99_ms": (refresh + MARGIN_S) * 1000,
           # the sink refreshes the incident indices itself after its writes, at most this often
           # (None: off): the index setting above is the slower bound, the target is read against it
           "sink_refresh_min_interval_s": (s.sink.incident_refresh_min_interval_s
                                           if s.sink.incident_refresh else None),
           "p50_ms": None, "p99_ms": None, "max_ms": None, "method": __doc__}
    if latencies:
        out.update(p50_ms=percentile(latencies, 50) * 1000, p99_ms=percentile(latencies, 99) * 1000,
                   max_ms=max(latencies) * 1000)
    return out


def cleanup(s: Settings) -> None:
    """Delete the run's indices and topics."""
    delete_indices(elasticsearch_client(s.elasticsearch), f"{s.elasticsearch.index_prefix}-")
    delete_topics(s.kafka, s.kafka.topic_prefix, f"{s.processor.app_id}-")


def measure(rate: float, seconds: float, hosts: int, processor_workers: int = 1) -> dict[str, Any]:
    """One latency run with the default settings tree's refresh interval."""
    with tempfile.TemporaryDirectory(prefix="dw-lat-") as tmp:
        result = run(load_settings(), rate, seconds, hosts, Path(tmp), processor_workers)
    p50, p99 = result["p50_ms"], result["p99_ms"]
    print(f"  latency at {result['rate_achieved']:.0f} events/s: {result['incidents_measured']} incidents, "
          f"p50 {p50 and round(p50)} ms, p99 {p99 and round(p99)} ms "
          f"(refresh {result['refresh_interval']}, target p99 <= {result['target_p99_ms']:.0f} ms)", flush=True)
    for name, h in result["hops"].items():
        if h["n"]:
            print(f"    hop {name:8} n={h['n']:4} p50 {h['p50_ms']:7.1f} ms  p99 {h['p99_ms']:7.1f} ms  "
                  f"max {h['max_ms']:7.1f} ms", flush=True)
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=100.0, help="events/s (the bench uses 50%% of the e2e rate)")
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--hosts", type=int, default=500)
    parser.add_argument("--processor-workers", type=int, default=1,
                        help="processor worker processes sharing the partitions (the table runs one)")
    args = parser.parse_args()
    measure(args.rate, args.seconds, args.hosts, args.processor_workers)


if __name__ == "__main__":
    main()
