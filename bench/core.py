"""Pure-core throughput: stage 1 over simulated host envelopes, stage 2 over the signals it made.

    .venv/bin/python bench/core.py [--hosts 200] [--events 20000] [--linger 60] [--reps 5]

In process, no Kafka, no faust, no JSON: the envelopes are built once (producers' ``Enveloper``,
event time as its clock, ``--linger`` seconds of event time per envelope), then each repetition
runs ``Stage1.apply`` over all of them with empty host tables, then ``Stage2.on_signal`` over
every signal stage 1 produced, with empty group tables. Every repetition starts cold: the
template and fingerprint caches (``templatize.clear_template_cache``, stage 1's
``identify._fingerprint``) are emptied first, so a warm cache from the previous
repetition cannot flatter the figure. Prints the median of ``--reps``
as events per second (stage 1, stage 2, and both as one stage-1 event's cost). The garbage
collector is paced as the processor's worker paces it (``--gc default`` keeps CPython's).
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import TypeVar

from deskwatch.processors.collect import pace_collector
from deskwatch.processors.fingerprint import templatize
from deskwatch.processors.stage1 import identify
from deskwatch.processors.rules import RuleSet, load_default_pack
from deskwatch.processors.stage1 import HostState, Stage1, count_populations
from deskwatch.processors.stage2 import GroupState, Stage2
from deskwatch.producers.envelope import EnvelopeLimits, Enveloper, enveloped
from deskwatch.producers.simulate import FleetSpec, simulate_fleet
from deskwatch.schemas.asset import Asset
from deskwatch.schemas.envelope import EventBatch
from deskwatch.schemas.signal import Signal

T = TypeVar("T")  # what a timed call returns

START = datetime(2026, 11, 23, 8, tzinfo=UTC)
Record = tuple[EventBatch, datetime]


def envelopes(hosts: int, events: int, linger_s: float) -> tuple[list[Record], list[Asset]]:
    """A seeded one-hour fleet of about ``events`` events, packed into host envelopes."""
    sim = simulate_fleet(
        FleetSpec(
            seed=42,
            start=START,
            duration=timedelta(hours=1),
            hosts=hosts,
            noise_events_per_host_per_hour=events / hosts,
        )
    )
    packer = Enveloper(EnvelopeLimits(max_events=500, max_bytes=900_000, linger_s=linger_s), "bench")
    out: list[Record] = list(enveloped(sim.events, packer))
    out.extend((batch, START + timedelta(hours=2)) for batch in packer.drain())
    return out, sim.assets


def run_stage1(core: Stage1, records: Sequence[Record]) -> list[tuple[Signal, datetime]]:
    """Every envelope through stage 1 with an empty host table; the signals with their time."""
    hosts: dict[str, HostState] = {}
    signals: list[tuple[Signal, datetime]] = []
    for batch, now in records:
        signals.extend((signal, now) for signal in core.apply(hosts, batch, now).signals)
    return signals


def run_stage2(core: Stage2, signals: Sequence[tuple[Signal, datetime]]) -> int:
    """Every signal through stage 2 with an empty group table; the number of incident revisions."""
    groups: dict[str, GroupState] = {}
    revisions = 0
    for signal, now in signals:
        out = core.on_signal(groups.get(signal.group_key), signal, now)
        groups[signal.group_key] = out.state
        revisions += len(out.incidents)
    return revisions


def cpu_seconds(work: Callable[[], T]) -> tuple[float, T]:
    """CPU seconds one call of ``work`` takes, and its result (the machine is shared: wall time is noise)."""
    started = time.process_time()
    result = work()
    return time.process_time() - started, result


def timed(work: Callable[[], T]) -> tuple[float, T]:
    """CPU seconds of one cold call of ``work`` (template and fingerprint caches emptied first), and its result."""
    templatize.clear_template_cache()
    identify._fingerprint.clear()
    return cpu_seconds(work)


def main(argv: Sequence[str] | None = None) -> None:
    """Build the input once, time both cores ``--reps`` times, print medians."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=200)
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--linger", type=float, default=60.0, help="seconds of event time")
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--gc", choices=("paced", "default"), default="paced")
    args = parser.parse_args(argv)
    if args.gc == "paced":
        pace_collector()
    records, assets = envelopes(args.hosts, args.events, args.linger)
    rules: RuleSet = load_default_pack()
    inventory = {asset.host: asset for asset in assets}
    stage1 = Stage1(rules, inventory, count_populations(assets, rules))
    stage2 = Stage2({rule.id: rule for rule in rules})
    n_events = sum(len(batch.events) for batch, _ in records)
    s1_times: list[float] = []
    s2_times: list[float] = []
    signals: list[tuple[Signal, datetime]] = []
    revisions = 0
    for _ in range(args.reps):
        seconds, signals = timed(lambda: run_stage1(stage1, records))
        s1_times.append(seconds)
        # B023 (a closure over the loop's signals): timed calls it at once, in this repetition
        seconds, revisions = timed(lambda: run_stage2(stage2, signals))  # noqa: B023
        s2_times.append(seconds)
    s1, s2 = statistics.median(s1_times), statistics.median(s2_times)
    print(f"input: {n_events} events in {len(records)} envelopes, {len(signals)} signals, "
          f"{revisions} incident revisions; median of {args.reps}")
    print(f"stage 1: {n_events / s1:>10,.0f} events/s  ({s1 * 1e6 / n_events:7.1f} us/event)")
    print(f"stage 2: {len(signals) / s2:>10,.0f} signals/s ({s2 * 1e6 / max(1, len(signals)):7.1f} us/signal)")
    print(f"both   : {n_events / (s1 + s2):>10,.0f} events/s  ({(s1 + s2) * 1e6 / n_events:7.1f} us/event)")


if __name__ == "__main__":
    main()
