"""What stage 1 writes per envelope for a busy host, against writing its whole state as one record.

    .venv/bin/python bench/state_write.py [--events-per-hour 200] [--hours 24] [--reps 3]

In process, no Kafka: one simulated host's day, one event per envelope (how a live workstation
sends), through ``Stage1.process`` and the processor's ``HostStateTable`` over in-memory stores.
For each envelope the same run also encodes the whole new state as one JSON record, the way the
state was written before it was split (the baseline). Prints, per hour of the day, the mean bytes
and CPU per envelope of both, and the whole day's totals; medians of ``--reps``.
"""

from __future__ import annotations

import argparse
import statistics
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from deskwatch.processors.encode import encode
from deskwatch.processors.host_table import HostStateTable
from deskwatch.processors.rules import load_default_pack
from deskwatch.processors.stage1 import Stage1, count_populations
from deskwatch.producers.simulate import FleetSpec, simulate_fleet
from deskwatch.schemas.envelope import EventBatch
from deskwatch.schemas.event import WorkstationEvent

START = datetime(2026, 11, 23, tzinfo=UTC)


class Store:
    """A faust table's store and changelog topic name, in memory."""

    def __init__(self, name: str) -> None:
        self.changelog_topic = name
        self.data: dict[bytes, bytes] = {}


@dataclass
class Hour:
    envelopes: int = 0
    split_bytes: int = 0
    split_s: float = 0.0
    whole_bytes: int = 0
    whole_s: float = 0.0
    ids: int = 0


def one_host_day(per_hour: float, hours: int) -> tuple[list[WorkstationEvent], Any]:
    """The events of the busiest host of a small seeded fleet, and the fleet."""
    sim = simulate_fleet(FleetSpec(seed=1, start=START, duration=timedelta(hours=hours), hosts=20,
                                   noise_events_per_host_per_hour=per_hour))
    events = list(sim.events)
    counts: dict[str, int] = {}
    for event in events:
        counts[event.host.name] = counts.get(event.host.name, 0) + 1
    host = max(counts, key=lambda name: counts[name])
    return [e for e in events if e.host.name == host], sim


def run(events: list[WorkstationEvent], core: Stage1, stored: list[int] | None = None) -> list[Hour]:
    """Every event as its own envelope; per hour: bytes and CPU of the table write and of one record.
    ``stored``: given, gets the bytes the host's records hold in the table's store at the end."""
    table = HostStateTable(Store("host-state"))
    hours: dict[int, Hour] = {}
    sent: list[int] = []

    def send(topic: Any, route: bytes, unit: list[tuple[bytes, bytes | None]]) -> None:
        sent.extend(len(key) + len(value or b"") for key, value in unit)

    host = events[0].host.name
    for event in events:
        hour = hours.setdefault(int((event.timestamp - START).total_seconds() // 3600), Hour())
        state = core.process(EventBatch(host=host, source="bench", events=[event]), table.get(host),
                             event.timestamp).new_state
        started = time.process_time()
        table.stage(host, state)
        table.flush(send)
        split = time.process_time()
        whole = encode(state)
        done = time.process_time()
        hour.envelopes += 1
        hour.split_bytes += sum(sent)
        hour.split_s += split - started
        hour.whole_bytes += len(host) + len(whole)
        hour.whole_s += done - split
        hour.ids = len(state.seen_ids)
        sent.clear()
    if stored is not None:
        stored.append(sum(len(value) for value in table._table.data.values()))
    return [hours[h] for h in sorted(hours)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--events-per-hour", type=float, default=200.0)
    parser.add_argument("--hours", type=int, default=24)
    parser.add_argument("--reps", type=int, default=3)
    args = parser.parse_args()
    events, sim = one_host_day(args.events_per_hour, args.hours)
    rules = load_default_pack()
    core = Stage1(rules, {a.host: a for a in sim.assets}, count_populations(sim.assets, rules))
    stored: list[int] = []
    reps = [run(events, core, stored) for _ in range(args.reps)]
    print(f"one host, {len(events)} events in {args.hours} h, one event per envelope; median of {args.reps}")
    print(f"{'hour':>4} {'ids':>6} {'split B/env':>12} {'whole B/env':>12} {'split us/env':>13} {'whole us/env':>13}")
    for i, hour in enumerate(reps[0]):
        n = hour.envelopes
        split_us = statistics.median(r[i].split_s for r in reps) * 1e6 / n
        whole_us = statistics.median(r[i].whole_s for r in reps) * 1e6 / n
        print(f"{i:>4} {hour.ids:>6} {hour.split_bytes / n:>12,.0f} {hour.whole_bytes / n:>12,.0f} "
              f"{split_us:>13.0f} {whole_us:>13.0f}")
    split_b = sum(h.split_bytes for h in reps[0])
    whole_b = sum(h.whole_bytes for h in reps[0])
    split_s = statistics.median(sum(h.split_s for h in r) for r in reps)
    whole_s = statistics.median(sum(h.whole_s for h in r) for r in reps)
    print(f"day: split {split_b / 2**20:,.1f} MiB in {split_s:.2f} s CPU; whole state per envelope "
          f"{whole_b / 2**20:,.1f} MiB in {whole_s:.2f} s CPU; bytes ratio {whole_b / split_b:.1f}x, "
          f"CPU ratio {whole_s / split_s:.1f}x")
    ids = reps[0][-1].ids
    print(f"the host's state in the table's store at the end: {ids:,} ids, {stored[0] / 1024:,.1f} KiB "
          f"({stored[0] / max(ids, 1):.1f} bytes an id, content windows and header included)")


if __name__ == "__main__":
    main()
