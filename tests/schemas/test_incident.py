"""Incident, IncidentChange, Command and Silence: the stage-2 contracts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.command import Command, Matcher, Silence
from deskwatch.schemas.incident import ChangeReason, Incident, IncidentStatus, Severity, episode_incident_id

T = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
SKELETON_DOC = {  # an incident as the walking skeleton wrote it, before the explanation fields
    "schema_version": 1,
    "id": "abc",
    "rule_id": "skeleton-host-code",
    "rule_version": 1,
    "group_key": "pc-1|4625",
    "title": "t",
    "status": "open",
    "severity": "high",
    "hosts": ["pc-1"],
    "host_count": 1,
    "first_seen": T.isoformat(),
    "last_seen": T.isoformat(),
    "event_count": 3,
    "revision": 2,
    "event_codes": ["4625"],
    "providers": ["sec"],
    "sample_message": "x",
}


def test_incident_id_is_deterministic_and_distinguishes_its_inputs() -> None:
    base = episode_incident_id("r", "r|host.name=a", 0)
    assert base == episode_incident_id("r", "r|host.name=a", 0)
    others = {
        episode_incident_id("r2", "r|host.name=a", 0),
        episode_incident_id("r", "r|host.name=b", 0),
        episode_incident_id("r", "r|host.name=a", 1),
    }
    assert len({base, *others}) == 4


def test_skeleton_documents_still_validate_with_defaults() -> None:
    incident = Incident.model_validate(SKELETON_DOC)
    assert (incident.parent_id, incident.silenced_by, incident.reason, incident.absorbed_count) == (
        None,
        None,
        None,
        0,
    )
    assert not incident.suppressed and incident.active


def test_incident_round_trips_with_explanation_fields() -> None:
    incident = Incident.model_validate(SKELETON_DOC).model_copy(
        update={
            "reason": ChangeReason.ABSORBED,
            "parent_id": "p",
            "children": ["c"],
            "group": {"site": "paris"},
            "status": IncidentStatus.RESOLVED,
            "resolved_at": T,
        }
    )
    again = Incident.model_validate_json(incident.model_dump_json())
    assert again == incident and again.suppressed and not again.active


def test_change_id_is_incident_and_revision() -> None:
    change = IncidentChange(
        incident_id="abc",
        revision=7,
        rule_id="r",
        rule_version=1,
        group_key="r|x=1",
        from_status=None,
        to_status=IncidentStatus.OPEN,
        reason=ChangeReason.OPENED,
        severity=Severity.LOW,
        at=T,
    )
    assert change.change_id == "abc:7"
    assert IncidentChange.model_validate_json(change.model_dump_json()) == change


@pytest.mark.parametrize(
    ("action", "fields"),
    [
        ("assign", {}),
        ("absorb", {"parent_id": "p"}),
        ("link_child", {}),
        ("unlink_child", {}),
    ],
    ids=[
        "assign-needs-assignee",
        "absorb-needs-parent-key",
        "link-needs-child",
        "unlink-needs-child",
    ],
)
def test_commands_refuse_missing_arguments(action: str, fields: dict[str, str]) -> None:
    with pytest.raises(ValidationError, match="needs"):
        Command(command_id="c", action=action, group_key="g", actor="a", at=T, **fields)  # type: ignore[arg-type]


def test_silence_must_end_after_it_starts_and_regexes_must_compile() -> None:
    with pytest.raises(ValidationError, match="not after"):
        Silence(
            id="s",
            matchers=[Matcher(name="host", value="a")],
            starts_at=T,
            ends_at=T,
            created_by="b",
        )
    with pytest.raises(ValidationError, match="does not compile"):
        Matcher(name="host", value="(", op="=~")


@pytest.mark.parametrize(
    ("op", "value", "label", "passes"),
    [
        ("=", "a", "a", True),
        ("=", "a", None, False),
        ("!=", "a", "b", True),
        ("=~", "pc-.*", "pc-1", True),
        ("=~", "pc", "pc-1", False),
        ("!~", "pc-.*", "srv", True),
        ("=", "", None, True),
    ],
    ids=[
        "eq",
        "eq-absent",
        "ne",
        "regex-full",
        "regex-is-anchored",
        "not-regex",
        "empty-eq-absent",
    ],
)
def test_matcher_ops(op: str, value: str, label: str | None, passes: bool) -> None:
    assert Matcher(name="x", value=value, op=op).test(label) is passes  # type: ignore[arg-type]


def test_silence_window_is_half_open() -> None:
    s = Silence(
        id="s",
        matchers=[Matcher(name="host", value="a")],
        starts_at=T,
        ends_at=T + timedelta(hours=1),
        created_by="b",
    )
    assert [
        s.active_at(T - timedelta(seconds=1)),
        s.active_at(T),
        s.active_at(T + timedelta(hours=1)),
    ] == [False, True, False]
