"""The worker's garbage-collector pacing."""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterator

import pytest

from deskwatch.processors.collect import THRESHOLDS, pace_collector


@pytest.fixture
def restored_collector() -> Iterator[None]:
    before = gc.get_threshold()
    yield
    gc.unfreeze()
    gc.set_threshold(*before)


@pytest.mark.parametrize(
    ("what", "check"),
    [
        ("thresholds raised", lambda: gc.get_threshold() == THRESHOLDS),
        ("startup objects frozen", lambda: gc.get_freeze_count() > 0),
        ("young generation larger than CPython's", lambda: gc.get_threshold()[0] > 700),
    ],
    ids=["thresholds", "freeze", "young"],
)
def test_pace_collector(restored_collector: None, what: str, check: Callable[[], bool]) -> None:
    pace_collector()
    assert check(), what
