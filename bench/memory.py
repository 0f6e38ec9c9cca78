"""Memory: a real processor's RSS holding the state of a large simulated fleet.

    .venv/bin/python -m bench.memory [--hosts 10000 100000] [--events 1000000] [--store memory disk]

The state is built without the broker in the way: the pure stage-1 and stage-2 cores (the code
the processor runs) process ``--events`` simulated events in this process (host envelopes: a
host's events per hour of event time, at most 500; the processor's own state limits), and every
host's and group's final state is written, as the key/value bytes the processor's tables store
(compressed, processors/state_codec.py), to the changelog topics faust recovers from
(``<app_id>-host-state-changelog``, a host's header and parts as processors/host_table.py splits
its state, and ``<app_id>-groups-changelog``; partition = the default partitioner's of the host
or group, as for the events). The fleet's inventory is published too. Then a real
``deskwatch processor run`` starts on them; it recovers the tables, then processes one sentinel
envelope per host, the host's first event again, which a recovered state knows (an exact
duplicate: no digest is written; without the state it would be), and each group's last signal
again, which a recovered group knows (a replay: no incident change is written). So every host's
and group's state is read, as when the whole fleet sends again after a restart, and the
decoded-state caches hold what they hold in service. Done once the inputs' offsets are
committed; RSS is sampled from start to 3 s after. The figure is the peak. ``--store`` runs each
fleet size once per ``processor.state_store`` named (the tables' records in memory, or in RocksDB
under the data dir: processors/disk_store.py), the same state each time.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from itertools import islice
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psutil
from kafka import KafkaConsumer, KafkaProducer
from kafka.admin import KafkaAdminClient, NewTopic
from kafka.errors import TopicAlreadyExistsError

from deskwatch.components import Component, write_settings_file
from deskwatch.connect import kafka_python_options
from deskwatch.processors.encode import encode, encoder
from deskwatch.processors.state_codec import pack
from deskwatch.processors.host_table import HOST_STATE_TABLE, state_records
from deskwatch.processors.produce import key_hash
from deskwatch.processors.rules import load_default_pack
from deskwatch.processors.stage1 import HostState, Stage1, StateLimits, count_populations
from deskwatch.processors.stage2 import GroupState, Stage2
from deskwatch.producers.envelope import EnvelopeLimits, Enveloper
from deskwatch.producers.simulate import FleetSpec, Simulation, simulate_fleet, write_inventory_csv
from deskwatch.schemas.asset import Asset
from deskwatch.schemas.envelope import EventBatch
from deskwatch.schemas.signal import Signal
from deskwatch.settings import STATE_STORES, Settings, load_settings
from deskwatch.topics import consumer_lag, delete_topics, end_offsets, ensure_topics
from deskwatch.topology import EVENT_DIGESTS, EVENTS, INCIDENT_CHANGES, SIGNALS

START = datetime(2026, 11, 23, 8, tzinfo=UTC)  # a Monday: the whole fleet is at work
LINGER = timedelta(hours=1)
TARGET_MIB = 1024
_ENCODE_SIGNAL = encoder(Signal)  # as stage 1 writes a signal


class MemoryBenchError(Exception):
    """The processor did not recover or exited."""


@dataclass
class MemoryFigure:
    """One fleet size: what the state held and what the processor's RSS was."""

    hosts: int
    events: int
    store: str
    host_states: int
    group_states: int
    changelog_bytes: int
    build_s: float
    recovery_s: float
    rss_after_recovery_mib: float
    rss_peak_mib: float


def fleet(hosts: int, events: int, start: datetime = START) -> Simulation:
    """A seeded one-hour fleet of about ``events`` events over ``hosts`` hosts."""
    return simulate_fleet(FleetSpec(seed=42, start=start, duration=timedelta(hours=1), hosts=hosts,
                                    noise_events_per_host_per_hour=events / hosts))


def envelopes(sim: Simulation, limit: int) -> Iterator[tuple[EventBatch, datetime]]:
    """The first ``limit`` events as host envelopes: closed when full or every 60 s of event time."""
    packer = Enveloper(EnvelopeLimits(max_events=500, max_bytes=900_000, linger_s=LINGER.total_seconds()), "bench")
    cut = sim.spec.start.astimezone(UTC) + LINGER
    for n, event in enumerate(sim.events):
        if n >= limit:
            break
        now = event.timestamp.astimezone(UTC)
        if now >= cut:  # drain() is O(open envelopes); due() per event would be O(hosts x events)
            yield from ((batch, now) for batch in packer.drain())
            cut = now + LINGER
        full = packer.add(event, len(event.message) + 200, now.timestamp())
        if full is not None:
            yield full, now
    yield from ((batch, cut) for batch in packer.drain())


def build_states(sim: Simulation, events: int, settings: Settings
                 ) -> tuple[dict[str, HostState], dict[str, GroupState], dict[str, Signal], int]:
    """Run both cores over the fleet's events; the final tables, each group's last signal and the
    events processed."""
    rules = load_default_pack()
    limits = StateLimits(max_ids=settings.processor.host_max_event_ids,
                         max_fingerprints=settings.processor.host_max_fingerprints)
    stage1 = Stage1(rules, {a.host: a for a in sim.assets}, count_populations(sim.assets, rules), limits)
    stage2 = Stage2({rule.id: rule for rule in rules})
    hosts: dict[str, HostState] = {}
    groups: dict[str, GroupState] = {}
    last: dict[str, Signal] = {}
    seen = 0
    for batch, now in envelopes(sim, events):
        seen += len(batch.events)
        for signal in stage1.apply(hosts, batch, now).signals:
            groups[signal.group_key] = stage2.on_signal(groups.get(signal.group_key), signal, now).state
            last[signal.group_key] = signal
    return hosts, groups, last, seen


def changelog(app_id: str, table: str) -> str:
    """The changelog topic faust names for ``table`` (seen on a real processor run)."""
    return f"{app_id}-{table}-changelog"


def write_changelogs(settings: Settings, tables: dict[str, dict[str, HostState] | dict[str, GroupState]]) -> int:
    """Create the changelog topics as faust does and write every state; return the bytes written."""
    k, p = settings.kafka, settings.processor
    admin = KafkaAdminClient(**kafka_python_options(k))
    configs = {"cleanup.policy": "compact", "max.message.bytes": str(p.state_max_record_bytes)}
    try:
        for table in tables:
            try:
                admin.create_topics([NewTopic(changelog(p.app_id, table), k.partitions, k.replication_factor,
                                              topic_configs=configs)])
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()
    producer = KafkaProducer(acks="all", linger_ms=20, batch_size=1_048_576, compression_type="gzip",
                             max_request_size=p.state_max_record_bytes, **kafka_python_options(k))
    written = 0
    sent: list[Any] = []
    try:
        for table, states in tables.items():
            for key, state in states.items():
                # As the processor's tables write them: HostStateTable's records, ModelTable's one.
                records = (state_records(key, state) if isinstance(state, HostState)
                           else [(key.encode(), pack(encode(state)))])
                partition = key_hash(key.encode()) % k.partitions
                for record_key, value in records:
                    sent.append(producer.send(changelog(p.app_id, table), key=record_key, value=value,
                                              partition=partition))
                    written += len(record_key) + len(value)
        producer.flush()
        check_sent(sent, "changelog records")
    finally:
        producer.close()
    return written


def run_processor(settings: Settings, folder: Path, sentinels: list[bytes], replays: list[tuple[bytes, bytes]],
                  timeout_s: float = 600) -> tuple[float, float, float]:
    """Start a processor, wait for its sentinels' and replayed signals' commits; (seconds, RSS
    after, peak RSS) in MiB."""
    config = write_settings_file(settings, folder / "settings.yaml")
    worker = Component(["processor", "run"], config, folder / "processor.log")
    start = time.monotonic()
    peak = 0
    try:
        proc = psutil.Process(worker.proc.pid)
        (folder / "sentinel.jsonl").write_bytes(b"".join(line + b"\n" for line in sentinels))
        sender = Component(["produce", "--format", "jsonl", str(folder / "sentinel.jsonl")], config,
                           folder / "sentinel.log")
        if sender.proc.wait() != 0:
            raise MemoryBenchError(f"the sentinel was not published:\n{sender.tail()}")
        send_replays(settings, replays)
        topics = (EVENTS.name(settings.kafka), SIGNALS.name(settings.kafka))
        while any(consumer_lag(settings.kafka, settings.processor.app_id, topic) > 0 for topic in topics):
            peak = max(peak, proc.memory_info().rss)
            if not worker.running():
                raise MemoryBenchError(f"the processor exited:\n{worker.tail()}")
            if time.monotonic() - start > timeout_s:
                raise MemoryBenchError(f"no recovery in {timeout_s:.0f}s:\n{worker.tail()}")
            time.sleep(0.25)
        recovered = time.monotonic() - start
        after = 0
        for _ in range(12):
            after = max(after, proc.memory_info().rss)
            time.sleep(0.25)
        made = sum(end_offsets(settings.kafka, EVENT_DIGESTS.name(settings.kafka)).values())
        if made:
            kept = Path(tempfile.gettempdir()) / f"deskwatch-bench-memory-{settings.processor.app_id}.log"
            kept.write_bytes((folder / "processor.log").read_bytes())
            raise MemoryBenchError(f"{made} sentinels made a digest: the processor did not recover their "
                                   f"state; the first: {first_digests(settings, 5)}; processor log: {kept}")
        changed = sum(end_offsets(settings.kafka, INCIDENT_CHANGES.name(settings.kafka)).values())
        if changed:
            raise MemoryBenchError(f"{changed} incident changes from replayed signals: the processor did not "
                                   "recover the groups' state")
        return recovered, after / 2**20, max(peak, after) / 2**20
    finally:
        worker.stop()


def check_sent(sent: list[Any], what: str) -> None:
    """After the producer's flush: raise unless every send of ``sent`` succeeded."""
    failed = [f.exception for f in sent if f.failed()]
    if failed or not all(f.succeeded() for f in sent):
        raise MemoryBenchError(f"{len(sent) - sum(f.succeeded() for f in sent)} of {len(sent)} {what} were not "
                               f"written: {failed[:3]}")


def send_replays(settings: Settings, replays: list[tuple[bytes, bytes]]) -> None:
    """Each group's last signal again, on the group's partition of the signals topic, as stage 1
    sends it: stage 2 reads the group's state and knows the signal (a replay: nothing is written)."""
    k = settings.kafka
    producer = KafkaProducer(acks="all", linger_ms=20, batch_size=1_048_576, compression_type="zstd",
                             **kafka_python_options(k))
    try:
        sent = [producer.send(SIGNALS.name(k), key=key, value=value, partition=key_hash(key) % k.partitions)
                for key, value in replays]
        producer.flush()
        check_sent(sent, "replayed signals")
    finally:
        producer.close()


def first_digests(settings: Settings, n: int) -> list[str]:
    """What the first ``n`` digests on the digests topic say (host, event id, first seen)."""
    consumer = KafkaConsumer(EVENT_DIGESTS.name(settings.kafka), auto_offset_reset="earliest",
                             consumer_timeout_ms=5000, **kafka_python_options(settings.kafka))
    try:
        found = []
        for record in consumer:
            digest = orjson.loads(record.value)
            found.append(f"{digest['host']} {digest['sample_event_id']} {digest['first_seen']}")
            if len(found) >= n:
                break
        return found
    finally:
        consumer.close()


def first_per_host(sim: Simulation, limit: int) -> list[bytes]:
    """Each host's first event among the first ``limit``, as the JSON line the simulator writes."""
    first: dict[str, bytes] = {}
    for line in islice(sim.events.json_lines(), limit):
        first.setdefault(orjson.loads(line)["host"]["name"], line)
    return list(first.values())


def publish_inventory(config: Path, assets: list[Asset], folder: Path) -> None:
    """``deskwatch inventory publish`` of the simulated fleet's assets."""
    write_inventory_csv(assets, folder / "inventory.csv")
    inventory = Component(["inventory", "publish", str(folder / "inventory.csv")], config, folder / "inventory.log")
    if inventory.proc.wait() != 0:
        raise MemoryBenchError(f"inventory publish failed:\n{inventory.tail()}")


def measure_one(base: Settings, hosts: int, events: int, folder: Path, store: str | None = None) -> MemoryFigure:
    """Build the state of one fleet, write it, and measure a processor recovering it (in ``store``;
    None: the settings' ``processor.state_store``)."""
    store = store or base.processor.state_store
    tag = uuid.uuid4().hex[:8]
    s = base.separate(f"bench-mem-{tag}", folder)
    s = s.model_copy(update={"processor": s.processor.model_copy(update={"tick_interval_s": 3600.0,
                                                                         "state_store": store})})
    t0 = time.monotonic()
    sim = fleet(hosts, events)
    host_states, group_states, last_signals, seen = build_states(sim, events, s)
    built = time.monotonic() - t0
    ensure_topics(s.kafka)
    publish_inventory(write_settings_file(s, folder / "settings.yaml"), sim.assets, folder)
    size = write_changelogs(s, {HOST_STATE_TABLE: host_states, "groups": group_states})
    counts = (len(host_states), len(group_states))
    sentinels = first_per_host(sim, seen)
    replays = [(key.encode(), _ENCODE_SIGNAL(signal)) for key, signal in last_signals.items()]
    del host_states, group_states, last_signals, sim
    try:
        recovered, after, peak = run_processor(s, folder, sentinels, replays)
    finally:
        delete_topics(s.kafka, s.kafka.topic_prefix, f"{s.processor.app_id}-")
    return MemoryFigure(hosts, seen, store, counts[0], counts[1], size, built, recovered, after, peak)


def measure_size(base: Settings, hosts: int, events: int, store: str | None = None) -> dict[str, Any]:
    """One fleet size in a temporary folder; its figures as a JSON-ready dict (also printed)."""
    with tempfile.TemporaryDirectory(prefix="dw-mem-") as tmp:
        figure = measure_one(base, hosts, events, Path(tmp), store)
    print(f"  memory ({figure.store} store): {hosts} hosts, {figure.events} events -> {figure.host_states} host and "
          f"{figure.group_states} group states, {figure.changelog_bytes / 2**20:.0f} MiB of changelog; "
          f"RSS {figure.rss_after_recovery_mib:.0f} MiB after recovery, every host's sentinel and every group's replay "
          f"({figure.recovery_s:.0f}s), "
          f"peak {figure.rss_peak_mib:.0f} MiB (state built in {figure.build_s:.0f}s)", flush=True)
    return asdict(figure)


def measure(hosts: list[int], events: int, stores: tuple[str, ...] | None = None) -> dict[str, Any]:
    """Every fleet size in turn, once per store (None: the settings'); the figures as a JSON-ready dict."""
    base = load_settings()
    return {"target_mib": TARGET_MIB, "method": __doc__,
            "figures": [measure_size(base, n, events, store)
                        for n in hosts for store in stores or (base.processor.state_store,)]}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--store", nargs="+", choices=STATE_STORES, default=None,
                        help="processor.state_store of each run (each fleet size once per store; default: the "
                             "settings')")
    args = parser.parse_args()
    measure(args.hosts, args.events, tuple(args.store) if args.store else None)


if __name__ == "__main__":
    main()
