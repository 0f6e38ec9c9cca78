"""Suspected changes on simulated fleets: the update the simulator put behind the GPO wave ranks
first for the wave's incident, replayed through both cores, with the digests the sink would index."""

from __future__ import annotations

from datetime import timedelta

import pytest
from deskwatch.processors.evaluate.causes import CauseCheck, DigestLog, check_cause
from deskwatch.processors.evaluate.replay import replay
from deskwatch.processors.evaluate.simulated import SeedScore, render_scores, total
from deskwatch.processors.rules import load_default_pack
from deskwatch.processors.rules.host_change import load_changes
from deskwatch.producers.simulate import simulate_fleet

from tests.producers.simulate.conftest import small_spec


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_the_injected_update_ranks_first_for_the_wave(seed: int) -> None:
    sim = simulate_fleet(small_spec(seed))
    definitions = load_changes()
    log = DigestLog.for_definitions(definitions)
    result = replay(iter(sim.events), load_default_pack(), sim.assets, timedelta(seconds=300),
                    source="simulator", on_digests=log.add)
    (wave,) = [t for t in sim.truth if t.scenario == "gpo-failure-site"]
    check = check_cause(wave, result.incidents.values(), log, definitions)
    assert check is not None and check.incident_id is not None
    assert result.incidents[check.incident_id].rule_id == "gpo-failure-site"
    assert check.rank == 1, [(s.name, s.score) for s in check.suspects]
    top = check.suspects[0]
    assert top.name == wave.cause and set(top.hosts) == set(wave.hosts) and top.failing == len(wave.hosts)
    assert top.base_rate < 0.2 and top.others > 0
    # The other suspects are the fleet's routine updates: each on few failing hosts, or on most others.
    assert all(s.score < 0.5 for s in check.suspects[1:])
    # Without definitions nothing is suspected; a truth without a cause is not checked.
    assert check_cause(wave, result.incidents.values(), DigestLog.for_definitions([]), []) == \
        CauseCheck(wave.cause or "", check.incident_id)
    assert [check_cause(t, result.incidents.values(), log, definitions) for t in sim.truth if t.cause is None] == \
        [None] * (len(sim.truth) - 1)


def test_a_cause_without_a_matching_incident_is_reported_as_such() -> None:
    sim = simulate_fleet(small_spec(1))
    (wave,) = [t for t in sim.truth if t.scenario == "gpo-failure-site"]
    check = check_cause(wave, [], DigestLog.for_definitions(load_changes()), load_changes())
    assert check == CauseCheck(wave.cause or "", None) and check.rank is None


def test_the_table_says_where_the_cause_ranked() -> None:
    sim = simulate_fleet(small_spec(1))
    (wave,) = [t for t in sim.truth if t.scenario == "gpo-failure-site"]
    missed = SeedScore(7, total([]), (CauseCheck(wave.cause or "", "inc-1"),))
    table = render_scores([missed, SeedScore(None, total([]), missed.causes)], show_errors=True)
    seed_row, all_row = table.splitlines()[1:3]
    assert seed_row.endswith(f"NO ({wave.cause} not among 0 suspects)") and all_row.endswith("  0/1")
    assert f"seed 7 cause {wave.cause} ranked - for inc-1: none" in table
