"""Enrichment, group keys, populations, coalescing into signals, recovery and distinct values."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from stage1_build import INVENTORY, NOW, PACK, T0, batch, event, make_stage
from deskwatch.processors.rules import group_key
from deskwatch.processors.stage1 import Stage1, Stage1Result, count_populations, enrich
from deskwatch.schemas.event import WorkstationEvent

# event()'s keyword arguments (Any: a str here, a datetime for at=)
GPO: dict[str, Any] = {
    "code": "1058",
    "provider": "Microsoft-Windows-GroupPolicy",
    "message": "The processing of Group Policy failed.",
}
GPO_OK: dict[str, Any] = {
    "code": "1502",
    "provider": "Microsoft-Windows-GroupPolicy",
    "message": "Group Policy processed successfully.",
}
SCM = "Service Control Manager"


def crash(service: str = "Print Spooler", **kw: Any) -> WorkstationEvent:
    return event(
        "7031",
        SCM,
        f"The {service} service terminated unexpectedly.  It has done this 1 time(s).",
        **kw,
    )


def running(service: str = "Print Spooler", **kw: Any) -> WorkstationEvent:
    return event("7036", SCM, f"The {service} service entered the running state.", **kw)


def test_known_host_is_enriched_from_the_inventory(stage: Stage1) -> None:
    view = enrich(event(host="LT-LYON-03"), INVENTORY["LT-LYON-03"])
    assert (view["asset.site"], view["asset.directorate"], view["asset.os_build"]) == (
        "lyon",
        "hr",
        "19045",
    )
    assert view["asset.device_class"] == "laptop"
    result = stage.process(batch(event(host="LT-LYON-03")), None, NOW)
    digest, signal = result.digests[0], result.signals[0]
    assert (digest.site, digest.directorate, digest.os_build, digest.device_class) == (
        "lyon",
        "hr",
        "19045",
        "laptop",
    )
    assert signal.device_class == "laptop"


def test_unknown_host_has_no_asset_fields_and_defaults_to_workstation(stage: Stage1) -> None:
    view = enrich(event(host="PC-NOWHERE"), None)
    assert not any(k.startswith("asset.") and k != "asset.device_class" for k in view)
    assert view["asset.device_class"] == "workstation"
    result = stage.process(batch(event(host="PC-NOWHERE")), None, NOW)
    assert (result.digests[0].site, result.digests[0].device_class) == (None, "workstation")


def test_group_keys_are_deterministic_and_escaped() -> None:
    group = {"host.name": "PC|1", "service.name": "a=b%c"}
    assert group_key("svc", group) == "svc|host.name=PC%7C1|service.name=a%3Db%25c"
    assert group_key("svc", dict(group)) == group_key("svc", group)


def test_same_events_give_same_group_keys_and_source_ids_whatever_the_batch(stage: Stage1) -> None:
    events = [event(host="PC-LYON-01", at=T0 + timedelta(minutes=m)) for m in range(4)]
    whole = stage.process(batch(*events), None, NOW)
    again = stage.process(batch(*events), None, NOW)  # a fresh worker recovering nothing
    assert [s.source_id for s in whole.signals] == [s.source_id for s in again.signals]
    split = stage.process(batch(*events[:2]), None, NOW)
    assert (
        split.signals[0].group_key
        == whole.signals[0].group_key
        == "disk-errors|host.name=PC-LYON-01"
    )
    assert split.signals[0].source_id != whole.signals[0].source_id  # different events carried


def test_site_rule_groups_by_site_with_its_population(stage: Stage1) -> None:
    result = stage.process(batch(event(**GPO, host="PC-LYON-02")), None, NOW)
    by_rule = {s.rule_id: s for s in result.signals}
    site, host = by_rule["gpo-failure-site"], by_rule["gpo-failure-host"]
    assert site.group_key == "gpo-failure-site|asset.site=lyon" and site.group == {
        "asset.site": "lyon"
    }
    assert site.population == 3  # three lyon assets in the inventory
    assert host.group_key == "gpo-failure-host|host.name=PC-LYON-02" and host.population == 1


def test_unknown_site_groups_under_a_dash_with_no_population(stage: Stage1) -> None:
    result = stage.process(batch(event(**GPO, host="PC-NOWHERE")), None, NOW)
    site = next(s for s in result.signals if s.rule_id == "gpo-failure-site")
    assert site.group_key == "gpo-failure-site|asset.site=-" and site.population is None


def test_fleet_wide_rule_counts_the_fleet(stage: Stage1) -> None:
    wu = event(
        "25", "Microsoft-Windows-WindowsUpdateClient", "Windows Update failed to check for updates."
    )
    result = stage.process(batch(wu), None, NOW)
    outage = next(s for s in result.signals if s.rule_id == "update-server-outage")
    assert outage.population == len(INVENTORY)


def test_count_populations_per_rule_combination() -> None:
    counts = count_populations(INVENTORY.values(), PACK)
    assert counts["*"] == 4 and counts["asset.site=lyon"] == 3 and counts["asset.site=metz"] == 1


def test_signals_coalesce_per_rule_and_group(stage: Stage1) -> None:
    envelope = batch(
        crash("Print Spooler"), crash("Windows Update"), crash("Print Spooler"), event()
    )
    result = stage.process(envelope, None, NOW)
    got = [(s.rule_id, s.group.get("service.name"), s.count) for s in result.signals]
    assert got == [
        ("spooler-failure", None, 2),
        ("spooler-failure-site", None, 2),  # its parent's, by site
        ("service-crash-loop", "Print Spooler", 2),
        ("service-crash-loop", "Windows Update", 1),
        ("disk-errors", None, 1),
    ]


def test_recovery_closes_a_hit_once(stage: Stage1) -> None:
    hit = stage.process(batch(crash(at=T0)), None, NOW)
    healed = stage.process(batch(running(at=T0 + timedelta(minutes=5))), hit.new_state, NOW)
    [signal] = healed.signals
    assert (
        signal.recovery
        and signal.group_key == "service-crash-loop|host.name=PC-LYON-01|service.name=Print Spooler"
    )
    assert healed.decisions[0].recovered == (signal.group_key,)
    quiet = stage.process(batch(running(at=T0 + timedelta(minutes=9))), healed.new_state, NOW)
    assert quiet.signals == []


def test_recovery_without_a_hit_is_not_a_signal(stage: Stage1) -> None:
    assert stage.process(batch(running()), None, NOW).signals == []
    other = stage.process(batch(crash("Windows Update")), None, NOW)
    assert stage.process(batch(running("Print Spooler")), other.new_state, NOW).signals == []


SPOOLER_LOOP = "service-crash-loop|host.name=PC-LYON-01|service.name=Print Spooler"


def loop_signals(result: Stage1Result) -> list[tuple[bool, datetime]]:
    return [(s.recovery, s.first_seen) for s in result.signals if s.rule_id == "service-crash-loop"]


def test_a_late_recovery_earlier_than_the_one_that_closed_the_hit_is_sent(stage: Stage1) -> None:
    hit = stage.process(batch(crash(at=T0)), None, NOW)
    closed = stage.process(batch(running(at=T0 + timedelta(minutes=30))), hit.new_state, NOW)
    assert loop_signals(closed) == [(True, T0 + timedelta(minutes=30))]
    earlier = stage.process(batch(running(at=T0 + timedelta(minutes=10))), closed.new_state, NOW)
    assert loop_signals(earlier) == [(True, T0 + timedelta(minutes=10))]
    assert earlier.new_state.hits[SPOOLER_LOOP].recovered_at == T0 + timedelta(minutes=10)
    between = stage.process(batch(running(at=T0 + timedelta(minutes=20))), earlier.new_state, NOW)
    assert between.signals == []  # after the first recovery: noise
    before = stage.process(batch(running(at=T0 - timedelta(minutes=1))), earlier.new_state, NOW)
    assert before.signals == []  # before the hit: noise


def test_a_late_recovery_between_two_hits_is_sent_and_leaves_the_group_open(stage: Stage1) -> None:
    hits = stage.process(batch(crash(at=T0), crash(at=T0 + timedelta(minutes=20))), None, NOW)
    between = stage.process(batch(running(at=T0 + timedelta(minutes=10))), hits.new_state, NOW)
    assert loop_signals(between) == [(True, T0 + timedelta(minutes=10))]  # the first after the first hit
    assert between.new_state.hits[SPOOLER_LOOP].recovered_at is None  # the second hit is after it
    healed = stage.process(batch(running(at=T0 + timedelta(minutes=30))), between.new_state, NOW)
    assert loop_signals(healed) == [(True, T0 + timedelta(minutes=30))]


def test_a_hit_after_the_closing_recovery_opens_the_group_again(stage: Stage1) -> None:
    state = stage.process(batch(crash(at=T0), running(at=T0 + timedelta(minutes=5))), None, NOW).new_state
    assert state.hits[SPOOLER_LOOP].recovered_at == T0 + timedelta(minutes=5)
    late_hit = stage.process(batch(crash(at=T0 + timedelta(minutes=3))), state, NOW).new_state
    assert late_hit.hits[SPOOLER_LOOP].recovered_at == T0 + timedelta(minutes=5)  # still ended by it
    again = stage.process(batch(crash(at=T0 + timedelta(minutes=8))), late_hit, NOW).new_state
    assert again.hits[SPOOLER_LOOP].recovered_at is None
    healed = stage.process(batch(running(at=T0 + timedelta(minutes=12))), again, NOW)
    assert loop_signals(healed) == [(True, T0 + timedelta(minutes=12))]


def test_hit_recovery_hit_in_one_envelope_keeps_the_order(stage: Stage1) -> None:
    envelope = batch(
        crash(at=T0), running(at=T0 + timedelta(minutes=1)), crash(at=T0 + timedelta(minutes=2))
    )
    got = [
        (s.rule_id, s.recovery)
        for s in stage.process(envelope, None, NOW).signals
        if s.rule_id == "service-crash-loop"
    ]
    assert got == [
        ("service-crash-loop", False),
        ("service-crash-loop", True),
        ("service-crash-loop", False),
    ]


def test_app_crash_1000_and_its_wer_reports_share_one_group(stage: Stage1) -> None:
    e1000 = event(
        "1000",
        "Application Error",
        "Faulting application name: excel.exe, version: 16.0.1\r\nReport Id: 1",
    )
    reports = [
        event(
            "1001",
            "Windows Error Reporting",
            f"Fault bucket {n}, type 0\r\nEvent Name: APPCRASH\r\nP1: excel.exe\r\nP2: 16.0.1",
            at=T0 + timedelta(seconds=n),
        )
        for n in range(5)
    ]
    signals = stage.process(batch(e1000, *reports), None, NOW).signals
    assert {s.group_key: s.count for s in signals} == {
        "app-crash-storm|host.name=PC-LYON-01|process.name=excel.exe": 6,
        "app-crash-spread|process.name=excel.exe": 6,  # its parent's: the same application on any host
    }


def test_spray_signal_carries_distinct_accounts(stage: Stage1) -> None:
    fails = [
        event(
            "4625",
            "Microsoft-Windows-Security-Auditing",
            "An account failed to log on.",
            labels={"TargetUserName": name},
            at=T0 + timedelta(seconds=n),
        )
        for n, name in enumerate(["alice", "bob", "alice", "carol"])
    ]
    [signal] = stage.process(batch(*fails), None, NOW).signals
    assert signal.rule_id == "logon-failure-spray" and signal.values == ["alice", "bob", "carol"]


@pytest.mark.parametrize(
    "host", ["PC-LYON-01", "pc-lyon-01"], ids=["exact", "lower-case-inventory-key"]
)
def test_inventory_lookup_falls_back_to_lower_case(host: str) -> None:
    from deskwatch.schemas.asset import Asset

    assets = {host: Asset(host=host, site="lyon")}
    result = make_stage(assets=assets).process(batch(event(host="PC-LYON-01")), None, NOW)
    assert result.digests[0].site == "lyon"
