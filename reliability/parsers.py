"""Fuzz targets run in process: every line parser, ``frame_records``, and ``read_evtx`` on damaged files.

A parser must return an event or a ``Rejected`` for every input (no exception escapes), and its
tracemalloc peak over one input must stay under ``PEAK_BOUND`` (the 10 MB inputs included).
"""

from __future__ import annotations

import functools
import itertools
import random
import time
import tracemalloc
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final

from deskwatch.producers.parse import Rejected, SourceContext, frame_records, parser_for
from deskwatch.producers.parse.frame import MAX_RECORD_BYTES

from reliability.mutate import mutants
from reliability.outcome import Outcome
from reliability.seeds import seeds

LINE_FORMATS: Final = ("jsonl", "ecs_json", "nxlog_json", "syslog", "cbs")
PEAK_BOUND: Final = 128 * 1024 * 1024  # per input; a 10 MB line costs a few copies of itself
CTX: Final = SourceContext(source="fuzz", default_host="fuzz-host",
                           reference_time=datetime(2026, 11, 29, tzinfo=UTC))


def _measured(outcome: Outcome, run: Callable[[], None]) -> None:
    """Run one input; keep the largest tracemalloc peak above what was held before it (the
    campaign's own inputs are not the parser's memory)."""
    held = tracemalloc.get_traced_memory()[0]
    tracemalloc.reset_peak()
    run()
    outcome.peak_bytes = max(outcome.peak_bytes, tracemalloc.get_traced_memory()[1] - held)


def fuzz_parser(fmt: str, count: int, seed: int = 0) -> Outcome:
    """``count`` mutants of the format's real records through ``parser_for(fmt)``."""
    parse, outcome = parser_for(fmt), Outcome(f"parse {fmt}")
    started = time.monotonic()
    for kind, data in mutants(seeds()[fmt], count, seed):
        outcome.inputs += 1

        def one(data: bytes = data, kind: str = kind) -> None:
            try:
                result = parse(data, outcome.inputs, CTX)
            except Exception as exc:  # the property under test: nothing escapes
                outcome.crash(kind, data, exc)
                return
            if isinstance(result, Rejected):
                outcome.dead[result.reason] += 1
            else:
                outcome.events += 1

        _measured(outcome, one)
    outcome.seconds = time.monotonic() - started
    return outcome


def fuzz_framing(fmt: str, count: int, seed: int = 0) -> Outcome:
    """Random runs of mutated lines through ``frame_records``: every non-blank line ends up in
    exactly one record (byte totals reconcile), and no record outgrows one line + the limit."""
    outcome, rng = Outcome(f"frame {fmt}"), random.Random(seed)
    outcome.notes.append("events = lines placed in records")
    lines = mutants(seeds()[fmt], count, seed)
    started = time.monotonic()
    while batch := [data for _, data in itertools.islice(lines, rng.randint(1, 30))]:
        _measured(outcome, functools.partial(_frame_batch, fmt, batch, outcome))  # batch bound now
        del batch  # only one batch is alive at a time
    outcome.seconds = time.monotonic() - started
    return outcome


def _frame_batch(fmt: str, batch: list[bytes], outcome: Outcome) -> None:
    outcome.inputs += len(batch)
    kept = [line.rstrip(b"\r\n") for line in batch if line.strip()]
    outcome.dead["blank_line_skipped"] += len(batch) - len(kept)
    try:
        records = [r for _, r in frame_records(enumerate(batch), fmt)]
    except Exception as exc:
        outcome.crash("framing", b"\n".join(batch), exc)
        return
    joins = sum(len(kept_line) for kept_line in kept) + len(kept) - len(records)
    longest = max((len(line) for line in kept), default=0)
    if sum(len(r) for r in records) != joins or any(len(r) > MAX_RECORD_BYTES + longest for r in records):
        outcome.crash("framing", b"", AssertionError("records do not reconcile with their lines"))
        return
    outcome.events += len(kept)
