"""Processor throughput against its baselines on the same broker, in one run.

    .venv/bin/python bench/processor.py [--hosts 100000] [--events 220000] [--reps 3]

1. Simulates a fleet (``--hosts`` hosts, about ``--events`` events), publishes its inventory and
   its events once with ``deskwatch produce`` (host envelopes, as in production), and the same
   events once more as one record per event (how Quix Streams users send them).
2. Times, ``--reps`` times each, from process start to drained:
   - deskwatch: ``deskwatch processor run`` (stage 1 with stage 2 running beside it, as deployed),
     a fresh consumer group each time; drained = nothing left to commit on ``events``;
   - bare loop: aiokafka consume -> orjson decode -> produce one record per envelope;
   - Quix Streams: a stateful count per host over the per-event topic.
3. Prints medians and ratios, and the processor's peak RSS (state for every simulated host); beside
   wall time, each system's CPU seconds (the machine is shared: wall time also counts the waits
   for a core that others hold), and the ratios per CPU second.
4. Each system's rate after its warm-up, which is its own start-up: deskwatch from its log line
   "stage 1 first batch" to the CreateTime of its last event digest (every envelope makes one),
   the bare loop from its first record, Quix Streams from its first record to its last (timed in
   its process). ``python -m bench`` reports these.
Needs the running engines (``deskwatch stack up``) and the ``bench`` extra.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import orjson
import psutil

from deskwatch.components import Component, write_settings_file
from deskwatch.producers.simulate import FleetSpec, simulate_fleet, write_inventory_csv
from deskwatch.settings import STATE_STORES, Settings, load_settings
from deskwatch.topics import consumer_lag, delete_topics, end_offsets, ensure_topics
from deskwatch.topology import EVENT_DIGESTS, EVENTS

SCENARIOS = ["disk-errors", "gpo-failure-site", "service-crash-loop", "app-crash-storm", "dns-timeouts"]


def bench_settings(tag: str) -> Settings:
    s = load_settings().separate(f"bench-{tag}")
    return s.model_copy(update={"processor": s.processor.model_copy(update={"tick_interval_s": 3600.0})})


def prepare(settings: Settings, folder: Path, hosts: int, events: int) -> tuple[int, int, str]:
    """Simulate and publish once; return (events, envelopes, per-event topic)."""
    per_hour = events / hosts  # one hour of noise; scenarios add a few percent
    sim = simulate_fleet(FleetSpec(seed=42, start=datetime(2026, 11, 23, 8, tzinfo=timezone.utc),
                                   duration=timedelta(hours=1), hosts=hosts, scenarios=SCENARIOS,
                                   noise_events_per_host_per_hour=per_hour))
    lines = list(sim.events.json_lines())
    (folder / "events.jsonl").write_bytes(b"\n".join(lines) + b"\n")
    write_inventory_csv(sim.assets, folder / "inventory.csv")
    ensure_topics(settings.kafka)
    config = write_settings_file(settings, folder / "settings.yaml")
    for args in (["inventory", "publish", str(folder / "inventory.csv")],
                 ["produce", "--format", "jsonl", str(folder / "events.jsonl")]):
        c = Component(args, config, folder / f"{args[0]}.log")
        if c.proc.wait() != 0:
            sys.exit(f"deskwatch {' '.join(args)} failed:\n{c.tail()}")
    envelopes = sum(end_offsets(settings.kafka, EVENTS.name(settings.kafka)).values())
    per_event = f"{settings.kafka.topic_prefix}bench-per-event"
    _publish_per_event(settings, per_event, lines)
    return len(lines), envelopes, per_event


def _publish_per_event(settings: Settings, topic: str, lines: list[bytes]) -> None:
    from confluent_kafka import Producer

    conf = {"bootstrap.servers": settings.kafka.bootstrap_servers}
    _create_topic(settings, topic)
    producer = Producer({**conf, "linger.ms": 20, "compression.type": "lz4"})
    for line in lines:
        host = orjson.loads(line)["host"]["name"]
        while True:
            try:
                producer.produce(topic, key=host.encode(), value=line)
                break
            except BufferError:
                producer.poll(0.1)
    producer.flush()


def _create_topic(settings: Settings, topic: str) -> None:
    from confluent_kafka.admin import AdminClient, NewTopic

    admin = AdminClient({"bootstrap.servers": settings.kafka.bootstrap_servers})  # referenced until resolved
    futures = admin.create_topics([NewTopic(topic, settings.kafka.partitions, 1)])
    try:
        futures[topic].result()
    except Exception as exc:  # noqa: BLE001 - a rerun finds it there already
        if "TOPIC_ALREADY_EXISTS" not in str(exc):
            raise


def last_output_at(settings: Settings, topic: str) -> float:
    """The CreateTime (epoch seconds) of the newest record on ``topic``: when stage 1 finished."""
    from kafka import KafkaConsumer, TopicPartition

    from deskwatch.connect import kafka_python_options

    consumer = KafkaConsumer(enable_auto_commit=False, **kafka_python_options(settings.kafka))
    try:
        parts = [TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()]
        consumer.assign(parts)
        ends, stamps = consumer.end_offsets(parts), []
        for tp in (tp for tp in parts if ends[tp]):
            consumer.seek(tp, ends[tp] - 1)
            for records in consumer.poll(timeout_ms=5000, max_records=1).values():
                stamps += [r.timestamp for r in records]
        return max(stamps) / 1000 if stamps else 0.0
    finally:
        consumer.close()


def first_batch_at(log: Path) -> float:
    """When the worker's stage 1 took its first batch (its log line, epoch seconds), 0 if absent."""
    for line in log.read_text(errors="replace").splitlines():
        if "stage 1 first batch" in line:
            stamp = line.split()[0].rstrip("Z")
            return datetime.fromisoformat(stamp).replace(tzinfo=timezone.utc).timestamp()
    return 0.0


def time_processor(settings: Settings, folder: Path, rep: int, envelopes: int,
                   events: int, workers: int = 1) -> tuple[float, int, float, float]:
    """Seconds from start to drained, peak RSS in bytes (the largest worker's), CPU seconds (every
    worker's) and the steady rate (events from the first "stage 1 first batch" of any worker to the
    last output: the workers' start-up is their warm-up). ``workers`` processes of one app share the
    partitions, each with its own data dir, as ``deskwatch processor run`` is scaled out."""
    tag = f"{settings.processor.app_id}-{rep}-{uuid.uuid4().hex[:4]}"
    start = time.monotonic()
    procs: list[Component] = []
    for n in range(workers):
        run = settings.model_copy(update={"processor": settings.processor.model_copy(
            update={"app_id": tag, "datadir": folder / f"{tag}-{n}"})})
        procs.append(Component(["processor", "run"], write_settings_file(run, folder / f"{tag}-{n}.yaml"),
                               folder / f"{tag}-{n}.log"))
    peaks, first = [0] * workers, None
    try:
        handles = [psutil.Process(c.proc.pid) for c in procs]
        while True:
            peaks = [max(peak, h.memory_info().rss) for peak, h in zip(peaks, handles, strict=True)]
            times = [h.cpu_times() for h in handles]
            for c in procs:
                if not c.running():
                    sys.exit(f"a processor worker exited:\n{c.tail()}")
            lag = consumer_lag(run.kafka, tag, EVENTS.name(run.kafka))
            now = time.monotonic() - start
            if first is None and lag < envelopes:
                first = now  # the first commit: startup (join, recovery) is over
            if lag == 0:
                cpu = sum(t.user + t.system for t in times)
                began = min((t for t in (first_batch_at(c.log) for c in procs) if t), default=0.0)
                span = last_output_at(run, EVENT_DIGESTS.name(run.kafka)) - began
                steady = events / span if 0 < span < now else 0.0
                print(f"  processor rep {rep} ({workers} worker{'s' if workers > 1 else ''}): first commit at "
                      f"{first:.1f}s, drained at {now:.1f}s, CPU {cpu:.1f}s, peak RSS {max(peaks) / 2**20:.0f} MiB, "
                      f"steady {steady:,.0f} events/s", flush=True)
                return now, max(peaks), cpu, steady
            time.sleep(0.5)
    finally:
        for c in procs:
            c.stop()


async def _bare_loop(settings: Settings, topic: str, out: str, expected: int) -> float:
    """Consume, decode and produce ``expected`` envelopes; returns when the first one arrived."""
    from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

    servers = settings.kafka.bootstrap_servers
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=servers, group_id=f"bare-{uuid.uuid4().hex[:6]}",
                                auto_offset_reset="earliest", enable_auto_commit=True, max_poll_records=5000,
                                fetch_max_bytes=16 * 1024 * 1024)
    producer = AIOKafkaProducer(bootstrap_servers=servers, linger_ms=5)
    await consumer.start()
    await producer.start()
    seen, first = 0, 0.0
    try:
        while seen < expected:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            if batches and not first:
                first = time.monotonic()
            for records in batches.values():
                for record in records:
                    envelope = orjson.loads(record.value)
                    summary = {"host": envelope.get("host"), "events": len(envelope.get("events", ()))}
                    await producer.send(out, key=record.key, value=orjson.dumps(summary))
                    seen += 1
        await producer.flush()
    finally:
        await producer.stop()
        await consumer.stop()
    return first


def time_bare(settings: Settings, envelopes: int, events: int) -> tuple[float, float, float]:
    """Wall and CPU seconds of the bare loop (in this process), and its steady rate (events/s
    from its first record to its end)."""
    out = f"{settings.kafka.topic_prefix}bench-bare-out"
    _create_topic(settings, out)
    start, cpu = time.monotonic(), time.process_time()
    first = asyncio.run(_bare_loop(settings, EVENTS.name(settings.kafka), out, envelopes))
    end = time.monotonic()
    return end - start, time.process_time() - cpu, events / (end - first) if end > first > 0 else 0.0


def time_quix(settings: Settings, topic: str, events: int, folder: Path) -> tuple[float, float, float]:
    """Wall and CPU seconds of Quix Streams in a child process (its own event loop and signal
    handlers), and its steady rate (events/s from its first record to its last, timed in the child)."""
    start, before = time.monotonic(), os.times()
    child = subprocess.run([sys.executable, __file__, "--quix-child", settings.kafka.bootstrap_servers, topic,
                            str(events), str(folder)],
                           capture_output=True, text=True, timeout=1800)
    if child.returncode != 0:
        sys.exit(f"Quix Streams failed:\n{child.stdout[-2000:]}\n{child.stderr[-3000:]}")
    after = os.times()
    cpu = after.children_user + after.children_system - before.children_user - before.children_system
    steady = [float(line.split()[1]) for line in child.stdout.splitlines() if line.startswith("STEADY ")]
    return time.monotonic() - start, cpu, steady[-1] if steady else 0.0


def quix_child(servers: str, topic: str, events: int, folder: str) -> None:
    """Count records per host (the message key) in Quix Streams state until ``events`` were seen."""
    from quixstreams import Application
    from quixstreams.state import State

    app = Application(broker_address=servers, consumer_group=f"quix-{uuid.uuid4().hex[:6]}",
                      auto_offset_reset="earliest", state_dir=folder, loglevel="WARNING")
    sdf = app.dataframe(app.topic(topic, key_deserializer="str", value_deserializer="json"))

    seen: list[float] = []  # [first record's time, records seen]

    def count(value: dict[str, object], state: State[str, int]) -> None:
        state.set("count", state.get("count", 0) + 1)
        if not seen:
            seen[:] = [time.monotonic(), 0]
        seen[1] += 1
        if seen[1] == events:
            print(f"STEADY {events / (time.monotonic() - seen[0]):.1f}", flush=True)

    sdf = sdf.update(count, stateful=True)
    app.run(sdf, count=events, collect=False, timeout=600)


def main() -> None:
    if sys.argv[1:2] == ["--quix-child"]:
        quix_child(sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=100_000)
    parser.add_argument("--events", type=int, default=220_000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--processor-reps", type=int, default=None, help="default: --reps")
    parser.add_argument("--workers", type=int, nargs="+", default=[1],
                        help="processor worker processes sharing the partitions; several counts: each is timed")
    parser.add_argument("--store", nargs="+", choices=STATE_STORES, default=None,
                        help="processor.state_store of the timed workers; several: each is timed, alternately "
                             "(default: the settings')")
    args = parser.parse_args()
    r = measure(args.hosts, args.events, args.reps, args.processor_reps, args.workers, args.store)
    print_table(r["events"], r["processor_s"], r["bare_s"], r["quix_s"], r["rss_bytes"], args.hosts)
    print_steady(r)
    print_cpu(r)
    print_workers(r)
    print_stores(r)


def measure(hosts: int, events: int, reps: int, processor_reps: int | None = None,
            workers: list[int] | None = None, stores: list[str] | None = None) -> dict[str, Any]:
    """Publish once, time the three systems; the medians (s), every run and the peak RSS (bytes).
    With several ``workers`` counts, the first is the one the table's processor figures are of and
    ``by_workers`` holds each count's medians; so with several ``stores`` (``by_store``)."""
    settings = bench_settings(uuid.uuid4().hex[:8])
    try:
        return _measure(settings, hosts, events, reps, processor_reps, workers or [1],
                        stores or [settings.processor.state_store])
    finally:
        drop_run_topics(settings)


def drop_run_topics(settings: Settings) -> list[str]:
    """Delete the run's topics: its own, its workers' changelogs (app ids start with the run's) and
    Quix Streams' changelogs of the per-event topic (``changelog__<group>--<topic>--<store>``)."""
    prefix = settings.kafka.topic_prefix
    return delete_topics(settings.kafka, prefix, f"{settings.processor.app_id}-", containing=(f"--{prefix}",))


def _measure(settings: Settings, hosts: int, events: int, reps: int, processor_reps: int | None,
             workers: list[int], stores: list[str]) -> dict[str, Any]:
    folder = Path(tempfile.mkdtemp(prefix="deskwatch-bench-"))
    t0 = time.monotonic()
    events, envelopes, per_event = prepare(settings, folder, hosts, events)
    print(f"published {events} events in {envelopes} envelopes ({hosts} hosts) "
          f"and {events} per-event records in {time.monotonic() - t0:.0f}s; "
          f"topics prefixed {settings.kafka.topic_prefix}", flush=True)
    by_workers: dict[int, list[tuple[float, int, float, float]]] = {n: [] for n in workers}
    by_store: dict[str, list[tuple[float, int, float, float]]] = {store: [] for store in stores}
    rep = 0
    for i in range(processor_reps or reps):  # counts and stores alternate: the machine's drift hits each alike
        for n in workers:
            for store in stores if i % 2 == 0 else stores[::-1]:  # ABBA
                stored = settings.model_copy(update={"processor": settings.processor.model_copy(
                    update={"state_store": store})})
                timed = time_processor(stored, folder, rep, envelopes, events, n)
                rep += 1
                if store == stores[0]:
                    by_workers[n].append(timed)
                if n == workers[0]:
                    by_store[store].append(timed)
    runs = by_workers[workers[0]]
    processor = statistics.median(r[0] for r in runs)
    rss = max(r[1] for r in runs)
    print(f"processor runs (s): {[round(r[0], 1) for r in runs]}", flush=True)
    bare = [time_bare(settings, envelopes, events) for _ in range(reps)]
    print(f"bare loop runs (s): {[round(r[0], 1) for r in bare]}", flush=True)
    quix = [time_quix(settings, per_event, events, folder / f"quix-{i}") for i in range(reps)]
    print(f"Quix Streams runs (s): {[round(r[0], 1) for r in quix]}", flush=True)
    return {"events": events, "envelopes": envelopes, "hosts": hosts, "processor_s": processor,
            "bare_s": statistics.median(r[0] for r in bare), "quix_s": statistics.median(r[0] for r in quix),
            "rss_bytes": rss, "processor_runs_s": [r[0] for r in runs], "bare_runs_s": [r[0] for r in bare],
            "quix_runs_s": [r[0] for r in quix], "processor_cpu_s": statistics.median(r[2] for r in runs),
            "bare_cpu_s": statistics.median(r[1] for r in bare), "quix_cpu_s": statistics.median(r[1] for r in quix),
            "processor_steady": statistics.median(r[3] for r in runs),
            "bare_steady": statistics.median(r[2] for r in bare), "quix_steady": statistics.median(r[2] for r in quix),
            "workers": workers[0],
            "by_workers": {n: _summary(rs) for n, rs in by_workers.items()},
            "store": stores[0], "by_store": {store: _summary(rs) for store, rs in by_store.items()}}


def _summary(runs: list[tuple[float, int, float, float]]) -> dict[str, Any]:
    """One setting's timed runs (wall s, peak RSS bytes, CPU s, steady events/s): medians, peak, walls."""
    return {"steady": statistics.median(r[3] for r in runs), "cpu_s": statistics.median(r[2] for r in runs),
            "wall_s": statistics.median(r[0] for r in runs), "rss_bytes": max(r[1] for r in runs),
            "runs_s": [r[0] for r in runs]}


def print_table(events: int, processor: float, bare: float, quix: float, rss: int, hosts: int) -> None:
    rate = {"deskwatch processor (stage 1 + stage 2)": events / processor,
            "bare aiokafka + orjson loop": events / bare, "Quix Streams count per host": events / quix}
    print(f"\n{'system':42} {'median s':>9} {'events/s':>10}")
    for (name, r), secs in zip(rate.items(), (processor, bare, quix), strict=True):
        print(f"{name:42} {secs:9.1f} {r:10.0f}")
    mine = rate["deskwatch processor (stage 1 + stage 2)"]
    print(f"\nratio to bare loop: {mine / rate['bare aiokafka + orjson loop']:.2f} (target >= 0.50)")
    print(f"ratio to Quix Streams: {mine / rate['Quix Streams count per host']:.2f} (target >= 1.0)")
    print(f"processor peak RSS with {hosts} hosts: {rss / 2**20:.0f} MiB (target <= 1024 MiB)")


def print_steady(r: dict[str, Any]) -> None:
    """Each system's rate after its warm-up (its start-up; see the module's point 4), and the ratios."""
    mine, bare, quix = r["processor_steady"], r["bare_steady"], r["quix_steady"]
    print(f"after warm-up, events/s: deskwatch {mine:,.0f}, bare loop {bare:,.0f}, Quix Streams {quix:,.0f}; "
          f"ratio to bare loop {mine / bare if bare else 0:.2f}, to Quix Streams {mine / quix if quix else 0:.2f}")


def print_cpu(r: dict[str, Any]) -> None:
    """CPU per event of each system (medians), and the processor's ratios per CPU second."""
    n = r["events"]
    for name, key in (("deskwatch processor", "processor_cpu_s"), ("bare loop", "bare_cpu_s"), ("Quix Streams", "quix_cpu_s")):
        print(f"CPU {name:20} {r[key]:7.1f} s  {r[key] * 1e6 / n:7.1f} us/event")
    print(f"per CPU second, ratio to bare loop: {r['bare_cpu_s'] / r['processor_cpu_s']:.2f}, "
          f"to Quix Streams: {r['quix_cpu_s'] / r['processor_cpu_s']:.2f}")


def print_workers(r: dict[str, Any]) -> None:
    """Each worker count's steady rate and CPU per event, against Quix Streams' (one process)."""
    quix, n = r["quix_steady"], r["events"]
    for count, f in r["by_workers"].items():
        print(f"{count} worker{'s' if count > 1 else ' '}: {f['steady']:,.0f} events/s after warm-up, "
              f"CPU {f['cpu_s'] * 1e6 / n:.1f} us/event, largest RSS {f['rss_bytes'] / 2**20:.0f} MiB; "
              f"ratio to Quix Streams (one process) {f['steady'] / quix if quix else 0:.2f}")


def print_stores(r: dict[str, Any]) -> None:
    """With several stores: each one's medians, and each against the first (same input, alternated runs)."""
    stores = r.get("by_store", {})
    if len(stores) < 2:
        return
    first, n = stores[r["store"]], r["events"]
    for store, f in stores.items():
        print(f"state_store {store:6}: {f['steady']:,.0f} events/s after warm-up, wall {f['wall_s']:.1f} s "
              f"{[round(x, 1) for x in f['runs_s']]}, CPU {f['cpu_s'] * 1e6 / n:.1f} us/event, "
              f"peak RSS {f['rss_bytes'] / 2**20:.0f} MiB; against {r['store']}: steady "
              f"{f['steady'] / first['steady'] if first['steady'] else 0:.2f}, CPU {f['cpu_s'] / first['cpu_s']:.2f}")


if __name__ == "__main__":
    main()
