"""The notification hold's pure core: what is held, dropped, released, and where commits stop."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.incident import ChangeReason, IncidentStatus, Severity
from deskwatch.sinks.webhook.hold import NotificationHold
from deskwatch.sinks.webhook.relay import WebhookConfigError, child_rules

from deskwatch.settings import Settings

R = ChangeReason
CHILD, OTHER = "gpo-failure-host", "disk-errors"


@dataclass(frozen=True)
class Rec:
    """The parts of a consumer record the hold reads."""

    offset: int
    partition: int = 0
    topic: str = "incident-changes"


def change(incident: str, reason: ChangeReason = R.OPENED, rule: str = CHILD, notify: bool = True) -> IncidentChange:
    return IncidentChange(incident_id=incident, revision=1, rule_id=rule, rule_version=1, group_key=f"{rule}|{incident}",
                          from_status=None, to_status=IncidentStatus.OPEN, reason=reason, severity=Severity.MEDIUM,
                          at=datetime(2026, 12, 1, 8, tzinfo=UTC), notify=notify)


def ids(pairs: list[tuple[IncidentChange, Rec]]) -> list[tuple[str, int]]:
    return [(c.incident_id, r.offset) for c, r in pairs]


def test_other_rules_and_quiet_or_later_changes_pass_at_once() -> None:
    hold = NotificationHold(frozenset({CHILD}), 60.0)
    assert ids(hold.offer(change("d", rule=OTHER), Rec(0), 0.0)) == [("d", 0)]
    assert ids(hold.offer(change("q", notify=False), Rec(1), 0.0)) == [("q", 1)], "silenced: nothing to hold"
    assert ids(hold.offer(change("e", R.ESCALATED), Rec(2), 0.0)) == [("e", 2)], "not a start"
    assert len(hold) == 0 and hold.first_held() == {}


def test_absorbed_within_the_wait_drops_the_whole_story() -> None:
    hold = NotificationHold(frozenset({CHILD}), 60.0)
    assert hold.offer(change("c"), Rec(5), 0.0) == []
    assert hold.offer(change("c", R.RECOVERY_EVENT), Rec(6), 1.0) == [], "queues behind its opening"
    assert hold.first_held() == {("incident-changes", 0): 5}
    assert hold.offer(change("c", R.ABSORBED, notify=False), Rec(7), 2.0) == []
    assert hold.dropped == 3 and len(hold) == 0 and hold.due(1e9) == []


@pytest.mark.parametrize("start", [R.OPENED, R.THRESHOLD_REACHED, R.REOPENED])
def test_not_absorbed_is_released_in_order_when_the_wait_ends(start: ChangeReason) -> None:
    hold = NotificationHold(frozenset({CHILD}), 60.0)
    hold.offer(change("a", start), Rec(1), 0.0)
    hold.offer(change("b", start), Rec(2), 30.0)
    hold.offer(change("a", R.ESCALATED), Rec(3), 40.0)
    assert hold.due(59.9) == []
    assert ids(hold.due(60.0)) == [("a", 1), ("a", 3)]
    assert hold.first_held() == {("incident-changes", 0): 2}
    assert ids(hold.due(90.0)) == [("b", 2)] and len(hold) == 0 and hold.dropped == 0


def test_a_wait_of_zero_holds_nothing() -> None:
    assert ids(NotificationHold(frozenset({CHILD}), 0.0).offer(change("c"), Rec(0), 0.0)) == [("c", 0)]


def test_forget_keeps_only_the_partitions_still_owned() -> None:
    hold = NotificationHold(frozenset({CHILD}), 60.0)
    hold.offer(change("p0"), Rec(3, partition=0), 0.0)
    hold.offer(change("p1"), Rec(4, partition=1), 0.0)
    hold.forget(keep={("incident-changes", 1)})
    assert hold.first_held() == {("incident-changes", 1): 4}
    hold.forget()
    assert len(hold) == 0


def test_a_partition_read_again_is_held_anew_not_twice() -> None:
    """A rebalance that keeps a partition here seeks it back to its commit, at or before its first
    held record: the relay drops that partition's hold, and its records are offered again."""
    hold = NotificationHold(frozenset({CHILD}), 60.0)
    hold.offer(change("p0"), Rec(3, partition=0), 0.0)
    hold.offer(change("p1"), Rec(4, partition=1), 0.0)
    hold.forget_partition(("incident-changes", 0))
    assert hold.first_held() == {("incident-changes", 1): 4}
    hold.offer(change("p0"), Rec(3, partition=0), 5.0)
    assert ids(hold.due(60.0)) == [("p1", 4)] and ids(hold.due(65.0)) == [("p0", 3)]


def test_child_rules_come_from_the_processors_rule_set() -> None:
    children = child_rules(Settings())
    assert {"gpo-failure-host", "dns-timeouts", "unexpected-shutdown"} <= children
    assert "gpo-failure-site" not in children and "disk-errors" not in children


def test_unreadable_rule_files_fail_at_start(tmp_path: Path) -> None:
    base = Settings()
    s = base.model_copy(update={"processor": base.processor.model_copy(update={"rule_files": [tmp_path / "none.yaml"]})})
    with pytest.raises(WebhookConfigError, match="processor.rule_files"):
        child_rules(s)
