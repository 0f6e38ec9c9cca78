"""Change events in stage 1: each change a host reports keeps a digest of its own (with_change)."""

from __future__ import annotations

from datetime import timedelta

from stage1_build import NOW, PACK, T0, batch, event

from deskwatch.processors.fingerprint import with_change
from deskwatch.processors.rules.host_change import load_changes
from deskwatch.processors.stage1 import Stage1, count_populations
from deskwatch.processors.stage1.decision import DecisionKind
from deskwatch.processors.stage1.identify import identify
from deskwatch.processors.suspects import host_changes
from deskwatch.schemas.event import WorkstationEvent

CHANGES = load_changes()
PROVIDER = "Microsoft-Windows-WindowsUpdateClient"


def _installed(kb: str, minutes: int, host: str = "PC-LYON-01") -> WorkstationEvent:
    return event("19", PROVIDER, f"Installation Successful: Windows successfully installed the following update: "
                 f"2024-05 Cumulative Update for Windows 11 ({kb})", host=host, at=T0 + timedelta(minutes=minutes),
                 level="info")


def _stage(with_definitions: bool = True) -> Stage1:
    return Stage1(PACK, {}, count_populations([], PACK), changes=CHANGES if with_definitions else ())


def test_two_updates_in_one_window_are_two_digests_each_naming_its_update() -> None:
    result = _stage().process(batch(_installed("KB5056578", 0), _installed("KB5040001", 5)), None, NOW)
    assert [d.kind for d in result.decisions] == [DecisionKind.NO_RULE, DecisionKind.NO_RULE]
    assert len(result.digests) == 2
    found = host_changes(result.digests, CHANGES)
    assert sorted((c.name, c.at) for c in found) == [
        ("KB5040001", T0 + timedelta(minutes=5)), ("KB5056578", T0)]


def test_the_same_update_said_again_is_still_a_repeat() -> None:
    result = _stage().process(batch(_installed("KB5056578", 0), _installed("KB5056578", 5)), None, NOW)
    assert [d.kind for d in result.decisions] == [DecisionKind.NO_RULE, DecisionKind.DUPLICATE_CONTENT]
    assert [d.repeat_count for d in result.digests] == [2]


def test_without_definitions_the_second_update_was_a_repeat_of_the_first() -> None:
    """What with_change mends: the template masks the KB, so the second update used to be lost."""
    result = _stage(with_definitions=False).process(
        batch(_installed("KB5056578", 0), _installed("KB5040001", 5)), None, NOW)
    assert [d.kind for d in result.decisions] == [DecisionKind.NO_RULE, DecisionKind.DUPLICATE_CONTENT]
    assert [c.name for c in host_changes(result.digests, CHANGES)] == ["KB5056578"]


def test_other_events_keep_their_plain_fingerprint() -> None:
    disk = event()
    result = _stage().process(batch(disk), None, NOW)
    assert result.decisions[0].fingerprint == identify(disk)[0]


def test_an_event_with_a_change_code_that_names_no_change_keeps_its_plain_fingerprint() -> None:
    other = event("19", "SomeOtherProvider", "code 19 from someone else", level="info")
    result = _stage().process(batch(other), None, NOW)
    assert result.decisions[0].fingerprint == identify(other)[0]


def test_change_fingerprint_is_deterministic_and_never_a_plain_one() -> None:
    ev = _installed("KB5056578", 0)
    plain = identify(ev)[0]
    named = _stage().process(batch(ev), None, NOW).decisions[0].fingerprint
    assert named == with_change(plain, "update-installed:KB5056578")
    assert named != plain
    assert with_change(plain, "update-installed:KB5056578") != with_change(plain, "update-installed:KB5040001")
    assert len(named) == len(plain)
