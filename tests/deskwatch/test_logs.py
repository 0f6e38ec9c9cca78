"""The engines' repeated log lines collapse to one per window, with a count; deskwatch's never do."""

from __future__ import annotations

import io
import logging
from collections.abc import Iterator

import pytest

from deskwatch.logs import RepeatFilter, collapse_repeats


def _record(name: str, msg: str, *args: object, at: float, level: int = logging.ERROR) -> logging.LogRecord:
    record = logging.LogRecord(name, level, __file__, 1, msg, args, None)
    record.created = at
    return record


def _shown(f: RepeatFilter, records: list[logging.LogRecord]) -> list[str]:
    return [r.getMessage() for r in records if f.filter(r)]


def test_a_template_repeated_inside_the_window_shows_once_then_says_how_many_it_left_out() -> None:
    f = RepeatFilter(window_s=30)
    records = [_record("aiokafka.client", "Unable connect to node with id %s: %s", 1, "refused", at=t)
               for t in (0.0, 0.1, 0.2, 5.0, 29.9, 30.0, 30.5, 61.0)]
    assert _shown(f, records) == [
        "Unable connect to node with id 1: refused",
        "Unable connect to node with id 1: refused [4 more like this in the 30 s before, not shown]",
        "Unable connect to node with id 1: refused [1 more like this in the 30 s before, not shown]",
    ]


def test_templates_levels_and_loggers_are_counted_apart() -> None:
    f = RepeatFilter(window_s=30)
    records = [
        _record("aiokafka.client", "Unable connect to node with id %s", 1, at=0.0),
        _record("aiokafka.client", "Unable connect to node with id %s", 2, at=0.1),  # same template
        _record("aiokafka.consumer.fetcher", "Unable connect to node with id %s", 1, at=0.2),
        _record("aiokafka.client", "Unable connect to node with id %s", 1, at=0.3, level=logging.WARNING),
        _record("kafka.conn", "%s: Connection lost: %s", "<conn>", "reset", at=0.4),
    ]
    assert _shown(f, records) == [
        "Unable connect to node with id 1",
        "Unable connect to node with id 1",
        "Unable connect to node with id 1",
        "<conn>: Connection lost: reset",
    ]


def test_deskwatch_own_lines_are_never_collapsed() -> None:
    f = RepeatFilter(window_s=30)
    records = [_record("deskwatch.sinks.run", "elasticsearch unavailable", at=t) for t in (0.0, 0.1, 0.2)]
    assert len(_shown(f, records)) == 3


@pytest.fixture
def engine_logger() -> Iterator[tuple[logging.Logger, io.StringIO]]:
    out = io.StringIO()
    handler = logging.StreamHandler(out)
    logger = logging.getLogger("aiokafka.test_logs")
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield logger, out
    finally:
        logger.removeHandler(handler)
        logger.propagate = True


def test_a_record_reaching_two_handlers_gets_the_same_answer_at_both(
    engine_logger: tuple[logging.Logger, io.StringIO],
) -> None:
    logger, first = engine_logger
    second = io.StringIO()
    other = logging.StreamHandler(second)
    logger.addHandler(other)
    try:
        collapse_repeats(logger.handlers, 30)
        for _ in range(5):
            logger.error("Heartbeat failed for group %s", "deskwatch")
    finally:
        logger.removeHandler(other)
    assert first.getvalue() == second.getvalue() == "Heartbeat failed for group deskwatch\n"


def test_window_zero_leaves_every_line(engine_logger: tuple[logging.Logger, io.StringIO]) -> None:
    logger, out = engine_logger
    collapse_repeats(logger.handlers, 0)
    for _ in range(3):
        logger.error("Fetch to node %s failed", 1)
    assert out.getvalue().count("Fetch to node 1 failed") == 3
