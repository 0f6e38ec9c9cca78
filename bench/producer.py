"""Producer throughput of the file sources against raw kafka-python baselines on the same broker.

    .venv/bin/python bench/producer.py [--events 200000] [--hosts 1000] [--reps 3] [--compression zstd]

Modes, each run ``--reps`` times (medians reported):
  tail             ``FileTail`` reading the JSONL file to its end: parse, validate, envelope, send,
                   wait for every acknowledgement (what ``deskwatch ingest tail --until-eof`` does)
  tail (parse process)  the same with ``tail.parse_process``: read, parse and envelope in a child
                   process, send and checkpoint in this one
  produce          what ``deskwatch produce FILE`` does (the same parse, ``WireEnveloper``, progress bar)
  raw envelopes    a bare kafka-python loop sending the same envelopes, pre-built and pre-serialised
                   (recorded from each file source's own envelope policy), same producer options
  raw per event    the same bare loop sending one record per event (the JSON line, key = host)
  ... parse only   a file source with a publisher that only records: its CPU cost without Kafka
  jsonl encode only  every line through the jsonl encoder alone (validate + serialise, no file, no
                   envelope): the floor of any file source's CPU per event. A source in one process
                   runs that and its raw loop on one GIL, so raw CPU / (raw CPU + encode CPU) bounds
                   its CPU ratio; the report prints that bound beside the measured ratios.
Each file source's ratio is against the raw loop of its own envelopes (target >= 0.80), in
events/s and in CPU: the CPU column is this process's CPU time per event (main thread and
kafka-python's sender thread with its compression), which a machine shared with other work
disturbs less than the wall clock; the child CPU column is that of the reader process (reaped
before the run ends, so its rusage is complete), and the CPU ratio counts both. ``--compression`` sets the codec of both sides alike; the
bytes per event on the wire are the envelopes compressed by kafka-python's own codec in 1 MiB runs.
Topics get a unique ``bench-<id>.`` prefix and are deleted at the end.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import tempfile
import time
import uuid
from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from functools import partial
from itertools import islice
from pathlib import Path
from typing import Any

from deskwatch.producers.cli import _produce_one  # the CLI's own per-file path, progress bar included
from deskwatch.producers.envelope import EnvelopeLimits, WireBatch
from deskwatch.producers.parse.contract import SourceContext
from deskwatch.producers.parse.encode import encoder_for
from deskwatch.producers.publish import Publisher
from deskwatch.producers.simulate import FleetSpec, simulate_fleet
from deskwatch.producers.sources.tail import FileTail, TailOptions
from deskwatch.schemas import DeadLetter, EventBatch
from kafka import KafkaProducer, codec
from kafka.admin import KafkaAdminClient
from rich.console import Console
from rich.table import Table

from deskwatch.connect import kafka_python_options, kafka_python_producer_options
from deskwatch.settings import ProducerSettings, Settings, load_settings
from deskwatch.topics import ensure_topics
from deskwatch.topology import EVENTS, TOPICS

console = Console()


def generate(path: Path, events: int, hosts: int) -> None:
    """Write ``events`` simulated JSON lines over ``hosts`` hosts (skipped when the file exists)."""
    if path.exists() and sum(1 for _ in path.open("rb")) == events:
        return
    rate = events / (hosts * 24) * 4  # the fleet sleeps outside work hours: ask for more, keep the first
    sim = simulate_fleet(FleetSpec(seed=7, start=datetime(2026, 11, 2, tzinfo=UTC), hosts=hosts,
                                   duration=timedelta(hours=24), noise_events_per_host_per_hour=rate))
    written = 0
    with path.open("wb") as out:
        for line in islice(sim.events.json_lines(), events):
            out.write(line + b"\n")
            written += 1
    if written < events:
        raise SystemExit(f"the simulation gave only {written} events; raise the rate")


class Recorder:
    """A stand-in publisher that keeps every envelope as (key, value) bytes."""

    def __init__(self) -> None:
        self.records: list[tuple[bytes, bytes]] = []

    def send_batch(self, batch: EventBatch | WireBatch, watermark: Any = None) -> None:
        if isinstance(batch, WireBatch):
            value = batch.value
        else:
            value = batch.model_dump_json(by_alias=True, exclude_none=True).encode()
        self.records.append((batch.host.encode(), value))

    def send_dead_letter(self, letter: DeadLetter) -> None:
        raise AssertionError(f"the bench file has a bad line: {letter.reason}")

    def confirmed(self) -> None:
        return None

    def flush(self, timeout_s: float = 60.0) -> None:
        return None


def file_source(settings: Settings, path: Path, publisher: Any, parse_process: bool = False) -> int:
    """Read ``path`` to its end with a fresh checkpoint; returns the events published."""
    with tempfile.TemporaryDirectory() as state:
        tail_settings = settings.tail.model_copy(update={"state_dir": Path(state), "parse_process": parse_process})
        ctx = SourceContext(source=str(path), reference_time=datetime.now(UTC))
        ps = settings.producer
        limits = EnvelopeLimits(ps.batch_max_events, ps.batch_max_bytes, ps.linger_ms / 1000)
        options = TailOptions(path, "jsonl", ctx, limits, until_eof=True)
        counts = FileTail(options, tail_settings, publisher).run(lambda: False)
    accepted: int = counts.accepted
    return accepted


def produce_source(settings: Settings, path: Path, publisher: Any) -> int:
    """``deskwatch produce PATH``'s per-file path; returns the events published."""
    ctx = SourceContext(source=str(path), reference_time=datetime.now(UTC))
    counts = _produce_one(path, lambda: open(path, "rb"), path.stat().st_size, "jsonl", ctx,  # noqa: SIM115
                          publisher, settings.producer, settings.tail)
    accepted: int = counts.accepted
    return accepted


SOURCES: dict[str, Callable[[Settings, Path, Any], int]] = {
    "tail": file_source, "tail (parse process)": partial(file_source, parse_process=True), "produce": produce_source}
ENCODE_ONLY = "jsonl encode only"


def encode_only(lines: list[bytes], source: str) -> None:
    """Every line through the jsonl encoder, positions as the tail gives them; nothing kept."""
    encode, ctx = encoder_for("jsonl"), SourceContext(source=source, reference_time=datetime.now(UTC))
    for n, line in enumerate(lines):
        encode(line, f"1:{n}", ctx)


def raw_client(settings: Settings) -> KafkaProducer:
    """kafka-python with the Publisher's own options."""
    return KafkaProducer(client_id="deskwatch-bench", **kafka_python_producer_options(settings.kafka, settings.producer))


def raw_loop(client: KafkaProducer, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    """Send pre-built records and wait for every acknowledgement."""
    for key, value in records:
        client.send(topic, key=key, value=value)
    client.flush()


def run_raw(settings: Settings, mode: str, events: int, records: list[tuple[bytes, bytes]], figures: Figures) -> None:
    """Time the raw loop over ``records``; its client is made before the clock starts and closed
    after it stops, as each source's ``Publisher`` is (until 2026-12-02 the raw loop's own start-up,
    its bootstrap and version check, was inside its time)."""
    client = raw_client(settings)
    try:
        figures.run(mode, events, partial(raw_loop, client, EVENTS.name(settings.kafka), records))
    finally:
        client.close()


class Figures(defaultdict[str, list[float]]):
    """events/s per mode and repetition, with each run's CPU time per event (us) in ``cpu`` (this
    process) and ``child_cpu`` (its reaped child processes)."""

    def __init__(self) -> None:
        super().__init__(list)
        self.cpu: defaultdict[str, list[float]] = defaultdict(list)
        self.child_cpu: defaultdict[str, list[float]] = defaultdict(list)

    def run(self, mode: str, events: int, run: Callable[[], Any]) -> None:
        """Time one run of ``mode``: wall clock, this process's CPU (all threads), its children's."""
        wall, cpu, child = time.perf_counter(), time.process_time(), children_cpu_s()
        run()
        self[mode].append(events / (time.perf_counter() - wall))
        self.cpu[mode].append((time.process_time() - cpu) / events * 1e6)
        self.child_cpu[mode].append((children_cpu_s() - child) / events * 1e6)

    def total_cpu(self, mode: str) -> float:
        """Median over repetitions of this process's plus its children's CPU us/event."""
        return statistics.median(map(sum, zip(self.cpu[mode], self.child_cpu[mode], strict=False)))


def children_cpu_s() -> float:
    """User + system CPU seconds of every reaped child process so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def per_event_records(path: Path) -> list[tuple[bytes, bytes]]:
    """One record per event: the JSON line as value, its host as key."""
    out = []
    for line in path.read_bytes().splitlines():
        host = line.split(b'"host":{"name":"', 1)[1].split(b'"', 1)[0]
        out.append((host, line))
    return out


def run_source(settings: Settings, name: str, path: Path, events: int, figures: Figures) -> list[tuple[bytes, bytes]]:
    """One repetition of one file source: through Kafka, parse only, then the raw loop of its envelopes.

    Through Kafka first, while this process holds no recorded envelopes: the parse process is a
    fork of this one, and data held here (freed or not) leaves its heap fragmented, so the child
    would pay copy-on-write faults that ``deskwatch ingest tail``, which holds nothing, does not.
    """
    publisher = Publisher(settings.kafka, settings.producer, settings.tail.max_in_flight)
    try:
        figures.run(name, events, lambda: SOURCES[name](settings, path, publisher))
    finally:
        publisher.close()
    recorder = Recorder()
    figures.run(f"{name} parse only", events, lambda: SOURCES[name](settings, path, recorder))
    run_raw(settings, f"raw envelopes ({name})", events, recorder.records, figures)
    return recorder.records


def wire_bytes(compression: str, records: list[tuple[bytes, bytes]]) -> float:
    """Mean bytes of one envelope after kafka-python's codec, compressing 1 MiB runs of envelopes."""
    encode = {"gzip": codec.gzip_encode, "zstd": codec.zstd_encode}.get(compression, bytes)
    blob = b"".join(value for _, value in records)
    return sum(len(encode(blob[i:i + 1_048_576])) for i in range(0, len(blob), 1_048_576)) / len(records)


def measure(settings: Settings, path: Path, events: int, reps: int) -> Figures:
    """events/s (and CPU per event) per mode and repetition; each mode's inputs held only for it."""
    figures, summary = Figures(), []
    for rep in range(reps):
        lines = path.read_bytes().splitlines()
        figures.run(ENCODE_ONLY, events, partial(encode_only, lines, str(path)))
        del lines
        for name in SOURCES:
            records = run_source(settings, name, path, events, figures)
            if rep == reps - 1:
                summary.append(envelope_summary(settings.producer.compression, name, records, events))
            del records
        per_event = per_event_records(path)
        run_raw(settings, "raw per event", events, per_event, figures)
        del per_event
        console.print(f"rep {rep + 1}: " + ", ".join(f"{m} {v[-1]:,.0f}/s" for m, v in figures.items()))
    for line in summary:
        console.print(line)
    return figures


def envelope_summary(compression: str, name: str, records: list[tuple[bytes, bytes]], events: int) -> str:
    """One source's envelopes per run, their mean size and the bytes per event after the codec."""
    return (f"{name}: {len(records)} envelopes per run (mean {events / len(records):.0f} events, "
            f"{statistics.mean(len(v) for _, v in records) / 1024:.0f} KiB before compression, "
            f"{wire_bytes(compression, records) * len(records) / events:.0f} B/event after {compression})")


def report(figures: Figures) -> None:
    """The table of medians and each file source's ratios to its raw loop (CPU: parent + child)."""
    cpu, child = figures.cpu, figures.child_cpu
    table = Table(title="producer throughput, events/s (median of repetitions)")
    for column in ("mode", "median", "min", "max", "CPU us/event", "child CPU us/event"):
        table.add_column(column, justify="right" if column != "mode" else "left")
    for mode, values in figures.items():
        table.add_row(mode, f"{statistics.median(values):,.0f}", f"{min(values):,.0f}", f"{max(values):,.0f}",
                      f"{statistics.median(cpu[mode]):.1f}", f"{statistics.median(child[mode]):.1f}")
    console.print(table)
    for name in SOURCES:
        raw = f"raw envelopes ({name})"
        ratio = statistics.median(figures[name]) / statistics.median(figures[raw])
        cpu_ratio = figures.total_cpu(raw) / figures.total_cpu(name)
        console.print(f"{name} / {raw}: {ratio:.2f}, CPU {cpu_ratio:.2f} (target >= 0.80)")
    raw_cpu = statistics.median(cpu["raw envelopes (tail)"])
    bound = raw_cpu / (raw_cpu + statistics.median(cpu[ENCODE_ONLY]))
    console.print(f"one-process CPU bound, raw / (raw + encode only): {bound:.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--hosts", type=int, default=1000)
    parser.add_argument("--reps", type=int, default=3)
    parser.add_argument("--file", type=Path, default=Path(tempfile.gettempdir()) / "deskwatch-bench.jsonl")
    parser.add_argument("--compression", default=None, help="codec of both sides (default: producer.compression)")
    args = parser.parse_args()
    generate(args.file, args.events, args.hosts)
    sizes = [len(line) for line in args.file.read_bytes().splitlines()]
    console.print(f"{args.file}: {len(sizes)} events, mean {statistics.mean(sizes):.0f} B "
                  f"(p10 {statistics.quantiles(sizes, n=10)[0]:.0f}, p90 {statistics.quantiles(sizes, n=10)[-1]:.0f})")
    base = load_settings()
    kafka = base.kafka.model_copy(update={"topic_prefix": f"bench-{uuid.uuid4().hex[:8]}."})
    producer = base.producer if args.compression is None else ProducerSettings.model_validate(
        {**base.producer.model_dump(), "compression": args.compression})
    settings = base.model_copy(update={"kafka": kafka, "producer": producer})
    ensure_topics(settings.kafka)
    try:
        report(measure(settings, args.file, len(sizes), args.reps))
    finally:
        admin = KafkaAdminClient(**kafka_python_options(settings.kafka))
        admin.delete_topics([t.name(settings.kafka) for t in TOPICS])
        admin.close()


if __name__ == "__main__":
    main()
