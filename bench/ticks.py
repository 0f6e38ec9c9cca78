"""Stage 2's ticks: one round over every partition, visiting the due groups against every group.

    .venv/bin/python -m bench.ticks [--hosts 20000] [--events 200000] [--partitions 8] [--reps 5]

In process, no Kafka, no faust. A seeded one-hour fleet (bench/core.py's envelopes) goes through
both cores, and the group states are stored as the processor stores them: a ``ModelTable`` over
an in-memory store, with the processor's default cache of decoded states. Then, ten seconds after
the fleet's hour, a round of ticks (one per partition) is timed two ways:

- the agent's: ``TickSchedule``, only the keys whose timers are due (``Stage2.tick_due``);
- the baseline: every key of the partition read and passed to ``on_tick``, as the agent did before
  2026-12-02. That tick itself now skips a group that is not due. The one of then copied every
  group with an incident or pending signals, so the baseline is lower than the old cost.

Both rounds must change the same groups, or the script stops. Prints the CPU seconds of a round
each way (median of ``--reps``), their ratio, and the schedule's first walk (as after a
rebalance). Nothing is written back, so every repetition sees the same states.
"""

from __future__ import annotations

import argparse
import statistics
from collections.abc import Sequence
from datetime import datetime, timedelta

from bench.core import START, cpu_seconds, envelopes
from bench.state_write import Store
from deskwatch.processors.collect import pace_collector
from deskwatch.processors.evaluate.replay import Replayer
from deskwatch.processors.rules import load_default_pack
from deskwatch.processors.run_stage2 import TickSchedule, partition_of
from deskwatch.processors.stage2 import GroupState, Stage2
from deskwatch.processors.views import ModelTable


def group_states(hosts: int, events: int) -> tuple[Stage2, dict[str, GroupState]]:
    """Every group's state after the fleet's hour: the replay's cores (evaluate/replay.py), each
    command delivered as it is sent, no tick."""
    records, assets = envelopes(hosts, events, 60.0)
    replayer = Replayer(load_default_pack(), assets)
    for batch, now in records:
        replayer.envelope(batch, now)
    return replayer.stage2, replayer.groups


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--partitions", type=int, default=8)
    parser.add_argument("--reps", type=int, default=5)
    args = parser.parse_args(argv)
    pace_collector()
    core, states = group_states(args.hosts, args.events)
    table: ModelTable[GroupState] = ModelTable(Store("groups"), GroupState)
    for key, state in states.items():
        table.stage(key, state)
    table.flush(lambda *_: None)
    tick = START + timedelta(hours=1, seconds=10)
    n = args.partitions

    def visit(keys: list[str], at: datetime) -> set[str]:
        return {key for key in keys if (state := table.get(key)) is not None
                and core.on_tick(state, at).state is not state}

    def scheduled() -> set[str]:
        return set().union(*(visit(schedule.due(p, table, tick), tick) for p in range(n)))

    def every_key() -> set[str]:
        keys = sorted(table.keys())
        return set().union(*(visit([k for k in keys if partition_of(k, n) == p], tick) for p in range(n)))

    schedule = TickSchedule(core, n)
    walk_s, _ = cpu_seconds(lambda: {key for p in range(n) for key in schedule.due(p, table, START)})
    rounds: dict[str, list[float]] = {"schedule": [], "every key": []}
    for _ in range(args.reps):
        for name, work in (("schedule", scheduled), ("every key", every_key)):
            seconds, changed = cpu_seconds(work)
            rounds[name].append(seconds)
            if name == "schedule":
                expected = changed
            elif changed != expected:
                raise SystemExit(f"the two rounds changed different groups: {len(changed)} against {len(expected)}")
    tickable = sum(1 for s in states.values() if core.tickable(s))
    live = sum(1 for s in states.values() if s.incident is not None)
    print(f"input: {len(states):,} groups ({tickable:,} with a live incident or pending signals, {live:,} with a "
          f"live incident), {n} partitions; a round {tick - START} after the fleet's start; median of {args.reps}")
    per = {name: statistics.median(times) for name, times in rounds.items()}
    print(f"schedule's first walk (after a rebalance): {walk_s:8.3f} s CPU")
    print(f"round, schedule (due keys only)         : {per['schedule']:8.3f} s CPU  "
          f"({len(expected):,} groups changed)")
    print(f"round, every key (baseline)             : {per['every key']:8.3f} s CPU")
    print(f"ratio every key / schedule              : {per['every key'] / max(per['schedule'], 1e-9):8.1f}")


if __name__ == "__main__":
    main()
