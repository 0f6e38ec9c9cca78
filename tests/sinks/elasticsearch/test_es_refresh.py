"""The incident indices' refresh: the pacing (pure) and the refresher's thread (a fake client)."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
from elastic_transport import ConnectionError as TransportConnectionError

from deskwatch.sinks.elasticsearch.refresh import IncidentRefresher, RefreshPacer

# steps: ("wrote",), ("take", t, started?), ("failed",); then wait_s at ``now`` must be ``want``
CASES = [
    pytest.param([], 0.0, None, id="nothing-written"),
    pytest.param([("wrote",)], 0.0, 0.0, id="first-write-due-at-once"),
    pytest.param([("wrote",), ("take", 1.0, True)], 1.05, None, id="taken-nothing-waits"),
    pytest.param([("wrote",), ("take", 1.0, True), ("wrote",)], 1.05, 0.15, id="held-by-min-interval"),
    pytest.param([("wrote",), ("take", 1.0, True), ("wrote",)], 1.25, 0.0, id="due-once-interval-passed"),
    pytest.param([("wrote",), ("take", 1.0, True), ("wrote",), ("take", 1.1, False)], 1.25, 0.0,
                 id="take-refused-before-due"),
    pytest.param([("wrote",), ("take", 1.0, True), ("failed",)], 1.25, 0.0, id="failed-stays-due"),
    pytest.param([("take", 1.0, False)], 9.0, None, id="nothing-to-take"),
]


@pytest.mark.parametrize(("steps", "now", "want"), CASES)
def test_pacing(steps: list[tuple[Any, ...]], now: float, want: float | None) -> None:  # (name, *arguments)
    pacer = RefreshPacer(min_interval_s=0.2)
    for step in steps:
        if step[0] == "wrote":
            pacer.wrote()
        elif step[0] == "failed":
            pacer.failed()
        else:
            assert pacer.take(step[1]) is step[2]
    got = pacer.wait_s(now)
    assert got == want if want is None else got == pytest.approx(want)


def test_disabled_never_waits() -> None:
    pacer = RefreshPacer(min_interval_s=0.0, enabled=False)
    pacer.wrote()
    assert pacer.wait_s(100.0) is None and not pacer.take(100.0)


class _Indices:
    def __init__(self, fail_first: int) -> None:
        self.calls: list[list[str]] = []
        self.fail_first = fail_first
        self.called = threading.Event()

    def refresh(self, index: list[str]) -> None:
        self.calls.append(index)
        if len(self.calls) <= self.fail_first:
            raise TransportConnectionError("refused")
        self.called.set()


class _Client:
    def __init__(self, fail_first: int = 0) -> None:
        self.indices = _Indices(fail_first)


@pytest.mark.parametrize(("fail_first", "calls"), [(0, 1), (1, 2)], ids=["refreshed", "retried-after-failure"])
def test_refresher_refreshes_after_a_write(fail_first: int, calls: int) -> None:
    client = _Client(fail_first)
    refresher = IncidentRefresher(client, ["inc", "hist"], RefreshPacer(min_interval_s=0.05))
    refresher.start()
    try:
        time.sleep(0.1)
        assert client.indices.calls == []  # nothing written, nothing refreshed
        refresher.wrote()
        assert client.indices.called.wait(5.0)
        time.sleep(0.2)
        assert client.indices.calls == [["inc", "hist"]] * calls
        assert refresher.refreshes == 1
    finally:
        refresher.close()


def test_writes_during_min_interval_get_one_more_refresh() -> None:
    client = _Client()
    refresher = IncidentRefresher(client, ["inc"], RefreshPacer(min_interval_s=0.3))
    refresher.start()
    try:
        refresher.wrote()
        assert client.indices.called.wait(5.0)
        for _ in range(5):
            refresher.wrote()  # all within the interval: one refresh covers them
        deadline = time.monotonic() + 5.0
        while len(client.indices.calls) < 2 and time.monotonic() < deadline:
            time.sleep(0.02)
        time.sleep(0.5)
        assert len(client.indices.calls) == 2
    finally:
        refresher.close()
