"""The sink catching up a backlog: what coalescing one batch's writes of a document saves there.

    .venv/bin/python -m bench.sink_backlog [--events 60000] [--hosts 2000] [--pairs 2]

A sink that was stopped, or held back by an Elasticsearch outage, finds the processor's outputs
waiting on their topics, and reads them in full batches (``sink.bulk_max_docs``): there a batch
holds many revisions of a busy incident and many counts of a digest, and only the newest of each
can stand (``sinks/elasticsearch/coalesce.py``). In the end-to-end run, where the sink keeps up,
3.7-4.2 % of its writes were held back; this measures the case the lever was made for.

1. The simulated fleet of ``bench/e2e.py`` through the producer and the processor alone (fresh
   ``bench-<id>`` topics), until the processor committed everything: its incidents, their changes
   and the event digests wait on their topics for a sink.
2. The sink (in this process, as ``bench/sink.py`` runs it) reads that backlog ``--pairs`` times
   twice, alternated (ABBA: as built, then with every write sent, then the other way round), each
   time with a fresh consumer group and fresh indices: timed from its first poll to every record
   committed, with its CPU seconds (this process's) and Elasticsearch's (from /proc).
3. Prints writes sent and held back, catch-up seconds and CPU for each way, medians and their
   ratios, and checks that both ways leave the same documents (count and newest versions).

"Every write sent" is the sink with ``Coalesced`` replaced by a batch that holds nothing back,
as it was before 534cbe2: a baseline made in the same run, not a setting of the product.
Needs the running engines (``deskwatch stack up``) and the ``bench`` extra.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from rich.console import Console

from bench.e2e import cpu_seconds, reap, with_descendants
from bench.sink import with_prefix
from deskwatch.components import Component, write_settings_file
from deskwatch.connect import elasticsearch_client
from deskwatch.settings import Settings, load_settings
from deskwatch.sinks.elasticsearch import consume
from deskwatch.sinks.elasticsearch.encode import BulkItem
from deskwatch.stack import ensure_up, stack_status
from deskwatch.topics import OffsetReader, delete_topics, end_offsets, ensure_topics, pipeline_lag
from deskwatch.topology import SINK_INPUTS

console = Console()


class EveryWrite:
    """A batch that holds nothing back: the baseline, every write of the batch sent."""

    def __init__(self, items: Iterable[BulkItem]) -> None:
        self.heads = list(items)
        self.held = 0

    def instead_of(self, refused: BulkItem) -> BulkItem | None:
        return None


SINK_BATCH = "Coalesced"  # the name the sink's loop makes each batch's writes with


@contextmanager
def every_write_sent() -> Iterator[None]:
    """The sink without coalescing, for the ``with`` block."""
    kept = getattr(consume, SINK_BATCH)
    setattr(consume, SINK_BATCH, EveryWrite)
    try:
        yield
    finally:
        setattr(consume, SINK_BATCH, kept)


@dataclass
class CatchUp:
    coalesced: bool
    records: int
    writes_sent: int
    held_back: int
    seconds: float
    sink_cpu_s: float
    es_cpu_s: float
    docs: int
    versions: int  # the sum of the documents' versions: the same newest versions both ways


def backlog(s: Settings, events_file: Path, workdir: Path) -> int:
    """Publish the events, let the processor alone drain them; the records now waiting for a sink."""
    ensure_topics(s.kafka)
    config = write_settings_file(s, workdir / "settings.yaml")
    processor = Component(["processor", "run"], config, workdir / "processor.log")
    try:
        code, _ = reap(Component(["produce", "--format", "jsonl", str(events_file)], config,
                                 workdir / "produce.log").proc)
        if code != 0:
            raise SystemExit(f"producer failed: exit {code}")
        reader = OffsetReader(s.kafka, "bench-backlog-lag")
        try:
            while pipeline_lag(s, reader)[0] > 0:
                if not processor.running():
                    raise SystemExit(f"the processor exited:\n{processor.tail()}")
                time.sleep(0.5)
        finally:
            reader.close()
    finally:
        processor.stop()
    return sum(sum(end_offsets(s.kafka, spec.name(s.kafka)).values()) for spec in SINK_INPUTS)


def catch_up(s: Settings, records: int, coalesced: bool) -> CatchUp:
    """One sink, a fresh group and fresh indices (its member slot is named by the group), over the
    whole backlog."""
    s = with_prefix(s, uuid.uuid4().hex[:6])
    engines = [pid for e in stack_status(load_settings().stack) if e.pid and e.name == "elasticsearch"
               for pid in with_descendants(e.pid)]
    sink = consume.Sink(s, threading.Event())
    sink.start()
    es_before, cpu_before, start = cpu_seconds(engines), time.process_time(), time.monotonic()
    reader = OffsetReader(s.kafka, "bench-backlog-lag")
    try:  # to the last record, or to an idle poll with nothing left (a compacted topic may hold fewer)
        while sink.step() > 0 or pipeline_lag(s, reader)[1] > 0:
            if sink.counts.consumed >= records:
                break
    finally:
        reader.close()
    seconds, sink_cpu = time.monotonic() - start, time.process_time() - cpu_before
    es_cpu = cpu_seconds(engines) - es_before
    c = sink.counts
    sink.close()
    client = elasticsearch_client(s.elasticsearch)
    prefix = s.elasticsearch.index_prefix
    client.indices.refresh(index=f"{prefix}-*")
    docs = client.count(index=f"{prefix}-*")["count"]
    versions = _versions(client, prefix)
    for index in client.indices.get(index=f"{prefix}-*"):
        client.indices.delete(index=index)
    client.close()
    return CatchUp(coalesced, c.consumed, c.indexed + c.already_applied, c.superseded, seconds, sink_cpu, es_cpu,
                   docs, versions)


def _versions(client: Any, prefix: str) -> int:
    """The sum of every document's version: the newest external version each one was written at."""
    total = 0
    resp = client.search(index=f"{prefix}-*", scroll="2m", size=5000, version=True, source=False,
                         query={"match_all": {}})
    while resp["hits"]["hits"]:
        total += sum(hit["_version"] for hit in resp["hits"]["hits"])
        resp = client.scroll(scroll_id=resp["_scroll_id"], scroll="2m")
    client.clear_scroll(scroll_id=resp["_scroll_id"])
    return total


def measure(events: int, hosts: int, pairs: int) -> list[CatchUp]:
    base = load_settings()
    ensure_up(base.stack, console.log)
    from bench.producer import generate  # the producer benchmark's generator: the same simulated fleet

    tag = uuid.uuid4().hex[:8]
    with tempfile.TemporaryDirectory(prefix="dw-backlog-") as tmp:
        work = Path(tmp)
        events_file = work / "events.jsonl"
        generate(events_file, events, hosts)
        s = base.separate(f"bench-{tag}", work)
        try:
            started = time.monotonic()
            records = backlog(s, events_file, work)
            console.log(f"backlog: {events} events made {records} records for the sink "
                        f"({time.monotonic() - started:.1f}s); topics prefixed bench-{tag}.")
            catch_up(s, records, True)  # uncounted: warms Elasticsearch and this process
            runs: list[CatchUp] = []
            for i in range(pairs):
                for coalesced in ((True, False) if i % 2 == 0 else (False, True)):
                    if coalesced:
                        runs.append(catch_up(s, records, True))
                    else:
                        with every_write_sent():
                            runs.append(catch_up(s, records, False))
                    r = runs[-1]
                    console.log(f"{'coalesced ' if coalesced else 'every write'}: {r.seconds:.2f}s, "
                                f"{r.writes_sent} writes sent, {r.held_back} held back, sink CPU {r.sink_cpu_s:.2f}s, "
                                f"ES CPU {r.es_cpu_s:.2f}s, {r.docs} documents")
        finally:
            delete_topics(s.kafka, s.kafka.topic_prefix, f"{s.processor.app_id}-")
    return runs


def report(runs: list[CatchUp]) -> None:
    med = statistics.median
    ways = {True: [r for r in runs if r.coalesced], False: [r for r in runs if not r.coalesced]}
    if {(r.docs, r.versions) for r in runs} != {(runs[0].docs, runs[0].versions)}:
        raise SystemExit(f"the two ways left different documents: {[(r.docs, r.versions) for r in runs]}")
    print("| sink over the backlog | records | writes sent | held back | catch-up s | sink CPU s | ES CPU s |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for coalesced, name in ((True, "coalesced (as built)"), (False, "every write sent")):
        rs = ways[coalesced]
        print(f"| {name} | {rs[0].records:,} | {med(r.writes_sent for r in rs):,.0f} | "
                      f"{med(r.held_back for r in rs):,.0f} | {med(r.seconds for r in rs):.2f} | "
                      f"{med(r.sink_cpu_s for r in rs):.2f} | {med(r.es_cpu_s for r in rs):.2f} |")
    on, off = ways[True], ways[False]
    print(f"held back: {med(r.held_back for r in on) / on[0].records:.1%} of the records; "
                  f"catch-up time coalesced / every write: {med(r.seconds for r in on) / med(r.seconds for r in off):.2f}, "
                  f"ES CPU {med(r.es_cpu_s for r in on) / med(r.es_cpu_s for r in off):.2f}, "
                  f"sink CPU {med(r.sink_cpu_s for r in on) / med(r.sink_cpu_s for r in off):.2f}; "
                  f"both left {runs[0].docs:,} documents at the same versions")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=60_000)
    ap.add_argument("--hosts", type=int, default=2000)
    ap.add_argument("--pairs", type=int, default=2)
    args = ap.parse_args()
    report(measure(args.events, args.hosts, args.pairs))


if __name__ == "__main__":
    main()
