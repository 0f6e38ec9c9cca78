"""The incident indices' refresh pacing: when a refresh is due, from what was written and when."""

from __future__ import annotations

import pytest

from deskwatch.sinks.elasticsearch.refresh import RefreshPacer

# (steps, expected due at the end); a step is ("wrote",), ("refreshed", t) or ("due", t, want)
CASES = [
    pytest.param([], (0.0, False), id="nothing-written"),
    pytest.param([("wrote",)], (0.0, True), id="first-write-is-due-at-once"),
    pytest.param([("wrote",), ("refreshed", 1.0)], (1.05, False), id="refreshed-nothing-waits"),
    pytest.param([("wrote",), ("refreshed", 1.0), ("wrote",)], (1.1, False), id="held-by-min-interval"),
    pytest.param([("wrote",), ("refreshed", 1.0), ("wrote",)], (1.25, True), id="due-once-interval-passed"),
    pytest.param([("refreshed", 1.0)], (9.0, False), id="interval-passed-but-nothing-written"),
]


@pytest.mark.parametrize(("steps", "check"), CASES)
def test_due(steps: list[tuple], check: tuple[float, bool]) -> None:
    pacer = RefreshPacer(min_interval_s=0.2)
    for step in steps:
        if step[0] == "wrote":
            pacer.wrote()
        else:
            pacer.refreshed(step[1])
    now, want = check
    assert pacer.due(now) is want


def test_disabled_is_never_due() -> None:
    pacer = RefreshPacer(min_interval_s=0.0, enabled=False)
    pacer.wrote()
    assert not pacer.due(100.0)
