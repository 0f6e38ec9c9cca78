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
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Literal

from deskwatch.processors.rules import load_default_pack
from deskwatch.processors.stage2.policy import quiet_timeout
from deskwatch.producers.inventory import read_inventory
from deskwatch.schemas.event import EventFields, HostFields, LogFields, WorkstationEvent
from deskwatch.schemas.incident import ChangeReason, Incident, IncidentStatus

from tests.fleets import RECOVERY_FLEET

from .conftest import wait_for
from .test_processor_recovery import Run, fleet, runs, settle  # noqa: F401 - fixtures used by name

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
    at = RECOVERY_FLEET.start + timedelta(hours=9)
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
    rules = {r.id: r for r in load_default_pack()}
    for incident_id in ending:
        got = after[incident_id]
        assert got.reason in (ChangeReason.QUIET_TIMEOUT, ChangeReason.MAX_LIFETIME), got
        if got.reason is ChangeReason.QUIET_TIMEOUT:  # at the tick that found it quiet
            assert got.resolved_at is not None and got.resolved_at >= started - timedelta(seconds=2), got
        else:  # where its lifetime ended, in event time
            lifetime = rules[got.rule_id].max_lifetime
            assert lifetime is not None and got.opened_at is not None and got.resolved_at == got.opened_at + lifetime, got
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


CATCHING_UP = "PC-TICK-0002"


def _event(at: datetime, n: int, provider: str, code: str, level: Literal["info", "error"], message: str) -> WorkstationEvent:
    return WorkstationEvent(
        timestamp=at,  # type: ignore[call-arg]
        event=EventFields(id=f"{CATCHING_UP}-{n}", code=code, provider=provider),
        host=HostFields(name=CATCHING_UP), log=LogFields(level=level), message=message)


def _gpo(at: datetime, n: int) -> WorkstationEvent:
    code = ("1058", "1030", "1129", "7016", "7320")[n % 5]
    return _event(at, n, "Microsoft-Windows-GroupPolicy", code, "error", f"The processing of Group Policy failed ({code}).")


def _send(run: Run, envelopes: list[list[WorkstationEvent]]) -> None:
    """Each envelope as one record of ``events``, stamped with its last event's time: as a producer
    that ran while the worker was down sent it."""
    from kafka import KafkaProducer

    from deskwatch.connect import kafka_python_options
    from deskwatch.schemas.envelope import EventBatch
    from deskwatch.topics import ensure_topics
    from deskwatch.topology import EVENTS

    k = run.settings.kafka
    ensure_topics(k)
    producer = KafkaProducer(acks="all", **kafka_python_options(k))
    try:
        sent = [producer.send(EVENTS.name(k), key=CATCHING_UP.encode(),
                              value=EventBatch(host=CATCHING_UP, source="test", events=events)
                              .model_dump_json(by_alias=True, exclude_none=True).encode(),
                              timestamp_ms=int(events[-1].timestamp.timestamp() * 1000))
                for events in envelopes]
        for future in sent:
            future.get(timeout=60)
    finally:
        producer.close()


def test_a_worker_catching_up_a_backlog_ends_no_timer_the_backlog_keeps_running(
    runs: Callable[[], Run]  # noqa: F811 - the fixture
) -> None:
    """A host's Group Policy fails twice 20 hours ago (an incident: quiet timeout 4 h), then every 3
    hours while the worker is down, behind 40,000 other events of the host. Restarted with ticks
    every 0.2 s, the worker reads that backlog for seconds: ticks at wall time resolved the incident
    by quiet timeout before it read the later failures (which, 3 h apart, never opened it again).
    Held back to what it has read, the ticks leave it open, with all eight failures counted."""
    from deskwatch.topology import EVENTS

    from .conftest import wait_for as wait

    now = datetime.now(timezone.utc).replace(microsecond=0)
    start = now - timedelta(hours=20)
    run = runs()
    _send(run, [[_gpo(start, 0), _gpo(start + timedelta(minutes=5), 1)]])
    first = run.start("processor", "run")  # ticks an hour apart: none fires
    opened = settle(run, [first])
    assert [(i.status, i.event_count) for i in opened.values() if CATCHING_UP in i.hosts] == [
        (IncidentStatus.OPEN, 2)], first.tail()
    assert first.stop(signal.SIGTERM, timeout=60) == 0, first.tail()

    filler_from = start + timedelta(minutes=10)
    filler = [[_event(filler_from + timedelta(seconds=(e * 400 + i) / 4), 100 + e * 400 + i,
                      "Microsoft-Windows-Kernel-General", "16", "info",
                      f"The access history in hive C:\\Users\\u{i % 7}\\ntuser.dat was cleared updating {i} keys.")
               for i in range(400)] for e in range(100)]
    later = [[_gpo(now - timedelta(hours=h), 10 + n)] for n, h in enumerate((17, 14, 11, 8, 5, 2))]
    _send(run, filler + later)
    run.settings = run.settings.model_copy(update={
        "processor": run.settings.processor.model_copy(update={"tick_interval_s": 0.2})})
    second = run.start("processor", "run")
    wait(lambda: run.lag(EVENTS) == 0, 180, "the worker to read the backlog", second.tail)
    time.sleep(5.0)  # its last signals through stage 2, and more ticks at wall time
    mine = [i for i in run.incidents().values() if CATCHING_UP in i.hosts]
    assert [(i.status, i.reopen_count, i.event_count, i.last_seen) for i in mine] == [
        (IncidentStatus.OPEN, 0, 8, now - timedelta(hours=2))], (mine, second.tail())
    log = second.tail(2_000)
    assert "ticks held back: stage 1 is reading a backlog" in log, log
    wait(lambda: "ticks at wall time again" in second.tail(2_000), 60, "the ticks to reach wall time once read",
         second.tail)
    assert second.running(), second.tail()
