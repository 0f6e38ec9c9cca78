"""Every injected scenario is in the events exactly as its ground truth says."""

from __future__ import annotations

import math
import re
from collections import Counter
from datetime import timedelta

import pytest

from deskwatch.producers.inventory import site_populations
from deskwatch.producers.simulate import (
    NOISE_OVERLAPS,
    SCENARIO_NAMES,
    SCENARIO_SIGNATURES,
    InjectedIncident,
    Simulation,
    simulate_fleet,
)
from deskwatch.schemas import WorkstationEvent

from .conftest import MONDAY_5AM, small_spec


# Site- or application-wide scenarios whose incident is a parent absorbing the per-host ones.
PARENT_RULES = {"spooler-failure": "spooler-failure-site", "dns-timeouts": "dns-timeouts-site",
                "app-crash-storm": "app-crash-spread"}
ABSORBED = {"spooler-failure": ["spooler-failure"], "dns-timeouts": ["dns-timeouts"],
            "app-crash-storm": ["app-crash-storm"]}


def _truth(sim: Simulation, scenario: str) -> InjectedIncident:
    matching = [t for t in sim.truth if t.scenario == scenario]
    assert len(matching) == 1, f"{scenario} injected {len(matching)} times; skipped: {sim.skipped}"
    return matching[0]


def _matching(truth: InjectedIncident, events: list[WorkstationEvent]) -> list[WorkstationEvent]:
    kinds = {(s.provider, s.code) for s in truth.signatures}
    hosts = set(truth.hosts)
    return [
        e
        for e in events
        if e.host.name in hosts
        and truth.start <= e.timestamp <= truth.end
        and (e.event.provider, e.event.code) in kinds
    ]


def _shared_kinds(truth: InjectedIncident, sim: Simulation) -> set[tuple[str, str]]:
    """Kinds this scenario writes that noise or another scenario write too."""
    others = {(s.provider, s.code) for t in sim.truth if t is not truth for s in t.signatures}
    return {(s.provider, s.code) for s in truth.signatures} & (others | NOISE_OVERLAPS)


@pytest.mark.parametrize("scenario", SCENARIO_NAMES)
def test_scenario_events_match_their_truth(
    scenario: str, simulated: tuple[Simulation, list[WorkstationEvent]]
) -> None:
    sim, events = simulated
    truth = _truth(sim, scenario)
    assert truth.rule_id == PARENT_RULES.get(scenario, scenario)
    assert truth.absorbs == ABSORBED.get(scenario, truth.absorbs)
    assert {(s.provider, s.code) for s in truth.signatures} <= SCENARIO_SIGNATURES[scenario]
    found = _matching(truth, events)
    assert {e.host.name for e in found} == set(truth.hosts)
    assert found[0].timestamp == truth.start and found[-1].timestamp == truth.end
    if _shared_kinds(truth, sim):
        assert len(found) >= truth.expected_event_count
    else:
        assert len(found) == truth.expected_event_count


@pytest.mark.parametrize(
    ("scenario", "host_count"),
    [
        pytest.param("disk-errors", 1, id="disk-one-host"),
        pytest.param("bluescreen", 1, id="bluescreen-one-host"),
        pytest.param("service-crash-loop", 1, id="crash-loop-one-host"),
    ],
)
def test_single_host_scenarios(
    scenario: str, host_count: int, simulated: tuple[Simulation, list[WorkstationEvent]]
) -> None:
    sim, _ = simulated
    truth = _truth(sim, scenario)
    assert len(truth.hosts) == host_count and truth.group["host"] == truth.hosts[0]


def test_crash_loop_is_one_service_many_times(
    simulated: tuple[Simulation, list[WorkstationEvent]],
) -> None:
    sim, events = simulated
    truth = _truth(sim, "service-crash-loop")
    found = [e for e in _matching(truth, events) if truth.group["service"] in e.message]
    assert len(found) == truth.expected_event_count >= 8
    assert found[-1].event.code == "7034"


@pytest.mark.parametrize("scenario", ["gpo-failure-site", "spooler-failure", "dns-timeouts"])
def test_site_scenarios_stay_in_their_site(
    scenario: str, simulated: tuple[Simulation, list[WorkstationEvent]]
) -> None:
    sim, _ = simulated
    truth = _truth(sim, scenario)
    site_of = {a.host: a.site for a in sim.assets}
    assert truth.site is not None and {site_of[h] for h in truth.hosts} == {truth.site}
    assert truth.group == {"site": truth.site}


def test_gpo_wave_covers_sixty_percent_of_the_site_within_half_an_hour(
    simulated: tuple[Simulation, list[WorkstationEvent]],
) -> None:
    sim, _ = simulated
    truth = _truth(sim, "gpo-failure-site")
    population = site_populations(sim.assets)[truth.site or ""]
    assert len(truth.hosts) >= max(5, math.ceil(0.6 * population))
    assert (truth.end - truth.start).total_seconds() <= 30 * 60
    assert truth.absorbs == ["gpo-failure-host"]


def test_gpo_wave_follows_an_update_on_its_hosts(
    simulated: tuple[Simulation, list[WorkstationEvent]],
) -> None:
    sim, events = simulated
    truth = _truth(sim, "gpo-failure-site")
    assert truth.cause is not None and re.fullmatch(r"KB505\d{4}", truth.cause)
    first: dict[str, object] = {}
    for e in _matching(truth, events):
        first.setdefault(e.host.name, e.timestamp)
    installs = {e.host.name: e for e in events if truth.cause in e.message}
    assert all(e.event.provider == "Microsoft-Windows-WindowsUpdateClient" and e.event.code == "19"
               for e in installs.values())
    assert set(truth.hosts) <= installs.keys(), "every failing host installed it"
    for host in truth.hosts:
        lead = first[host] - installs[host].timestamp  # type: ignore[operator]
        assert timedelta(minutes=10) <= lead <= timedelta(hours=3), (host, lead)
    site_of = {a.host: a.site for a in sim.assets}
    assert {site_of[h] for h in installs} == {truth.site}, "the update reached this site only"
    assert len(_matching(truth, events)) == truth.expected_event_count, "the installs are not the incident's events"
    noise_kbs = {m.group(0) for e in events if e.event.code == "19" and truth.cause not in e.message
                 for m in [re.search(r"KB50\d{5}", e.message)] if m}
    assert all(kb < "KB5050000" for kb in noise_kbs), "the noise's updates never carry the cause's number"


def test_update_outage_spans_sites_and_uses_wsus_errors(
    simulated: tuple[Simulation, list[WorkstationEvent]],
) -> None:
    sim, events = simulated
    truth = _truth(sim, "update-server-outage")
    site_of = {a.host: a.site for a in sim.assets}
    assert len({site_of[h] for h in truth.hosts}) >= 2
    found = _matching(truth, events)
    assert all("0x8024401C" in e.message or "0x80244022" in e.message for e in found)


def test_av_definitions_stale_is_fleet_wide(
    simulated: tuple[Simulation, list[WorkstationEvent]],
) -> None:
    sim, events = simulated
    truth = _truth(sim, "av-definitions-stale")
    assert len(truth.hosts) >= 0.5 * len(sim.hosts)
    texts = Counter(
        "The antimalware definitions update failed" in e.message
        for e in _matching(truth, events)
        if e.event.code == "2001"
    )
    assert texts[True] > 0 and texts[False] == 0


def test_app_crashes_come_in_pairs_with_one_report_id(
    simulated: tuple[Simulation, list[WorkstationEvent]],
) -> None:
    sim, events = simulated
    truth = _truth(sim, "app-crash-storm")
    found = _matching(truth, events)
    faults = [e for e in found if e.event.code == "1000"]
    reports = [e for e in found if e.event.code == "1001"]
    assert len(faults) == len(reports) == truth.expected_event_count // 2
    ids = {line.split("Report Id: ")[1].split("\r")[0] for line in (e.message for e in found)}
    assert len(ids) == len(faults)
    assert all(truth.group["application"] in e.message for e in found)


def test_intensity_scales_event_counts() -> None:
    normal = simulate_fleet(small_spec(21, scenarios=["disk-errors", "dns-timeouts"]))
    doubled = simulate_fleet(
        small_spec(21, scenarios=["disk-errors", "dns-timeouts"], intensity=2.0)
    )
    for calm, loud in zip(normal.truth, doubled.truth, strict=False):
        assert loud.expected_event_count > calm.expected_event_count


def test_scenarios_skip_rather_than_lie_when_the_site_is_asleep() -> None:
    # Two hours of a Sunday night, all laptops: no host is awake to receive a GPO wave.
    sim = simulate_fleet(
        small_spec(
            3,
            start=MONDAY_5AM.replace(day=22, hour=1),
            duration=timedelta(hours=2),
            laptop_share=1.0,
            servers_per_site=0,
            scenarios=["gpo-failure-site", "bluescreen"],
        )
    )
    assert sim.truth == [] and sim.skipped == ["gpo-failure-site", "bluescreen"]


SUPPRESSED = [
    pytest.param("av-definitions-stale", {("Microsoft-Windows-Windows Defender", "2000")}, id="av"),
    pytest.param(
        "update-server-outage",
        {("Microsoft-Windows-WindowsUpdateClient", c) for c in ("19", "43", "44")},
        id="wsus",
    ),
    pytest.param(
        "gpo-failure-site",
        {("Microsoft-Windows-GroupPolicy", c) for c in ("1502", "1503")},
        id="gpo",
    ),
]


@pytest.mark.parametrize(("scenario", "healthy"), SUPPRESSED)
def test_affected_hosts_log_no_success_while_the_problem_lasts(
    scenario: str,
    healthy: set[tuple[str, str]],
    simulated: tuple[Simulation, list[WorkstationEvent]],
) -> None:
    sim, events = simulated
    truth = _truth(sim, scenario)
    affected = set(truth.hosts)
    successes = [e for e in events if (e.event.provider, e.event.code) in healthy]
    assert successes, (
        "the success events exist in the noise, so their absence below means something"
    )
    assert not [
        e for e in successes
        if e.host.name in affected and truth.start <= e.timestamp <= truth.end
    ]  # fmt: skip


def test_update_outage_hits_many_hosts_in_its_first_hour(
    simulated: tuple[Simulation, list[WorkstationEvent]],
) -> None:
    sim, events = simulated
    truth = _truth(sim, "update-server-outage")
    first_hour = {
        e.host.name for e in _matching(truth, events)
        if e.event.code == "25" and e.timestamp <= truth.start + timedelta(hours=1)
    }  # fmt: skip
    assert len(first_hour) >= max(10, 0.1 * len(sim.hosts))
    assert truth.absorbs == ["update-failure-host"]


def test_dns_timeouts_reach_five_per_host_within_half_an_hour(
    simulated: tuple[Simulation, list[WorkstationEvent]],
) -> None:
    sim, events = simulated
    truth = _truth(sim, "dns-timeouts")
    per_host = Counter(e.host.name for e in _matching(truth, events))
    assert min(per_host[h] for h in truth.hosts) >= 5
    assert truth.end - truth.start <= timedelta(minutes=30)


@pytest.mark.parametrize(
    ("scenario", "incidents", "absorbs", "also_fires"),
    [
        pytest.param("gpo-failure-site", "one", ["gpo-failure-host"], [], id="gpo"),
        pytest.param("update-server-outage", "one", ["update-failure-host"], [], id="wsus"),
        pytest.param("av-definitions-stale", "one", ["av-definitions-stale-host"], [], id="av"),
        pytest.param("disk-errors", "one", [], [], id="disk"),
        pytest.param("bluescreen", "one", ["unexpected-shutdown"], [], id="bluescreen"),
        pytest.param("dns-timeouts", "one", ["dns-timeouts"], [], id="dns"),
        pytest.param("app-crash-storm", "one", ["app-crash-storm"], [], id="apps"),
    ],
)
def test_truth_says_how_many_incidents_to_expect(
    scenario: str,
    incidents: str,
    absorbs: list[str],
    also_fires: list[str],
    simulated: tuple[Simulation, list[WorkstationEvent]],
) -> None:
    truth = _truth(simulated[0], scenario)
    assert (truth.incidents, truth.absorbs, truth.also_fires) == (incidents, absorbs, also_fires)


@pytest.mark.parametrize(
    ("scenario", "duration", "at_least"),
    [
        pytest.param("disk-errors", timedelta(minutes=40), timedelta(minutes=5), id="shorter-disk"),
        pytest.param(
            "av-definitions-stale", timedelta(hours=9), timedelta(hours=7), id="longer-av"
        ),
        pytest.param(
            "service-crash-loop", timedelta(hours=5), timedelta(hours=2), id="slower-loop"
        ),
    ],
)
def test_scenario_durations_override_the_defaults(
    scenario: str, duration: timedelta, at_least: timedelta
) -> None:
    spec = small_spec(51, scenarios=[scenario], scenario_durations={scenario: duration})
    truth = _truth(simulate_fleet(spec), scenario)
    assert at_least <= truth.end - truth.start <= duration


def test_scenario_durations_must_name_known_scenarios() -> None:
    with pytest.raises(ValueError, match="unknown scenarios"):
        small_spec(0, scenario_durations={"meteor": timedelta(hours=1)})
