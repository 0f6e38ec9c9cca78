"""The CloudEvents id of a change: the same for the same record read again, another for another
change that a crash replay sent at the same revision."""

from __future__ import annotations

from datetime import UTC, datetime

from deskwatch.processors.encode import encode
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.incident import ChangeReason, IncidentStatus, Severity
from deskwatch.sinks.webhook.cloudevents import ce_headers, ce_id, header_map


def _change(reason: ChangeReason, to_status: IncidentStatus, detail: str = "") -> IncidentChange:
    return IncidentChange(incident_id="inc-7", revision=4, rule_id="gpo-failure-site", rule_version=2,
                          group_key="gpo-failure-site|site=lyon", from_status=IncidentStatus.OPEN,
                          to_status=to_status, reason=reason, severity=Severity.HIGH,
                          at=datetime(2026, 12, 7, 9, 30, tzinfo=UTC), detail=detail)


def test_the_same_change_read_again_has_the_same_id() -> None:
    change = _change(ChangeReason.ESCALATED, IncidentStatus.OPEN)
    again = IncidentChange.model_validate_json(encode(change))
    assert ce_id(change, encode(change)) == ce_id(again, encode(again))
    assert ce_id(change, encode(change)).startswith("inc-7:4:")


def test_another_change_at_the_same_revision_has_another_id() -> None:
    """After a crash, a replay in another order can send revision 4 as a resolution where an
    escalation was sent: a subscriber skipping seen ids must still read it."""
    escalated = _change(ChangeReason.ESCALATED, IncidentStatus.OPEN)
    resolved = _change(ChangeReason.RECOVERY_EVENT, IncidentStatus.RESOLVED)
    other_detail = _change(ChangeReason.ESCALATED, IncidentStatus.OPEN, detail="3 hosts")
    ids = {ce_id(c, encode(c)) for c in (escalated, resolved, other_detail)}
    assert len(ids) == 3


def test_the_headers_carry_the_id_of_the_record_value() -> None:
    change = _change(ChangeReason.ESCALATED, IncidentStatus.OPEN)
    body = encode(change)
    ce = header_map(ce_headers(change, "deskwatch-processor", body))
    assert ce["ce_id"] == ce_id(change, body)
    assert ce["ce_type"] == "org.deskwatch.incident.escalated" and ce["ce_subject"] == "inc-7"
