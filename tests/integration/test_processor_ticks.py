"""Live ticks on the real broker: the processor's ticker drives quiet timeouts and lifetimes.

The simulated fleet's events are days old, so at wall time every incident whose rule gives its
hosts a quiet timeout, or a lifetime, is over. A worker with ticks an hour apart (none fires)
takes the fleet in; a second one, after it, ticks every second: its first tick walks the group
table it recovered (``TickSchedule``) and must resolve exactly those incidents. Then a new host's
two Group Policy failures, as old, open an incident that was staged after that walk: a later tick
must resolve it too.
"""

from __future__ import annotations

import signal
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path

from deskwatch.processors.rules import load_default_pack
from deskwatch.processors.stage2.policy import quiet_timeout
from deskwatch.producers.inventory import read_inventory
from deskwatch.schemas.event import EventFields, HostFields, LogFields, WorkstationEvent
from deskwatch.schemas.incident import ChangeReason, Incident, IncidentStatus

from .conftest import wait_for
from .test_processor_recovery import SPEC, Run, fleet, runs, settle  # noqa: F401 - fixtures used by name

NEW_HOST = "PC-TICK-0001"


def _over(incident: Incident, classes: list[str | None], now: datetime) -> bool:
    """Whether a tick at ``now`` ends the incident: its quiet timeout or its lifetime is over."""
    rule = {r.id: r for r in load_default_pack()}[incident.rule_id]
    timeout = quiet_timeout(rule, classes)
    quiet = timeout is not None and now - incident.last_seen >= timeout
    lived = rule.max_lifetime is not None and incident.opened_at is not None and \
        now - incident.opened_at >= rule.max_lifetime
    return quiet or lived


def _old_failures(path: Path) -> None:
    """Two Group Policy failures of a host no inventory knows, on the fleet's first morning."""
    at = SPEC.start + timedelta(hours=9)
    with path.open("w") as out:
        for minute in (0, 5):
            event = WorkstationEvent(
                timestamp=at + timedelta(minutes=minute),  # type: ignore[call-arg]
                event=EventFields(id=f"{NEW_HOST}-{minute}", code="1058", provider="Microsoft-Windows-GroupPolicy"),
                host=HostFields(name=NEW_HOST), log=LogFields(level="error"),
                message="The processing of Group Policy failed.")
            out.write(event.model_dump_json(by_alias=True, exclude_none=True) + "\n")


def test_live_ticks_end_the_incidents_whose_timers_are_over(
    fleet: tuple[Path, Path, int], runs: Callable[[], Run], tmp_path: Path  # noqa: F811 - the fixtures
) -> None:
    events, inventory, _ = fleet
    run = runs()
    run.produce(events, inventory)
    first = run.start("processor", "run")
    before = settle(run, [first])
    assert first.stop(signal.SIGTERM, timeout=60) == 0, first.tail()
    live = [i for i in before.values() if i.status is not IncidentStatus.RESOLVED]
    assert len(live) >= 5, f"the fleet should leave several incidents open, got {len(live)}"

    started = datetime.now(timezone.utc)
    run.settings = run.settings.model_copy(update={
        "processor": run.settings.processor.model_copy(update={"tick_interval_s": 1.0})})
    second = run.start("processor", "run")
    assets, _ = read_inventory(inventory)
    classes: dict[str, str | None] = {a.host: a.device_class for a in assets}

    def expected(incident: Incident) -> bool:
        return _over(incident, [classes.get(h) for h in incident.hosts], started)

    ending = {i.id for i in live if expected(i)}
    assert ending and len(ending) < len(live), "some incidents end at wall time, some stay (laptops)"

    def ended() -> dict[str, Incident]:
        now = run.incidents()
        return now if all(now[i].status is IncidentStatus.RESOLVED for i in ending) else {}

    after = wait_for(ended, 120, "the ticks to resolve the incidents whose timers are over", second.tail)
    for incident_id in ending:
        got = after[incident_id]
        assert got.reason in (ChangeReason.QUIET_TIMEOUT, ChangeReason.MAX_LIFETIME), got
        assert got.resolved_at is not None and got.resolved_at >= started - timedelta(seconds=2), got
    stays = [after[i.id] for i in live if i.id not in ending]
    assert all(i.status is not IncidentStatus.RESOLVED for i in stays), [i.id for i in stays if i.resolved_at]

    extra = tmp_path / "late.jsonl"
    _old_failures(extra)
    c = run.start("produce", "--format", "jsonl", str(extra))
    assert c.proc.wait(180) == 0, c.tail()

    def new_one_resolved() -> Incident | None:
        found = [i for i in run.incidents().values() if NEW_HOST in i.hosts]
        return found[0] if len(found) == 1 and found[0].status is IncidentStatus.RESOLVED else None

    late = wait_for(new_one_resolved, 120, "a tick to resolve the incident opened after the walk", second.tail)
    # a host no inventory knows counts as a workstation: this rule's 4 h quiet timeout is long over
    assert late.rule_id == "gpo-failure-host" and late.reason is ChangeReason.QUIET_TIMEOUT and late.event_count == 2
    assert second.running(), second.tail()
