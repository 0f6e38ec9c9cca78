"""Shared specs and simulations for the simulator tests (small fleets, computed once per session)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from deskwatch.producers.simulate import FleetSpec, Simulation, simulate_fleet
from deskwatch.schemas import WorkstationEvent

MONDAY_5AM = datetime(2026, 11, 23, 5, 0, tzinfo=UTC)  # 2026-11-23 is a Monday
SEEDS = (1, 2, 3)


def small_spec(seed: int, **overrides: Any) -> FleetSpec:
    """A fleet of a few hundred hosts over one working day, every scenario injected."""
    fields: dict[str, Any] = {  # FleetSpec's fields, by name
        "seed": seed,
        "start": MONDAY_5AM,
        "duration": timedelta(hours=24),
        "sites": 6,
        "directorates": 4,
        "hosts_per_site": (15, 40),
    }
    fields.update(overrides)
    return FleetSpec(**fields)


@pytest.fixture(scope="session", params=SEEDS, ids=[f"seed{s}" for s in SEEDS])
def simulated(request: pytest.FixtureRequest) -> tuple[Simulation, list[WorkstationEvent]]:
    """A small simulation and its events, materialised once per seed."""
    sim = simulate_fleet(small_spec(request.param))
    return sim, list(sim.events)
