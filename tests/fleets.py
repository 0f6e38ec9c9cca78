"""Simulated fleets more than one test folder uses."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from deskwatch.producers.simulate import FleetSpec

# The processor recovery tests' fleet (tests/integration/test_processor_recovery.py): two days,
# 3,743 events, one event per envelope there. Those tests compare one pipeline's incidents with
# another's over it, which means something only as long as stage 2 gives the same incidents in
# whatever order the partitions deliver it (tests/processors/stage2/test_converge.py checks).
RECOVERY_FLEET = FleetSpec(seed=11, start=datetime(2026, 11, 23, tzinfo=UTC), duration=timedelta(hours=48),
                           sites=2, directorates=2, hosts_per_site=(12, 16), noise_events_per_host_per_hour=4.0)
