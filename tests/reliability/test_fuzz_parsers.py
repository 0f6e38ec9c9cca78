"""Reduced fuzz campaign over the parsers (a few hundred inputs per target): nothing escapes, every
input is an event or a rejection, tracemalloc's peak per input stays under the bound."""

from __future__ import annotations

import tracemalloc
from collections.abc import Callable, Iterator
from datetime import UTC, datetime

import pytest
from deskwatch.producers.parse import PARSERS, Rejected, SourceContext
from deskwatch.schemas.event import WorkstationEvent
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from reliability.damaged_evtx import fuzz_evtx
from reliability.mutate import MUTATORS, mutants
from reliability.outcome import Outcome
from reliability.parsers import LINE_FORMATS, PEAK_BOUND, fuzz_framing, fuzz_parser
from reliability.seeds import seeds

COUNT = 300
CTX = SourceContext(source="prop", reference_time=datetime(2026, 11, 29, tzinfo=UTC))


@pytest.fixture(autouse=True)
def traced() -> Iterator[None]:
    tracemalloc.start()
    yield
    tracemalloc.stop()


TARGETS: list[tuple[str, Callable[[], Outcome]]] = [
    *((f"parse-{fmt}", lambda fmt=fmt: fuzz_parser(fmt, COUNT, seed=7)) for fmt in LINE_FORMATS),
    *((f"frame-{fmt}", lambda fmt=fmt: fuzz_framing(fmt, COUNT, seed=7)) for fmt in ("syslog", "cbs")),
]


@pytest.mark.parametrize("run", [t[1] for t in TARGETS], ids=[t[0] for t in TARGETS])
def test_line_target_accounts_for_every_input(run: Callable[[], Outcome]) -> None:
    outcome = run()
    assert outcome.crashes == []
    assert outcome.inputs == COUNT
    assert outcome.unaccounted == 0
    assert outcome.events > 0 and outcome.peak_bytes < PEAK_BOUND


@pytest.mark.parametrize("fmt", LINE_FORMATS, ids=LINE_FORMATS)
def test_parser_memory_is_measured_on_the_10mb_line(fmt: str) -> None:
    """The bound above means something: a parser decodes the 10 MB line, so its peak is over 10 MB."""
    outcome = fuzz_parser(fmt, 12, seed=7)  # the first ten inputs are one of each mutator
    assert 10 * 2**20 < outcome.peak_bytes < PEAK_BOUND


def test_damaged_evtx_files_never_raise() -> None:
    outcome = fuzz_evtx(60, seed=7)
    assert outcome.crashes == []
    assert outcome.events > 0
    # damage is reported, not swallowed: chunk and file rejections both occur
    assert {"damaged_evtx_file", "truncated_evtx_file"} <= set(outcome.dead)
    assert outcome.peak_bytes < PEAK_BOUND


def test_every_mutator_runs_first() -> None:
    kinds = [kind for kind, _ in mutants(seeds()["syslog"], len(MUTATORS), seed=1)]
    assert kinds == [m.__name__ for m, _ in MUTATORS]


@pytest.mark.parametrize("fmt", sorted(PARSERS), ids=sorted(PARSERS))
@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(raw=st.binary(max_size=2048) | st.text(max_size=512).map(str.encode))
def test_arbitrary_bytes_give_event_or_rejection(fmt: str, raw: bytes) -> None:
    result = PARSERS[fmt](raw, 1, CTX)
    assert isinstance(result, WorkstationEvent | Rejected)
    if isinstance(result, Rejected):
        assert result.reason and result.reason.isidentifier()
