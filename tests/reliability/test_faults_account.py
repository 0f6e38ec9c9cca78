"""The campaign's and the soak's accounting: events lost or counted twice, incidents that differ."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "reliability"))

from faults_account import Tally, incident_diff, unaccounted  # noqa: E402


def test_an_event_dead_lettered_is_accounted_for_and_one_found_twice_is_not() -> None:
    assert unaccounted(sent=100, found=97, dead=3) == (0, 0)
    assert unaccounted(sent=100, found=96, dead=3) == (1, 0)
    assert unaccounted(sent=100, found=101, dead=0) == (0, 1)


def test_incidents_missing_extra_and_changed_are_each_named() -> None:
    reference = {"a" * 20: ("open", 5), "b" * 20: ("resolved", 3)}
    found = {"b" * 20: ("open", 3), "c" * 20: ("open", 1)}
    diff = incident_diff(found, reference, {"a" * 20: "disk-errors"})
    assert diff == ["missing aaaaaaaaaaaa (disk-errors) ('open', 5)", "extra cccccccccccc ('open', 1)",
                    "changed bbbbbbbbbbbb ('resolved', 3) -> ('open', 3)"]
    assert incident_diff(reference, dict(reference)) == []


def test_a_row_loses_what_its_digests_miss_even_when_the_totals_agree() -> None:
    """A digest short by two and another over by two add up to the events sent: two lost, two
    duplicated."""
    reference = Tally("reference", sent=10, events_found=10, digests={"d1": 5, "d2": 5})
    row = Tally("fault", sent=10, events_found=10, digests={"d1": 3, "d2": 7}, incidents={"i": ("open", 10)})
    row.compare(reference)
    assert (row.lost, row.duplicated) == (2, 2)
    assert row.incident_diff == ["extra i ('open', 10)"]


def test_a_row_whose_fault_never_happened_does_not_pass() -> None:
    """Nothing lost, nothing duplicated, drained: still no pass when the fault itself was missed
    (an Elasticsearch write pool that rejected nothing proves nothing about 429s)."""
    row = Tally("throttling", sent=10, events_found=10, recover_s=5.0)
    assert row.ok
    row.missed_fault = "no bulk request was rejected: the throttling never happened"
    assert not row.ok
