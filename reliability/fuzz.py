"""The full fuzz campaign: ``python -m reliability.fuzz [--count N] [--only parsers|listeners]``.

Prints one table row per target: inputs tried, events, dead-lettered by reason, refused, crashes,
unaccounted inputs and peak memory. Exit status 1 when any target crashed, lost an input or went
over its memory bound.
"""

from __future__ import annotations

import argparse
import sys
import tracemalloc
from collections.abc import Iterator

from rich.console import Console
from rich.table import Table

from reliability.damaged_evtx import fuzz_evtx
from reliability.outcome import Outcome
from reliability.parsers import LINE_FORMATS, PEAK_BOUND, fuzz_framing, fuzz_parser


def parser_targets(count: int, seed: int) -> Iterator[Outcome]:
    """Every in-process target, ``count`` inputs each."""
    tracemalloc.start()
    try:
        for fmt in LINE_FORMATS:
            yield fuzz_parser(fmt, count, seed)
        for fmt in ("syslog", "cbs"):
            yield fuzz_framing(fmt, count, seed)
        yield fuzz_evtx(count, seed)
    finally:
        tracemalloc.stop()


def listener_targets(count: int, seed: int) -> Iterator[Outcome]:
    """The syslog (UDP, TCP both framings) and HTTP listeners as real processes on the real broker."""
    from reliability.listeners import fuzz_http, fuzz_syslog

    yield from fuzz_syslog(count, seed)
    yield fuzz_http(count, seed)


def render(outcomes: list[Outcome]) -> Table:
    """The campaign table."""
    table = Table(title="deskwatch fuzz campaign")
    for column in ("target", "inputs", "events", "dead-lettered by reason", "refused", "crashes",
                   "unaccounted", "peak memory", "s"):
        table.add_column(column, overflow="fold")
    for o in outcomes:
        reasons = ", ".join(f"{r}={n}" for r, n in sorted(o.dead.items())) or "-"
        refused = ", ".join(f"{r}={n}" for r, n in sorted(o.refused.items())) or "-"
        lost = "n/a (files)" if o.unaccounted is None else str(o.unaccounted)
        table.add_row(o.target, str(o.inputs), str(o.events), reasons, refused, str(len(o.crashes)), lost,
                      f"{o.peak_bytes / 2**20:.1f} MiB ({o.memory_kind})", f"{o.seconds:.0f}")
    return table


def failed(o: Outcome) -> bool:
    """A crash, a lost input, or memory over the bound."""
    bound = PEAK_BOUND if o.memory_kind == "tracemalloc peak" else LISTENER_RSS_BOUND
    return bool(o.crashes) or bool(o.unaccounted) or o.peak_bytes > bound


LISTENER_RSS_BOUND = 512 * 1024 * 1024


def main(argv: list[str] | None = None) -> int:
    """Run the campaign and print its table."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000, help="inputs per target")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--only", choices=("parsers", "listeners"), default=None)
    args = parser.parse_args(argv)
    console = Console(width=200)
    outcomes: list[Outcome] = []
    groups = [parser_targets, listener_targets]
    if args.only is not None:
        groups = [parser_targets] if args.only == "parsers" else [listener_targets]
    for group in groups:
        for outcome in group(args.count, args.seed):
            outcomes.append(outcome)
            console.print(f"{outcome.target}: done in {outcome.seconds:.0f} s", style="dim")
    console.print(render(outcomes))
    for o in outcomes:
        for line in [*o.notes, *o.crashes[:5]]:
            console.print(f"{o.target}: {line}")
    return 1 if any(failed(o) for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
