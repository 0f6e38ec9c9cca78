"""The operator's filters: ``--since`` spans and times, filter clauses, the narrow table."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from deskwatch.schemas.incident import Incident
from deskwatch.sinks.cli import incident_table
from deskwatch.sinks.elasticsearch.search import (
    IncidentFilters,
    SinceError,
    incident_query,
    parse_since,
)

import deskwatch.cli  # noqa: F401  (the command tree first: deskwatch.sinks.cli registers into it)

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


@pytest.mark.parametrize(("text", "expected"), [
    ("2h", NOW - timedelta(hours=2)),
    ("30m", NOW - timedelta(minutes=30)),
    ("7d", NOW - timedelta(days=7)),
    ("1w", NOW - timedelta(weeks=1)),
    ("45s", NOW - timedelta(seconds=45)),
    ("2026-11-28T06:00:00Z", datetime(2026, 11, 28, 6, tzinfo=UTC)),
    ("2026-11-28T07:00:00+01:00", datetime(2026, 11, 28, 6, tzinfo=UTC)),
], ids=["hours", "minutes", "days", "weeks", "seconds", "iso-z", "iso-offset"])
def test_parse_since(text: str, expected: datetime) -> None:
    assert parse_since(text, NOW) == expected


@pytest.mark.parametrize("text", ["2 hours", "h", "-2h", "2026-11-28T06:00:00", "yesterday"],
                         ids=["words", "no-number", "negative", "naive-time", "word"])
def test_parse_since_refuses(text: str) -> None:
    with pytest.raises(SinceError, match="--since"):
        parse_since(text, NOW)


@pytest.mark.parametrize(("filters", "clauses"), [
    (IncidentFilters(), []),
    (IncidentFilters(status=("open",)), [{"terms": {"status": ["open"]}}]),
    (IncidentFilters(severity=("high", "critical"), rule=("disk-errors",)),
     [{"terms": {"severity": ["high", "critical"]}}, {"terms": {"rule_id": ["disk-errors"]}}]),
    (IncidentFilters(site=("LYON",), since=NOW), [{"terms": {"group.asset.site": ["LYON"]}},
                                                  {"range": {"last_seen": {"gte": NOW.isoformat()}}}]),
], ids=["none", "status", "severity-and-rule", "site-and-since"])
def test_filter_clauses(filters: IncidentFilters, clauses: list[dict[str, Any]]) -> None:
    query = incident_query("", filters)
    assert query["bool"]["filter"] == clauses
    assert query["bool"]["must"][0]["query_string"]["query"] == "*", "an empty query matches everything"


def test_table_is_narrow_and_cuts_long_titles() -> None:
    incident = Incident(id="0" * 24, rule_id="gpo-failure-site-wide-long-name", group_key="g", title="x" * 60,
                        first_seen=NOW, last_seen=NOW, event_count=12, revision=3, hosts=["PC-1", "PC-2"],
                        host_count=2)
    header, row = incident_table([incident])
    assert header.split() == ["id", "status", "severity", "rule", "title", "hosts", "events", "last", "seen"]
    assert len(row.rstrip()) <= 160
    assert row.split()[:3] == ["0" * 24, "open", "medium"]
    assert "gpo-failure-site-wide…" in row and "x" * 45 + "…" in row
    assert row.rstrip().endswith("2      12      2026-11-29 12:00")


def test_table_says_why_an_incident_is_quiet_before_its_title() -> None:
    loud = Incident(id="1" * 24, rule_id="disk-errors", group_key="g", title="Disk or NTFS errors: PC-1",
                    first_seen=NOW, last_seen=NOW, event_count=3, revision=2, hosts=["PC-1"])
    quiet = loud.model_copy(update={"silenced_by": "maint-42", "parent_id": "p" * 24, "flapping": True})
    _, loud_row, quiet_row = incident_table([loud, quiet])
    assert "  Disk or NTFS errors: PC-1  " in loud_row and "[" not in loud_row
    assert "[silenced] [absorbed] [flapping] Disk or NTFS…  1" in quiet_row
