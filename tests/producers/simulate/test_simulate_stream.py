"""The event stream: time order, the run's bounds, varied real-looking messages, sleeping laptops."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta, timezone

import pytest

from deskwatch.producers.simulate import (
    NOISE_OVERLAPS,
    SCENARIO_SIGNATURES,
    FleetSpec,
    Simulation,
    simulate_fleet,
)
from deskwatch.schemas import WorkstationEvent

from .conftest import MONDAY_5AM, small_spec


def test_events_are_in_time_order_within_the_run(
    simulated: tuple[Simulation, list[WorkstationEvent]],
) -> None:
    sim, events = simulated
    times = [e.timestamp for e in events]
    assert times == sorted(times)
    assert sim.spec.start <= times[0] and times[-1] < sim.spec.start + sim.spec.duration


def test_every_event_comes_from_a_host_of_the_inventory(
    simulated: tuple[Simulation, list[WorkstationEvent]],
) -> None:
    sim, events = simulated
    assert {e.host.name for e in events} <= {a.host for a in sim.assets}


def test_messages_vary_like_real_logs(simulated: tuple[Simulation, list[WorkstationEvent]]) -> None:
    _, events = simulated
    by_kind: dict[tuple[str, str], set[str]] = {}
    for e in events:
        by_kind.setdefault((e.event.provider, e.event.code), set()).add(e.message)
    # Kinds whose text carries numbers, GUIDs, accounts or services: many distinct messages.
    for kind in [
        ("Microsoft-Windows-Security-Auditing", "4624"),
        ("Microsoft-Windows-DistributedCOM", "10016"),
        ("Microsoft-Windows-Kernel-General", "16"),
        ("Service Control Manager", "7036"),
    ]:
        assert len(by_kind[kind]) > 20, kind


@pytest.mark.parametrize("seed", [1, 2, 3], ids=["seed1", "seed2", "seed3"])
def test_noise_alone_writes_no_scenario_code(seed: int) -> None:
    sim = simulate_fleet(small_spec(seed, scenarios=[]))
    kinds = Counter((e.event.provider, e.event.code) for e in sim.events)
    injected = set().union(*SCENARIO_SIGNATURES.values())
    assert sim.truth == []
    assert len(kinds) >= 15
    assert set(kinds) & injected <= NOISE_OVERLAPS


def _local_work_time(ts: datetime, offset_hours: float, hours: tuple[int, int]) -> bool:
    local = ts.astimezone(timezone(timedelta(hours=offset_hours)))
    return local.weekday() < 5 and hours[0] <= local.hour < hours[1]


@pytest.mark.parametrize(
    ("start", "offset", "hours"),
    [
        pytest.param(MONDAY_5AM, 0.0, (7, 19), id="monday-utc"),
        pytest.param(
            datetime(2026, 11, 27, 12, 0, tzinfo=UTC), 1.0, (8, 17), id="friday-into-weekend"
        ),
        pytest.param(MONDAY_5AM, -5.0, (7, 19), id="utc-minus-5"),
    ],
)
def test_laptops_are_silent_outside_office_hours(
    start: datetime, offset: float, hours: tuple[int, int]
) -> None:
    spec = FleetSpec(
        seed=11,
        start=start,
        duration=timedelta(hours=72),
        sites=4,
        hosts_per_site=(20, 30),
        utc_offset_hours=offset,
        work_hours=hours,
    )
    sim = simulate_fleet(spec)
    laptops = {h.name for h in sim.hosts if h.device_class == "laptop"}
    desktops = {h.name for h in sim.hosts if h.device_class == "workstation"}
    laptop_times = [e.timestamp for e in sim.events if e.host.name in laptops]
    assert laptop_times, "the fleet has laptops and they log during the day"
    assert all(_local_work_time(t, offset, hours) for t in laptop_times)
    night_desktop = [
        e
        for e in sim.events
        if e.host.name in desktops and not _local_work_time(e.timestamp, offset, hours)
    ]
    assert night_desktop, "desktops do log at night: the check above is not vacuous"


def test_laptops_wake_with_a_power_troubleshooter_event() -> None:
    sim = simulate_fleet(small_spec(12, scenarios=[]))
    laptops = {h.name for h in sim.hosts if h.device_class == "laptop"}
    wakes = [
        e
        for e in sim.events
        if e.event.code == "1" and e.event.provider.endswith("Power-Troubleshooter")
    ]
    assert wakes and {e.host.name for e in wakes} <= laptops
