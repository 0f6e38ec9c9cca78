"""The fault campaign's reduced form: a small fleet, one undisturbed run and two faults.

Private engines (own home, ports 25092/25200, 512m heaps) are started with the project's stack
code and stopped at the end; the shared engines are never touched. Each faulty row must find
every event sent exactly once in Elasticsearch (or dead-lettered with a reason) and the
reference's incidents. The full campaign is ``reliability/faults.py``.
"""

from __future__ import annotations

import sys
from datetime import timedelta
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "reliability"))

from faults import START, campaign, table  # noqa: E402
from faults_account import Tally  # noqa: E402
from faults_catalog import FAULTS, REFERENCE  # noqa: E402
from faults_engines import PrivateStack, private_stack_settings  # noqa: E402

from deskwatch.producers.simulate import FleetSpec  # noqa: E402

pytestmark = pytest.mark.integration

CI_HOME = Path("/var/lib/deskwatch-faults-ci")  # the ES engine user must traverse it
SPEC = FleetSpec(seed=11, start=START, duration=timedelta(hours=6), sites=2, directorates=2,
                 hosts_per_site=(12, 16), noise_events_per_host_per_hour=4.0)
# The batch-in-flight row streams its chunk into the producer's standard input over 4 s and kills
# it 1.5 s in, so it holds on an idle machine as on a loaded one.
CI_FAULTS = ("kafka SIGKILL + restart", "producer batch in flight SIGKILL + resend")


@pytest.fixture(scope="module")
def rows(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Tally]:
    """Every row of the reduced campaign, by fault name."""
    stack = PrivateStack(private_stack_settings(CI_HOME, port_base=25000))
    faults = [f for f in FAULTS if f.name in CI_FAULTS]
    # A broker restart took ~95 s to drain again on this loaded 2-core machine; a first processor start on
    # the fresh private broker once stayed silent past 150 s in CI: 240 s leaves room.
    got = campaign(SPEC, faults, tmp_path_factory.mktemp("faults"), stack, chunks=4, outage_s=5.0,
                   timeout_s=240.0)
    print(table(got))
    return {t.fault: t for t in got}


@pytest.mark.parametrize("fault", [REFERENCE.name, *CI_FAULTS], ids=["reference", "kafka-sigkill", "producer-in-flight-sigkill"])
def test_every_event_found_once_and_the_reference_incidents(rows: dict[str, Tally], fault: str) -> None:
    t = rows[fault]
    detail = f"{table([t])}\nnotes: {t.notes}\nincident diff: {t.incident_diff}"
    assert t.sent > 0 and len(rows[REFERENCE.name].incidents) >= 3, detail
    assert t.recover_s is not None, f"never caught up\n{detail}"
    assert (t.lost, t.duplicated) == (0, 0), detail
    assert not t.incident_diff, detail
