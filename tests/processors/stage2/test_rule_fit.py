"""The rules package's ``Rule`` satisfies ``LifecyclePolicy``: stage 2 runs on real rules."""

from __future__ import annotations

import pytest

from deskwatch.processors.stage2 import GroupState, LifecyclePolicy, Stage2, child_group_key
from deskwatch.schemas.command import CommandAction as A
from deskwatch.schemas.incident import ChangeReason, Severity

from .build import at, command, signal

rules = pytest.importorskip("deskwatch.processors.rules.load")

PACK = """
- id: fleet-disk
  version: 2
  title: Disk errors on many PCs of a site
  remediation: Check the last storage driver rollout
  severity: high
  escalation: [{severity: critical, min_hosts: 3}]
  match: {field: event.code, equals: 7}
  group_by: [site]
  window: 1h
  min_events: 2
  min_hosts: 2
  quiet_timeout: {workstation: 2h, laptop: null}
  absorbs: [disk-errors]
- id: disk-errors
  version: 1
  title: Disk errors
  remediation: Run chkdsk
  severity: medium
  match: {field: event.code, equals: 7}
  group_by: [host.name]
  window: 1h
  quiet_timeout: {workstation: 30m, laptop: null, default: 1h}
  reopen_window: 1h
"""


def _as_policy(rule: object) -> LifecyclePolicy:
    return rule  # type: ignore[return-value]


def test_real_rules_drive_thresholds_escalation_absorption_and_quiet() -> None:
    parsed = {r.id: _as_policy(r) for r in rules.parse_rules(PACK, "test")}
    stage = Stage2(parsed)
    fleet = {"site": "paris"}
    state: GroupState | None = None
    for minute, host in [(0, "pc-1"), (1, "pc-2"), (2, "pc-3")]:
        result = stage.on_signal(
            state, signal(minute, host, rule="fleet-disk", group=fleet), at(minute)
        )
        state = result.state
    assert state is not None and state.incident is not None
    # the version is the one stage 1 matched with (the signal says 3), not the loaded one
    assert (state.incident.rule_version, state.incident.severity) == (3, Severity.CRITICAL)
    assert {c.group_key for c in result.commands} == {child_group_key("disk-errors", "pc-3")}

    child = stage.on_signal(
        None,
        signal(0, "pc-1", rule="disk-errors", group={"host.name": "pc-1"}, device_class="laptop"),
        at(0),
    )
    absorbed = stage.on_command(
        child.state,
        command(
            A.ABSORB,
            0,  # an absorb's time is the event time its claim covers from (parent's first - window)
            key=child_group_key("disk-errors", "pc-1"),
            parent_id=state.incident.id,
            parent_group_key=state.incident.group_key,
        ),
        at(3),
    )
    assert [c.reason for c in absorbed.changes] == [ChangeReason.ABSORBED]
    assert stage.on_tick(absorbed.state, at(60 * 24 * 7)).changes == []  # a laptop never goes quiet
    assert [c.reason for c in stage.on_tick(state, at(2 + 120)).changes] == [
        ChangeReason.QUIET_TIMEOUT
    ]
