"""Every benchmark scenario in one command, one table, one JSON file.

    .venv/bin/python -m bench [--only producer,sink,...] [--json PATH] [--compare OLD.json] [--tiny]

Starts the engines through the project's stack (``deskwatch stack up``; idempotent), then runs,
in order: producer, sink, processor, end to end, latency (at 50 % of the end-to-end rate just
measured), memory. Each scenario's own module does the timing (see its docstring); this command
only chooses the volumes, collects the figures into rows (deskwatch, baseline, ratio, target,
met / missed), prints the table and writes the JSON. A scenario that fails is reported and the
others still run; the exit status is then 1. The default volumes aim at 20 minutes on the 2-core
development machine; the memory scenario's default is 150k events per fleet, not the target's 1M
(see ``Volumes``: ``--memory-events 1000000`` for that). ``--tiny`` is a smoke run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from statistics import median

from rich.console import Console

from bench.report import Results, Row, Target, compare, document, print_results, read_rows, write_json
from deskwatch.settings import load_settings
from deskwatch.stack import ensure_up
from deskwatch.topics import delete_topics, ensure_topics

console = Console(width=150)


@dataclass(frozen=True)
class Volumes:
    """How much each scenario pushes; the defaults fit the 20-minute budget."""

    # Envelopes of ~20 events (a host's 20 lines). 100k events: a run of ~1-2 s. At 20k (until
    # 2026-12-02) a run took ~0.3 s and each side's start-up (the raw loop's first metadata and
    # batches) weighed in it: the same shape read 0.74 / 0.82 at 20k and 0.48 / 0.57 at 100k.
    producer_events: int = 100_000
    producer_hosts: int = 5_000
    sink_docs: int = 50_000
    # Two fleet shapes for the processor. ~100 events per host: host envelopes of ~100 events, the
    # shape of issue 5's reference figures (300k events, 100-event envelopes). 3 events per host:
    # envelopes of ~3 events, where faust's per-record cost dominates. Volumes large enough that
    # the worker's start (~5 s) is a small part of the time, for every system alike.
    processor_events: int = 150_000
    processor_hosts: int = 1_500
    processor_sparse_events: int = 60_000
    processor_sparse_hosts: int = 20_000
    e2e_events: int = 60_000
    e2e_hosts: int = 2_000
    latency_seconds: float = 60.0
    latency_hosts: int = 500
    latency_rate: float | None = None  # None: 50 % of the end-to-end rate of this run
    # The target reads "1M events in state"; building them with today's cores takes far longer than
    # the whole budget (~250 us of CPU per event), so the default is smaller: --memory-events 1000000.
    memory_events: int = 150_000
    memory_hosts: tuple[int, ...] = (10_000, 100_000)
    reps: int = 3


TINY = Volumes(producer_events=2_000, producer_hosts=100, sink_docs=1_000, processor_events=1_000,
               processor_hosts=100, processor_sparse_events=500, processor_sparse_hosts=200, e2e_events=1_000, e2e_hosts=100, latency_seconds=10.0, latency_hosts=100,
               latency_rate=None, memory_events=5_000, memory_hosts=(500, 2_000), reps=1)
ORDER = ("producer", "sink", "processor", "e2e", "latency", "memory")


def parse(argv: list[str] | None) -> argparse.Namespace:
    """The command line; every volume can be set, ``--tiny`` starts from the smoke volumes."""
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    ap.add_argument("--only", default=",".join(ORDER), help=f"comma-separated subset of {','.join(ORDER)}")
    ap.add_argument("--tiny", action="store_true", help="smoke volumes: every scenario runs, figures mean little")
    ap.add_argument("--json", type=Path, default=None, help="results file (default: a dated file in the temp dir)")
    ap.add_argument("--compare", type=Path, default=None, help="an earlier results file to compare with")
    for name, default in asdict(Volumes()).items():
        flag = "--" + name.replace("_", "-")
        if isinstance(default, tuple):
            ap.add_argument(flag, type=int, nargs="+", default=None)
        else:
            ap.add_argument(flag, type=float if name.endswith(("seconds", "rate")) else int, default=None)
    return ap.parse_args(argv)


def volumes(args: argparse.Namespace) -> Volumes:
    """``--tiny`` or the defaults, overridden by any volume given on the command line."""
    base = asdict(TINY if args.tiny else Volumes())
    given = {k: getattr(args, k) for k in base if getattr(args, k) is not None}
    merged = base | given
    merged["memory_hosts"] = tuple(merged["memory_hosts"])
    return Volumes(**merged)


def selected(only: str) -> list[str]:
    """The scenarios to run, in the fixed order (latency reads the e2e rate when both run)."""
    names = [n.strip() for n in only.split(",") if n.strip()]
    unknown = sorted(set(names) - set(ORDER))
    if unknown:
        raise SystemExit(f"unknown scenario(s) {unknown}; choose from {list(ORDER)}")
    return [n for n in ORDER if n in names]


def run_all(names: list[str], v: Volumes) -> Results:
    """Run each scenario, collecting rows; a failure is recorded and the next one runs."""
    results = Results()
    runners: dict[str, Callable[[Volumes, Results], None]] = {
        "producer": run_producer, "sink": run_sink, "processor": run_processor, "e2e": run_e2e,
        "latency": run_latency, "memory": run_memory}
    for name in names:
        console.rule(f"[bold]{name}")
        start = time.monotonic()
        try:
            runners[name](v, results)
        except ModuleNotFoundError as exc:  # a baseline's client (Quix Streams, confluent-kafka) is not installed
            results.errors[name] = (f"{type(exc).__name__}: {exc}: the bench extra is not installed in this "
                                    "environment (`make bench` installs it, then runs every scenario)")
        except (Exception, SystemExit) as exc:  # noqa: BLE001 - the scripts exit on failure; report, go on
            results.errors[name] = f"{type(exc).__name__}: {str(exc)[-1500:]}"
        if name in results.errors:
            console.print(f"[red]{name} failed[/red]: {results.errors[name]}")
        results.seconds[name] = time.monotonic() - start
    return results


def run_producer(v: Volumes, results: Results) -> None:
    """File sources against the raw kafka-python loop of their own envelopes (bench/producer.py)."""
    from bench import producer

    path = Path(tempfile.gettempdir()) / f"deskwatch-bench-{v.producer_events}-{v.producer_hosts}.jsonl"
    producer.generate(path, v.producer_events, v.producer_hosts)
    events = sum(1 for _ in path.open("rb"))
    base = load_settings()
    settings = base.model_copy(update={"kafka": base.kafka.model_copy(update={"topic_prefix": f"bench-{uuid.uuid4().hex[:8]}."})})
    ensure_topics(settings.kafka)
    try:
        figures = producer.measure(settings, path, events, v.reps)
    finally:
        delete_topics(settings.kafka, settings.kafka.topic_prefix)
    producer.report(figures)
    sources = list(getattr(producer, "SOURCES", ()))
    pairs = [(s, f"raw envelopes ({s})") for s in sources] or [("file source", "raw envelopes")]
    for source, raw in pairs:
        results.rows.append(Row(f"producer: {source}", median(figures[source]), "events/s", median(figures[raw]),
                                "raw client loop, same envelopes", Target(">=", 0.80)))
    results.raw["producer"] = {"events": events, "events_per_s": dict(figures)}


def run_sink(v: Volumes, results: Results) -> None:
    """The sink against ``helpers.bulk`` of the same documents (bench/sink.py); no target set."""
    from bench import sink

    figures = sink.measure(v.sink_docs, v.reps)
    print(sink.table(figures["rows"], figures["docs"]))
    n = figures["docs"]
    results.rows.append(Row("sink", n / figures["sink_s"], "docs/s", n / figures["bulk_s"],
                            "helpers.bulk, same docs"))
    results.raw["sink"] = figures


def run_processor(v: Volumes, results: Results) -> None:
    """The processor against a bare aiokafka loop and Quix Streams (bench/processor.py), on two fleet
    shapes: ~100 events per host (all repetitions) and ~3 events per host (one repetition)."""
    from bench import processor

    shapes = (("", v.processor_hosts, v.processor_events, v.reps),
              ("sparse", v.processor_sparse_hosts, v.processor_sparse_events, 1))
    for name, hosts, events, reps in shapes:
        f = processor.measure(hosts, events, reps)
        processor.print_table(f["events"], f["processor_s"], f["bare_s"], f["quix_s"], f["rss_bytes"], hosts)
        processor.print_steady(f)
        processor.print_cpu(f)
        # After each system's warm-up (its start-up): the rows compare processing, not process starts.
        rate, shape = f["processor_steady"], f"{f['events'] / hosts:.0f} events/host"
        results.rows.append(Row(f"processor vs bare loop, {shape}", rate, "events/s", f["bare_steady"],
                                "aiokafka+orjson, per envelope; after warm-up", Target(">=", 0.50)))
        results.rows.append(Row(f"processor vs Quix Streams, {shape}", rate, "events/s", f["quix_steady"],
                                "Quix count per host, per event; after warm-up", Target(">=", 1.0)))
        # Its input was published before it started: a backlog it must work through without holding it.
        results.rows.append(Row(f"processor peak RSS reading a backlog, {shape}", f["rss_bytes"] / 2**20, "MiB",
                                None, f"{f['events']:,} events, {hosts:,} hosts, published before it started",
                                Target("<=", 1024, on="figure")))
        results.raw[f"processor{'_' + name if name else ''}"] = f


def run_e2e(v: Volumes, results: Results) -> None:
    """Producer to searchable documents against ES alone (bench/e2e.py), and the CPU split."""
    from bench import e2e

    s = e2e.measure(v.e2e_events, v.e2e_hosts, v.reps)
    results.rows.append(Row("end to end", s["events_per_s"], "events/s", s["events"] / s["es_alone_s"],
                            "ES alone, run's final docs; ratio: median of each rep's own", Target(">=", 0.70),
                            paired_ratio=s["ratio"]))
    share = s["cpu_share"]
    python = sum(value for key, value in share.items() if "python" in key)
    parts = [f"{k.removeprefix('python: ')} {100 * x:.0f} %" for k, x in share.items() if "python" in k]
    others = ", ".join([f"{k} {100 * x:.0f} %" for k, x in share.items() if "python" not in k]
                       + [f"(Python: {', '.join(parts)})"])
    results.rows.append(Row("CPU share of deskwatch's Python at e2e rate", 100 * python, "%", None, others))
    results.raw["e2e"] = s


# Latency past this many refresh intervals means the paced input outran the pipeline: the figure is
# then the queue's growth over the run, not a latency. The file-fed end-to-end rate can be more
# than a live tail sustains (its envelopes hold one or two events, against ~30 from a file).
UNSUSTAINED_REFRESHES = 10


def run_latency(v: Volumes, results: Results) -> None:
    """Send to searchable at half the end-to-end rate (bench/latency.py); halved again (once, and
    said so in the row) when the pipeline did not keep up at that rate."""
    from bench import latency

    e2e_rate = results.raw.get("e2e", {}).get("events_per_s")
    rate = v.latency_rate or (e2e_rate and 0.5 * e2e_rate)
    if not rate:
        raise ValueError("latency needs the e2e rate of this run or --latency-rate")
    f = latency.measure(rate, v.latency_seconds, v.latency_hosts)
    refresh_ms = latency.refresh_seconds(f["refresh_interval"]) * 1000
    note = ""
    if f["p99_ms"] and f["p99_ms"] > UNSUSTAINED_REFRESHES * refresh_ms:
        note = f"; {rate:.0f}/s not sustained (p99 {f['p99_ms']:,.0f} ms), halved"
        results.raw["latency_unsustained"] = f
        f = latency.measure(rate / 2, v.latency_seconds, v.latency_hosts)
    paced = f.get("sink_refresh_min_interval_s")
    sink = f" (the sink also refreshes incidents after its writes, at most every {paced:g} s)" if paced else ""
    label = (f"refresh_interval{sink}; at {f['rate_achieved']:.0f} events/s, "
             f"{f['incidents_measured']} incidents{note}")
    results.rows.append(Row("latency p50, send to searchable", f["p50_ms"], "ms", refresh_ms, label, ratio_of="none"))
    results.rows.append(Row("latency p99, send to searchable", f["p99_ms"], "ms", refresh_ms, label,
                            Target("<=", f["target_p99_ms"], on="figure"), ratio_of="none"))
    results.raw["latency"] = f | {"rate_from_e2e": e2e_rate}


def run_memory(v: Volumes, results: Results) -> None:
    """Processor RSS after recovering a large fleet's state (bench/memory.py)."""
    from bench import memory

    base = load_settings()
    results.raw["memory"] = {"target_mib": memory.TARGET_MIB, "method": memory.__doc__, "figures": []}
    for hosts in v.memory_hosts:  # a row per fleet size as soon as it is measured
        one = memory.measure_size(base, hosts, v.memory_events)
        results.raw["memory"]["figures"].append(one)
        target = Target("<=", memory.TARGET_MIB, on="figure") if hosts >= 100_000 else None
        results.rows.append(Row(f"processor RSS, {hosts:,} hosts, {one['events']:,} events in state",
                                float(one["rss_peak_mib"]), "MiB", None, "state from the cores via changelogs",
                                target))


def default_json() -> Path:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    return Path(tempfile.gettempdir()) / "deskwatch-bench" / f"results-{stamp}.json"


def main(argv: list[str] | None = None) -> int:
    """Run, print, write; 0 when every scenario produced its figures."""
    args = parse(argv)
    v = volumes(args)
    names = selected(args.only)
    start = time.monotonic()
    ensure_up(load_settings().stack, console.log)
    results = run_all(names, v)
    results.seconds["total"] = time.monotonic() - start
    print_results(results, console)
    path = write_json(args.json or default_json(), document(results, {"scenarios": names, **asdict(v)}))
    console.print(f"results written to {path}")
    if args.compare:
        console.print(compare(read_rows(args.compare), read_rows(path)))
    return 1 if results.errors else 0


if __name__ == "__main__":
    sys.exit(main())
