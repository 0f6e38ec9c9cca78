"""Same seed → the same fleet, events, ids and truth; another seed → another simulation."""

from __future__ import annotations

from itertools import islice

import pytest

from deskwatch.producers.simulate import simulate_fleet
from deskwatch.producers.simulate.simulate import SOURCE
from deskwatch.schemas import WorkstationEvent

from .conftest import small_spec


def _lines(seed: int, count: int = 4000, **overrides: object) -> list[bytes]:
    return list(islice(simulate_fleet(small_spec(seed, **overrides)).events.json_lines(), count))


@pytest.mark.parametrize("seed", [0, 1, 12345], ids=["seed0", "seed1", "seed12345"])
def test_same_seed_gives_identical_events_truth_and_fleet(seed: int) -> None:
    first, second = simulate_fleet(small_spec(seed)), simulate_fleet(small_spec(seed))
    assert first.hosts == second.hosts
    assert first.truth == second.truth
    assert list(islice(first.events, 3000)) == list(islice(second.events, 3000))


def test_iterating_twice_gives_the_same_stream() -> None:
    sim = simulate_fleet(small_spec(4))
    assert list(islice(sim.events.json_lines(), 3000)) == list(
        islice(sim.events.json_lines(), 3000)
    )


@pytest.mark.parametrize(
    ("left", "right"),
    [pytest.param(1, 2, id="seed-1-vs-2"), pytest.param(7, 8, id="seed-7-vs-8")],
)
def test_different_seed_gives_different_simulation(left: int, right: int) -> None:
    a, b = simulate_fleet(small_spec(left)), simulate_fleet(small_spec(right))
    assert a.hosts != b.hosts
    assert a.truth != b.truth
    assert _lines(left, 500) != _lines(right, 500)


def test_adding_a_scenario_keeps_the_fleet() -> None:
    only_disk = simulate_fleet(small_spec(5, scenarios=["disk-errors"]))
    everything = simulate_fleet(small_spec(5))
    assert only_disk.hosts == everything.hosts
    assert only_disk.truth[0] == next(t for t in everything.truth if t.scenario == "disk-errors")


def test_ids_are_unique_and_are_with_id_of_the_original_line() -> None:
    events = list(islice(simulate_fleet(small_spec(6)).events, 5000))
    assert len({e.event_id for e in events}) == len(events)
    for position, event in list(enumerate(events))[::250]:
        original = "\t".join(
            (
                event.timestamp.isoformat(),
                event.host.name,
                event.labels["channel"],
                event.event.provider,
                event.event.code,
                event.log.level,
                event.message,
            )
        )
        bare = event.model_copy(update={"event": event.event.model_copy(update={"id": None})})
        assert bare.with_id(SOURCE, position, original.encode()) == event


def test_json_lines_are_byte_identical_to_the_models_json() -> None:
    sim = simulate_fleet(small_spec(9))
    models = [
        e.model_dump_json(by_alias=True, exclude_none=True).encode()
        for e in islice(sim.events, 5000)
    ]
    assert list(islice(sim.events.json_lines(), 5000)) == models
    assert (
        WorkstationEvent.model_validate_json(models[-1])
        .model_dump_json(by_alias=True, exclude_none=True)
        .encode()
        == models[-1]
    )
