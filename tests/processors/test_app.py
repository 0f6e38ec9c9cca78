"""The processor's faust app: the input bounds come from the settings tree, not from faust's defaults."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from deskwatch.processors.app import build_app
from deskwatch.processors.in_order import fetch_wait_of
from deskwatch.settings import ProcessorSettings, Settings


def test_input_bounds_are_the_settings() -> None:
    processor = ProcessorSettings(fetch_max_records=37, input_buffer_records=41, batch_max_records=5)
    app = build_app(Settings(processor=processor)).app
    assert app.conf.broker_max_poll_records == 37
    assert app.conf.stream_buffer_maxsize == 41


def test_default_input_bounds_hold_a_backlog_out_of_memory() -> None:
    """A backlog stays on the broker: what a worker holds is a few hundred envelopes at most
    (it held up to 65,536 and read a 600k-event backlog whole: bench/RESULTS.md), and at the
    producers' largest envelope they fit in half the 1 GiB goal (the rest: state caches, code)."""
    settings = Settings()
    p = settings.processor
    held = p.fetch_max_records + p.input_buffer_records + p.batch_max_records
    assert held * settings.producer.batch_max_bytes <= 2**30 // 2
    app = build_app(settings).app
    assert app.conf.stream_buffer_maxsize == p.input_buffer_records


def test_the_group_session_is_the_settings() -> None:
    app = build_app(Settings(processor=ProcessorSettings(session_timeout_s=20.0))).app
    assert app.conf.broker_session_timeout == 20.0
    app = build_app(Settings()).app
    assert app.conf.broker_session_timeout == 60.0


def test_the_commit_period_is_the_settings() -> None:
    app = build_app(Settings(processor=ProcessorSettings(commit_interval_s=0.25))).app
    assert app.conf.broker_commit_interval == 0.25
    assert build_app(Settings()).app.conf.broker_commit_interval == 1.0


def test_the_group_states_cache_is_bounded_by_their_estimated_bytes() -> None:
    """A group whose window holds its cap of pending signals decodes to ~1.6 MiB: under a 2 MiB
    bound the cache keeps one such group, and the other reads back from the table as written."""
    from datetime import UTC, datetime, timedelta

    from deskwatch.processors.stage2 import GroupState
    from deskwatch.processors.stage2.state import WINDOW_CAP, WindowEntry

    groups = build_app(Settings(processor=ProcessorSettings(group_cache_max_mib=2))).group_states
    t0 = datetime(2026, 12, 5, tzinfo=UTC)
    for key in ("wave|site=a", "wave|site=b"):
        window = [WindowEntry(source_id=f"{key}-{n:040d}", first_seen=t0 + timedelta(seconds=n),
                              last_seen=t0 + timedelta(seconds=n), host=f"pc-{n:05d}", count=1)
                  for n in range(WINDOW_CAP)]
        groups.stage(key, GroupState(rule_id="wave", group_key=key, window=window))
        groups.flush(lambda *record: None)
    count, estimated = groups.cached
    assert count == 1 and 1.5 * 2**20 <= estimated <= 2 * 2**20, groups.cached
    a = groups.get("wave|site=a")
    assert a is not None and len(a.window) == WINDOW_CAP


@pytest.mark.integration
def test_the_consumer_fetches_with_the_settings_wait(settings: Settings) -> None:
    """faust builds its worker consumer with a fixed 1,500 ms fetch wait; the worker's aiokafka
    fetcher, started on the real broker, waits ``processor.fetch_max_wait_ms`` instead."""

    async def fetcher_wait(s: Settings) -> int:
        app: Any = build_app(s).app
        consumer = app.consumer._thread._create_worker_consumer(app.transport)
        assert fetch_wait_of(consumer) == s.processor.fetch_max_wait_ms
        await consumer.start()  # aiokafka builds its fetcher here, from the consumer's value
        try:
            return int(consumer._fetcher._fetch_max_wait_ms)
        finally:
            await consumer.stop()

    for wait in (37, ProcessorSettings().fetch_max_wait_ms):
        s = settings.model_copy(update={"processor": ProcessorSettings(fetch_max_wait_ms=wait)})
        assert asyncio.run(fetcher_wait(s)) == wait
    assert ProcessorSettings().fetch_max_wait_ms == 50
