"""Scoring found incidents against injected ones: rule + shared host + overlapping time."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deskwatch.processors.evaluate.incidents import notifications, score
from deskwatch.producers.simulate import InjectedIncident, Signature
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.incident import ChangeReason, Incident, IncidentStatus, Severity

T0 = datetime(2026, 11, 23, 8, tzinfo=UTC)


def found(iid: str, rule: str, hosts: list[str], start_min: int, end_min: int) -> Incident:
    return Incident(id=iid, rule_id=rule, group_key=f"{rule}|{hosts[0]}", title=rule, hosts=hosts,
                    first_seen=T0 + timedelta(minutes=start_min), last_seen=T0 + timedelta(minutes=end_min),
                    event_count=2, revision=1)


def injected(rule: str, hosts: list[str], start_min: int, end_min: int, **extra: Any) -> InjectedIncident:
    return InjectedIncident(scenario=rule, rule_id=rule, hosts=hosts, start=T0 + timedelta(minutes=start_min),
                            end=T0 + timedelta(minutes=end_min), expected_event_count=2,
                            signatures=[Signature(provider="p", code="1")], **extra)


def absorbed(child: str, parent: str) -> IncidentChange:
    return IncidentChange(incident_id=child, revision=2, rule_id="r", rule_version=1, group_key="g",
                          from_status=IncidentStatus.OPEN, to_status=IncidentStatus.OPEN,
                          reason=ChangeReason.ABSORBED, severity=Severity.LOW, at=T0, detail=f"absorbed by {parent}")


CASES = [
    ("exact-match", [found("a", "disk", ["H1"], 0, 10)], [], [injected("disk", ["H1"], 5, 20)], (1, 1, 0, 1.0, 1.0)),
    ("wrong-rule", [found("a", "dns", ["H1"], 0, 10)], [], [injected("disk", ["H1"], 5, 20)], (0, 0, 1, 0.0, 0.0)),
    ("other-host", [found("a", "disk", ["H2"], 0, 10)], [], [injected("disk", ["H1"], 5, 20)], (0, 0, 1, 0.0, 0.0)),
    ("no-time-overlap", [found("a", "disk", ["H1"], 0, 4)], [], [injected("disk", ["H1"], 5, 20)],
     (0, 0, 1, 0.0, 0.0)),
    ("absorbed-child-explained-by-parent",
     [found("p", "site", ["H1", "H2"], 0, 10), found("c", "host", ["H2"], 0, 10)], [absorbed("c", "p")],
     [injected("site", ["H1", "H2"], 0, 10, absorbs=["host"])], (1, 1, 0, 1.0, 1.0)),
    ("child-of-an-unmatched-parent-is-false",
     [found("p", "site", ["H9"], 0, 10), found("c", "host", ["H9"], 0, 10)], [absorbed("c", "p")],
     [injected("site", ["H1"], 0, 10)], (0, 0, 2, 0.0, 0.0)),
    ("declared-side-effect", [found("a", "disk", ["H1"], 0, 10), found("b", "shutdown", ["H1"], 0, 10)], [],
     [injected("disk", ["H1"], 0, 10, also_fires=["shutdown"])], (1, 1, 0, 1.0, 1.0)),
]


@pytest.mark.parametrize(("incidents", "changes", "truth", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_score(incidents: list[Incident], changes: list[IncidentChange], truth: list[InjectedIncident],
               want: tuple[int, int, int, float, float]) -> None:
    s = score({i.id: i for i in incidents}, changes, truth, events=100)
    assert (s.matched_injected, s.matched_found, len(s.false_positives), s.precision, s.recall) == want
    assert s.noise_reduction == 100 / len(incidents)


def _opened(iid: str, rule: str) -> IncidentChange:
    return IncidentChange(incident_id=iid, revision=1, rule_id=rule, rule_version=1, group_key="g", from_status=None,
                          to_status=IncidentStatus.OPEN, reason=ChangeReason.OPENED, severity=Severity.LOW, at=T0)


@pytest.mark.parametrize(("absorbed_after_s", "wait_s", "sent"), [
    (30, 120.0, 1),  # the child dropped: only the parent's opening
    (300, 120.0, 2),  # its parent came after the wait: the child's opening went out
    (30, 0.0, 2),  # no hold
], ids=["absorbed-within-the-wait", "absorbed-after-it", "no-hold"])
def test_notifications_count_what_a_holding_relay_would_post(absorbed_after_s: int, wait_s: float, sent: int) -> None:
    changes = [_opened("child", "gpo-failure-host"), _opened("parent", "gpo-failure-site"), absorbed("child", "parent")]
    times = [T0, T0 + timedelta(seconds=absorbed_after_s), T0 + timedelta(seconds=absorbed_after_s)]
    changes[2] = changes[2].model_copy(update={"notify": False})
    assert notifications(changes, times, frozenset({"gpo-failure-host"}), wait_s) == sent
