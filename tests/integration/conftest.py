"""Run deskwatch's own components as processes against the real engines, and observe them.

Each component runs as ``deskwatch <command>`` in a subprocess with the test session's settings
(unique topic and index prefixes), exactly as an operator would run it.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from deskwatch.components import Component, write_settings_file
from deskwatch.connect import elasticsearch_client
from deskwatch.settings import Settings
from tests.prefixed import prefixed
from tests.records import read_topic as read_topic  # noqa: F401 - integration tests import it from here

pytestmark = pytest.mark.integration


@pytest.fixture
def pipeline_settings(settings: Settings, tmp_path: Path) -> Settings:
    """The session's settings with a test-unique prefix, group ids and data dir."""
    return prefixed(settings, 4,
                    processor={"app_id": lambda tag: f"{settings.kafka.topic_prefix.rstrip('.')}-proc-{tag}", "datadir": tmp_path / "proc", "commit_every": 100},
                    sink={"group_id": lambda tag: f"dw-sink-{tag}", "flush_interval_s": 0.2})


@pytest.fixture
def launch(pipeline_settings: Settings, tmp_path: Path) -> Iterator[Callable[..., Component]]:
    """Start deskwatch components; every one still running is stopped at the end of the test."""
    config = write_settings_file(pipeline_settings, tmp_path / "settings.yaml")
    started: list[Component] = []

    def _launch(*args: str) -> Component:
        c = Component(list(args), config, tmp_path / f"{args[0]}-{len(started)}.log")
        started.append(c)
        return c

    yield _launch
    for c in started:
        c.stop()


def wait_for(predicate: Callable[[], Any], timeout: float, what: str, on_fail: Callable[[], str] = lambda: "") -> Any:
    """Poll ``predicate`` until it returns a truthy value; fail with ``what`` after ``timeout`` s."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"timed out after {timeout:.0f}s waiting for {what}\n{on_fail()}")


def es_docs(settings: Settings, index: str) -> dict[str, dict[str, Any]]:
    """Every document of ``index`` by _id (after a refresh)."""
    client = elasticsearch_client(settings.elasticsearch)
    client.indices.refresh(index=index)
    resp = client.search(index=index, query={"match_all": {}}, size=10_000, version=True)
    return {h["_id"]: {**h["_source"], "_version": h["_version"]} for h in resp["hits"]["hits"]}
