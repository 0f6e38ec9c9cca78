"""A sink or webhook relay SIGKILLed and started again rejoins its group as the member it was (real broker).

As a dynamic member, the restarted sink waited for the group to time its old self out (kafka-python's
45 s session): in the fault campaign's sink row its first two heartbeats said "joining" with no
partition, and partitions came after ~45 s. As a static member it takes them back at once.
"""

from __future__ import annotations

import re
import signal
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import SecretStr

from deskwatch.components import Component, write_settings_file
from deskwatch.members import describe
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.consume import SOURCES
from deskwatch.topics import ensure_topics
from tests.prefixed import prefixed

pytestmark = pytest.mark.integration
PARTITIONS = 2
SESSION_S = 45.0  # kafka-python's default session timeout, which deskwatch leaves as it is


def _assigned(c: Component, component: str) -> int:
    """Partitions the component's latest heartbeat line reports (-1 before its first)."""
    beats = re.findall(rf"{component} heartbeat .*?assigned=(\d+)", c.log.read_text(errors="replace"))
    return int(beats[-1]) if beats else -1


def _wait_assigned(c: Component, component: str, want: int, timeout_s: float) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        if _assigned(c, component) == want:
            return time.monotonic() - started
        assert c.running(), c.tail()
        time.sleep(0.2)
    pytest.fail(f"{component}: {_assigned(c, component)} of {want} partitions after {timeout_s:.0f}s\n{c.tail()}")


def _sink(settings: Settings, tmp_path: Path) -> tuple[Settings, int]:
    return prefixed(settings, PARTITIONS, sink={"group_id": lambda tag: f"test-sink-{tag}", "heartbeat_interval_s": 0.5,
                                                "state_dir": tmp_path / "state"}), len(SOURCES) * PARTITIONS


def _webhook(settings: Settings, tmp_path: Path) -> tuple[Settings, int]:
    # No change is published: the receiver is never called.
    return prefixed(settings, PARTITIONS, webhook={
        "group_id": lambda tag: f"test-hook-{tag}", "heartbeat_interval_s": 0.5, "state_dir": tmp_path / "state",
        "urls": ("http://127.0.0.1:9/never",), "secret": SecretStr("restart-test")}), PARTITIONS


@pytest.mark.parametrize(("component", "shape"), [("sink", _sink), ("webhook", _webhook)], ids=["sink", "webhook"])
def test_a_restarted_sink_takes_its_partitions_back_before_its_old_session_ends(
        settings: Settings, tmp_path: Path, component: str, shape: Any) -> None:
    s, want = shape(settings, tmp_path)
    ensure_topics(s.kafka)
    group = s.sink.group_id if component == "sink" else s.webhook.group_id
    c = Component([component, "run"], write_settings_file(s, tmp_path / "settings.yaml"), tmp_path / f"{component}.log")
    try:
        _wait_assigned(c, component, want, 90)
        c.stop(signal.SIGKILL)
        c = c.again()
        back_s = _wait_assigned(c, component, want, SESSION_S + 30)
        print(f"{component}: partitions back {back_s:.1f} s after the restart")
        # Its start alone (imports, connections; the sink's Elasticsearch checks) takes a few seconds here.
        assert back_s < SESSION_S / 2, f"{back_s:.1f} s: the group waited for the old member's session"
        assert f"member={group}@" in c.log.read_text()
    finally:
        c.stop()


@pytest.mark.parametrize("leave", [True, False], ids=["leave_group_on_stop", "default"])
@pytest.mark.parametrize(("component", "shape"), [("sink", _sink), ("webhook", _webhook)], ids=["sink", "webhook"])
def test_a_sink_stopped_with_leave_group_on_stop_is_out_of_its_group_as_it_exits(
        settings: Settings, tmp_path: Path, component: str, shape: Any, leave: bool) -> None:
    # The default keeps the static member (a restart takes its partitions back without a
    # rebalance); the setting removes it once stopped, so the sinks left need not wait its session.
    s, want = shape(settings, tmp_path)
    section = component if component == "webhook" else "sink"
    s = s.model_copy(update={section: getattr(s, section).model_copy(update={"leave_group_on_stop": leave})})
    ensure_topics(s.kafka)
    c = Component([component, "run"], write_settings_file(s, tmp_path / "settings.yaml"), tmp_path / f"{component}.log")
    try:
        _wait_assigned(c, component, want, 90)
        [joined] = describe(s, (component,))
        assert len(joined.members) == 1, joined
        assert c.stop(signal.SIGTERM, timeout=60) == 0, c.tail()
        [after] = describe(s, (component,))
        text = c.log.read_text(errors="replace")
        if leave:
            assert after.members == (), (after, c.tail())
            assert "left the group" in text, c.tail()
        else:
            assert [m.instance_id for m in after.members] == [joined.members[0].instance_id], after
            assert "left the group" not in text
    finally:
        c.stop()
