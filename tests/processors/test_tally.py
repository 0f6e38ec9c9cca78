"""The skeleton rule: one open incident per host and code, exact dedup, deterministic revisions."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from deskwatch.processors.tally import HostTally, tally
from deskwatch.schemas import EventBatch, WorkstationEvent

T0 = datetime(2026, 11, 29, 8, tzinfo=timezone.utc)


def _batch(*specs: tuple[str, str, int]) -> EventBatch:
    events = [WorkstationEvent.model_validate({
        "@timestamp": T0 + timedelta(minutes=minute), "host": {"name": "PC-1"},
        "event": {"id": eid, "code": code, "provider": "prov"}, "log": {"level": "error"},
    }) for eid, code, minute in specs]
    return EventBatch(host="PC-1", events=events)


def test_counts_repeats_per_code_with_one_revision_per_envelope() -> None:
    r = tally(_batch(("a", "7", 0), ("b", "7", 5), ("c", "55", 1)), None, seen_cap=100)
    by_code = {i.event_codes[0]: i for i in r.incidents}
    assert (by_code["7"].event_count, by_code["7"].revision) == (2, 1)
    assert by_code["7"].first_seen == T0 and by_code["7"].last_seen == T0 + timedelta(minutes=5)
    assert (by_code["55"].event_count, by_code["55"].revision) == (1, 1)
    r2 = tally(_batch(("d", "7", 9)), r.state, seen_cap=100)
    assert [(i.event_count, i.revision, i.id) for i in r2.incidents] == [(3, 2, by_code["7"].id)]


def test_a_replayed_envelope_changes_no_count_and_reemits_the_same_revision() -> None:
    batch = _batch(("a", "7", 0), ("b", "7", 1))
    first = tally(batch, None, seen_cap=100)
    again = tally(batch, first.state, seen_cap=100)
    assert again.duplicates == 2 and again.counted == 0
    assert again.incidents == first.incidents  # same revision: downstream, "already applied"
    assert again.state == first.state


def test_seen_ids_are_bounded_oldest_first() -> None:
    r = tally(_batch(*[(f"id{i}", "7", i) for i in range(10)]), HostTally(), seen_cap=4)
    assert r.state.seen == ["id6", "id7", "id8", "id9"]


def test_incident_ids_are_deterministic() -> None:
    a = tally(_batch(("a", "7", 0)), None, 10).incidents[0]
    b = tally(_batch(("zz", "7", 0)), None, 10).incidents[0]
    assert a.id == b.id  # same rule, group and opening time
    c = tally(_batch(("a", "7", 1)), None, 10).incidents[0]
    assert c.id != a.id
