"""A sink SIGKILLed and started again rejoins its group as the member it was (real broker).

As a dynamic member, the restarted sink waited for the group to time its old self out (kafka-python's
45 s session): in the fault campaign's sink row its first two heartbeats said "joining" with no
partition, and partitions came after ~45 s. As a static member it takes them back at once.
"""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path

import pytest

from deskwatch.components import Component, write_settings_file
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.consume import SOURCES
from deskwatch.topics import ensure_topics
from tests.prefixed import prefixed

pytestmark = pytest.mark.integration
PARTITIONS = 2
SESSION_S = 45.0  # kafka-python's default session timeout, which deskwatch leaves as it is


def _assigned(c: Component) -> int:
    """Partitions the sink's latest heartbeat line reports (-1 before its first)."""
    beats = re.findall(r"sink heartbeat .*?assigned=(\d+)", c.log.read_text(errors="replace"))
    return int(beats[-1]) if beats else -1


def _wait_assigned(c: Component, want: int, timeout_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if _assigned(c) == want:
            return time.monotonic() - started
        assert c.running(), c.tail()
        time.sleep(0.2)
    pytest.fail(f"the sink had {_assigned(c)} of {want} partitions after {timeout_s:.0f}s\n{c.tail()}")


def test_a_restarted_sink_takes_its_partitions_back_before_its_old_session_ends(settings: Settings,
                                                                                 tmp_path: Path) -> None:
    s = prefixed(settings, PARTITIONS, sink={"group_id": lambda tag: f"test-sink-{tag}", "heartbeat_interval_s": 0.5,
                                             "state_dir": tmp_path / "sink-state"})
    ensure_topics(s.kafka)
    want = len(SOURCES) * PARTITIONS
    sink = Component(["sink", "run"], write_settings_file(s, tmp_path / "sink.yaml"), tmp_path / "sink.log")
    try:
        _wait_assigned(sink, want, 90)
        assert f"member={s.sink.group_id}@" in sink.log.read_text()
        sink.stop(signal.SIGKILL)
        sink = sink.again()
        back_s = _wait_assigned(sink, want, SESSION_S + 30)
        print(f"partitions back {back_s:.1f} s after the restart")
        # Its start alone (imports, Elasticsearch's health, templates) takes a few seconds here.
        assert back_s < SESSION_S / 2, f"{back_s:.1f} s: the group waited for the old member's session"
    finally:
        sink.stop()
