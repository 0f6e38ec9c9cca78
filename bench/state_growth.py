"""How a worker's state grows after its hosts reach their id cap: both cores, hours of a soak's fleet.

    .venv/bin/python -m bench.state_growth [--hours 6] [--hosts 87] [--rate 110] [--id-cap 1000]

In process, no Kafka: the soak's fleet shape (``reliability/soak.py``: ``--hosts`` hosts, ``--rate``
events/s in office hours, every scenario) goes through ``Stage1`` and ``Stage2`` as the worker
runs them, one envelope at a time, the states kept in the worker's table views (``HostStateTable``,
``ModelTable``) over in-memory stores, the collector paced as the worker paces it. Every
``--every`` minutes of event time, one line: RSS, what the states hold (ids, content windows, the
earlier windows those keep, hits, groups), the host states' estimated bytes and the store's. A
run of hours takes minutes. The id cap is low by default (the soaks' 1,000), so it binds within
the first quarter hour and what grows after it shows.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

import psutil

from bench.state_write import Store
from deskwatch.processors.collect import pace_collector
from deskwatch.processors.host_table import HostStateTable, decoded_bytes
from deskwatch.processors.rules import load_default_pack
from deskwatch.processors.stage1 import Stage1, StateLimits, count_populations
from deskwatch.processors.stage2 import GroupState, Stage2
from deskwatch.processors.stage2.state import decoded_bytes as group_bytes
from deskwatch.processors.views import ModelTable
from deskwatch.producers.envelope import EnvelopeLimits, Enveloper, enveloped
from deskwatch.producers.simulate import FleetSpec, simulate_fleet
from deskwatch.schemas.envelope import EventBatch

START = datetime(2026, 12, 7, 8, tzinfo=UTC)  # a Monday's office hours, as the soak's fleet


def _nothing(*record: Any) -> None:
    return None


def run(hours: float, hosts: int, rate: float, id_cap: int, every_min: float) -> list[dict[str, float]]:
    """The lines, as dicts; printed as they come."""
    sim = simulate_fleet(FleetSpec(seed=5, start=START, duration=timedelta(hours=hours), hosts=hosts,
                                   noise_events_per_host_per_hour=rate * 3600 / hosts))
    rules = load_default_pack()
    inventory = {a.host: a for a in sim.assets}
    stage1 = Stage1(rules, inventory, count_populations(inventory.values(), rules), StateLimits(max_ids=id_cap))
    stage2 = Stage2({r.id: r for r in rules})
    host_store = Store("host-state")
    states = HostStateTable(host_store)
    groups: ModelTable[GroupState] = ModelTable(Store("groups"), GroupState)
    enveloper = Enveloper(EnvelopeLimits(max_events=500, max_bytes=900_000, linger_s=0.5), "bench")
    process = psutil.Process()
    pace_collector()

    def apply(batch: EventBatch, now: datetime) -> None:
        result = stage1.process(batch, states.get(batch.host), now)
        states.stage(batch.host, result.new_state)
        for signal in result.signals:
            groups.stage(signal.group_key, stage2.on_signal(groups.get(signal.group_key), signal, now).state)
        states.flush(_nothing)
        groups.flush(_nothing)

    lines: list[dict[str, float]] = []
    events, mark, started = 0, START + timedelta(minutes=every_min), time.monotonic()
    print(f"{'hours':>5} {'events':>9} {'RSS MiB':>8} | {'ids':>7} {'windows':>7} {'earlier':>8} {'hits':>5} "
          f"{'groups':>6} | {'hosts est. MiB':>14} {'groups est. MiB':>15} {'store MiB':>9} | {'s':>5}")
    for batch, now in enveloped(sim.events, enveloper):
        apply(batch, now)
        events += len(batch.events)
        if now >= mark:
            mark += timedelta(minutes=every_min)
            held = [s for s in map(states.peek, inventory) if s is not None]
            kept = [g for g in map(groups.peek, groups.keys()) if g is not None]
            line = {"hours": (now - START).total_seconds() / 3600, "events": events,
                    "rss_mib": process.memory_info().rss / 2**20,
                    "hosts": len(held), "ids": sum(len(s.seen_ids) for s in held),
                    "ids_max": max((len(s.seen_ids) for s in held), default=0), "windows": sum(len(s.content) for s in held),
                    "earlier": sum(len(w.earlier) for s in held for w in s.content.values()),
                    "hits": sum(len(s.hits) for s in held), "groups": len(kept),
                    "hosts_mib": sum(map(decoded_bytes, held)) / 2**20, "groups_mib": sum(map(group_bytes, kept)) / 2**20,
                    "store_mib": sum(map(len, host_store.data.values())) / 2**20, "seconds": time.monotonic() - started}
            lines.append(line)
            print(f"{line['hours']:5.2f} {events:9,} {line['rss_mib']:8.1f} | {line['ids']:7,.0f} {line['windows']:7,.0f} "
                  f"{line['earlier']:8,.0f} {line['hits']:5,.0f} {line['groups']:6,.0f} | {line['hosts_mib']:14.1f} "
                  f"{line['groups_mib']:15.1f} {line['store_mib']:9.1f} | {line['seconds']:5.0f}", flush=True)
    return lines


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hours", type=float, default=6.0)
    parser.add_argument("--hosts", type=int, default=87)
    parser.add_argument("--rate", type=float, default=110.0, help="events/s the fleet's noise adds up to")
    parser.add_argument("--id-cap", type=int, default=1000)
    parser.add_argument("--every", type=float, default=30.0, help="minutes of event time between lines")
    args = parser.parse_args(argv)
    lines = run(args.hours, args.hosts, args.rate, args.id_cap, args.every)
    if len(lines) >= 4:
        half = len(lines) // 2
        first, middle, last = lines[0], lines[half], lines[-1]

        def per_hour(a: dict[str, float], b: dict[str, float]) -> float:
            return (b["rss_mib"] - a["rss_mib"]) / max(b["hours"] - a["hours"], 1e-9)

        print(f"RSS growth: {per_hour(first, middle):+.1f} MiB an hour of event time in the first half, "
              f"{per_hour(middle, last):+.1f} in the second")


if __name__ == "__main__":
    main()
