"""The soak's reduced form: two and a half minutes of a small fleet in live time, the processor
SIGKILLed three times and Elasticsearch stopped in the middle, on real engines of the test's own (private
engines as the fault campaign's: own home, ports 26092/26200, 512m heaps, stopped at the end).

Live time is what no other test has: events whose times are now, written as they happen and read
by ``deskwatch ingest tail``, with the processor's ticker on wall time (its default period). The
run must find every event sent exactly once in Elasticsearch (or dead-lettered with a reason) and
end with the incidents an in-process replay of the same events opens, ticks on event time, up to
the run's end: same ids, statuses and event counts. The long form is ``reliability/soak.py``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "reliability"))

from faults_engines import PrivateStack, private_stack_settings  # noqa: E402
from soak import Outcome, Plan, report, run  # noqa: E402

from deskwatch.settings import load_settings  # noqa: E402

pytestmark = pytest.mark.integration

CI_HOME = Path("/var/lib/deskwatch-soak-ci")  # the ES engine user must traverse it
# The sink finds ES down while it writes. Three restarts of the processor, not one: each restart
# recovers every table, and one kill showed a worker recovering no group state 1 run in ~4, three
# kills 1 run in 2 (processors/changelogs.py).
PLAN = Plan(minutes=2.5, hosts=40, rate=15.0, seed=7, sample_s=15.0, lead_s=30.0, kill_processor_at=(1.0, 1.4, 1.8),
            kill_sink_at=(1.9,), stop_es_at=(0.5,), outage_s=10.0)


@pytest.fixture(scope="module")
def outcome(tmp_path_factory: pytest.TempPathFactory) -> Outcome:
    with PrivateStack(private_stack_settings(CI_HOME, port_base=26000)).running() as engines:
        out = run(engines.clients(load_settings()), PLAN, tmp_path_factory.mktemp("soak"), engines)
    print(report(out))
    return out


def test_every_event_found_once(outcome: Outcome) -> None:
    assert outcome.sent > 1000, report(outcome)
    assert (outcome.lost, outcome.duplicated) == (0, 0), report(outcome)
    assert sum(r.startswith("processor SIGKILLed") for r in outcome.restarts) == 3, report(outcome)
    assert any(r.startswith("sink SIGKILLed") for r in outcome.restarts), report(outcome)
    assert any(r.startswith("elasticsearch stopped") for r in outcome.restarts), report(outcome)


def test_the_incidents_of_a_replay_on_event_time(outcome: Outcome) -> None:
    assert outcome.replay_incidents >= 5, report(outcome)
    assert not outcome.incident_diff, report(outcome)
    assert outcome.live_score["recall"] == outcome.replay_score["recall"] == 1.0, report(outcome)
