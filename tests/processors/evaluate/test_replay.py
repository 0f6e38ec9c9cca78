"""The in-process replay: events through both real cores, ticks by event time, what-if diffs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from typing import Any

import pytest

from deskwatch.processors.evaluate.compare import diff_incidents
from deskwatch.processors.evaluate.replay import Replayer, replay
from deskwatch.processors.rules import RuleSet, load_default_pack
from deskwatch.schemas.asset import Asset
from deskwatch.schemas.event import EventFields, HostFields, LogFields, WorkstationEvent
from deskwatch.schemas.incident import ChangeReason, IncidentStatus

T0 = datetime(2026, 11, 23, 8, 0, tzinfo=UTC)
GP = "Microsoft-Windows-GroupPolicy"
PACK = load_default_pack()


def ev(minute: float, host: str, code: str = "1058", provider: str = GP, eid: str | None = None,
       message: str = "The processing of Group Policy failed.") -> WorkstationEvent:
    """One event ``minute`` minutes after T0 (its id defaults to host + time + code)."""
    return WorkstationEvent(
        timestamp=T0 + timedelta(minutes=minute),  # type: ignore[call-arg]
        event=EventFields(id=eid or f"{host}-{minute}-{code}", code=code, provider=provider),
        host=HostFields(name=host), log=LogFields(level="error"), message=message,
    )


def asset(host: str, site: str = "BRU") -> Asset:
    return Asset(host=host, site=site, directorate="D1", device_class="workstation")


SITE_HOSTS = [f"PC-{n:02d}" for n in range(6)]
CASES = [
    ("one-failure-pends", [ev(0, "PC-01")], {}),
    ("two-failures-open-one-incident", [ev(0, "PC-01"), ev(5, "PC-01")], {"gpo-failure-host": [2]}),
    ("a-replayed-event-id-counts-once", [ev(0, "PC-01"), ev(0, "PC-01"), ev(5, "PC-01")],
     {"gpo-failure-host": [2]}),
    ("two-hosts-two-incidents", [ev(0, "PC-21"), ev(1, "PC-22"), ev(5, "PC-21"), ev(6, "PC-22")],
     {"gpo-failure-host": [2, 2]}),  # not in the inventory: no site, so no site-wide rule
    ("two-of-a-six-host-site-is-a-wave", [ev(0, "PC-01"), ev(1, "PC-02"), ev(5, "PC-01"), ev(6, "PC-02")],
     {"gpo-failure-host": [2, 2], "gpo-failure-site": [4]}),  # 2/6 hosts >= min_population_pct 20
    ("site-wave-one-parent", [ev(m, h) for m in (0, 10) for h in SITE_HOSTS],
     {"gpo-failure-host": [2] * 6, "gpo-failure-site": [12]}),
]


@pytest.mark.parametrize(("events", "want"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_incidents_by_rule(events: list[WorkstationEvent], want: dict[str, list[int]]) -> None:
    result = replay(events, PACK, [asset(h) for h in SITE_HOSTS], timedelta(minutes=1))
    got: dict[str, list[int]] = {}
    for incident in result.incidents.values():
        got.setdefault(incident.rule_id, []).append(incident.event_count)
    assert {rule: sorted(counts) for rule, counts in got.items()} == want
    assert result.events == len(events)


def test_site_wave_parent_absorbs_every_host_incident() -> None:
    events = [ev(m, h) for m in (0, 10) for h in SITE_HOSTS]
    result = replay(events, PACK, [asset(h) for h in SITE_HOSTS], timedelta(minutes=1))
    (parent,) = [i for i in result.incidents.values() if i.rule_id == "gpo-failure-site"]
    children = [i for i in result.incidents.values() if i.rule_id == "gpo-failure-host"]
    assert parent.absorbed_count == len(children) == 6 and result.commands > 0
    assert all(c.parent_id == parent.id for c in children)


def test_a_blue_screen_absorbs_the_shutdown_its_reboot_logged_before_it() -> None:
    """Kernel-Power 41 is logged at boot, the bug check's 1001 report a minute later: one problem,
    one incident shown. A hard reset on a host without a bug check stays an incident of its own."""
    power = "Microsoft-Windows-Kernel-Power"
    reboot = "The system has rebooted without cleanly shutting down first."
    events = [ev(0, "PC-01", "41", power, message=reboot),
              ev(1, "PC-01", "1001", "BugCheck", message="The computer has rebooted from a bugcheck."),
              ev(3, "PC-02", "41", power, message=reboot)]
    result = replay(events, PACK, [asset(h) for h in SITE_HOSTS], timedelta(minutes=1))
    by_rule: dict[str, list[Any]] = {}
    for incident in result.incidents.values():
        by_rule.setdefault(incident.rule_id, []).append(incident)
    (crash,) = by_rule["bluescreen"]
    shutdowns = {i.hosts[0]: i for i in by_rule["unexpected-shutdown"]}
    assert set(by_rule) == {"bluescreen", "unexpected-shutdown"} and set(shutdowns) == {"PC-01", "PC-02"}
    assert shutdowns["PC-01"].parent_id == crash.id and crash.absorbed_count == 1
    assert shutdowns["PC-02"].parent_id is None


@pytest.mark.parametrize(("quiet_until", "status"), [(60, IncidentStatus.OPEN), (5 * 60, IncidentStatus.RESOLVED)],
                         ids=["before-the-4h-quiet-timeout", "after-it"])
def test_ticks_by_event_time_resolve_quiet_incidents(quiet_until: int, status: IncidentStatus) -> None:
    # Another host's harmless event carries event time forward; the ticks fire on the way.
    events = [ev(0, "PC-01"), ev(5, "PC-01"), ev(quiet_until, "PC-09", code="1502")]
    result = replay(events, PACK, [], timedelta(minutes=1))
    (incident,) = result.incidents.values()
    assert incident.status is status
    assert result.ticks == quiet_until  # one per minute of event time
    if status is IncidentStatus.RESOLVED:
        assert incident.reason is ChangeReason.QUIET_TIMEOUT


def test_what_if_a_stricter_rule_removes_incidents() -> None:
    events = [ev(0, "PC-01"), ev(5, "PC-01"), ev(0, "PC-02"), ev(5, "PC-02"), ev(9, "PC-02")]
    stricter = RuleSet([r if r.id != "gpo-failure-host" else r.model_copy(update={"min_events": 3})
                        for r in PACK], source="what-if")
    before = replay(events, PACK, [], timedelta(minutes=1))
    after = replay(events, stricter, [], timedelta(minutes=1))
    diff = diff_incidents(before.incidents, after.incidents)
    # PC-01 (2 events) no longer opens; PC-02 still opens its first episode (same id, all 3 events
    # counted either way), but at its third event instead of its second.
    assert [i.hosts for i in diff.removed] == [["PC-01"]] and diff.added == []
    ((incident, changes),) = diff.changed.values()
    assert incident.hosts == ["PC-02"] and incident.event_count == 3
    assert [(c.name, c.before.minute, c.after.minute) for c in changes] == [("opened_at", 5, 9)]
    assert diff.by_rule() == {"gpo-failure-host": (1, 0, 1)} and not diff.empty
    assert diff_incidents(before.incidents, replay(events, PACK, [], timedelta(minutes=1)).incidents).empty


class _EveryGroupReplayer:
    """The tick loop as it was: every group known when the tick began, in key order."""

    @staticmethod
    def tick(self: Replayer, tick_time: datetime) -> None:
        self.result.ticks += 1
        for key in sorted(self.groups):
            self._emit(key, self.stage2.on_tick(self.groups.get(key), tick_time), tick_time)


@pytest.mark.parametrize("seed", [3, 7, 11])
def test_visiting_only_tickable_groups_gives_what_every_group_gave(seed: int, monkeypatch: pytest.MonkeyPatch) -> None:
    """A simulated day (waves with their parents' claims and releases, quiet timeouts, recoveries),
    ticked every minute: the same incidents, revisions and changes, in the same order."""
    from deskwatch.producers.simulate import FleetSpec, simulate_fleet

    sim = simulate_fleet(FleetSpec(seed=seed, start=T0, duration=timedelta(hours=10), sites=4, directorates=3,
                                   hosts_per_site=(10, 20), noise_events_per_host_per_hour=2.0))
    events = sorted(sim.events, key=lambda e: e.timestamp)
    fast = replay(iter(events), PACK, sim.assets, timedelta(minutes=1))
    with monkeypatch.context() as m:
        m.setattr(Replayer, "tick", _EveryGroupReplayer.tick)
        full = replay(iter(events), PACK, sim.assets, timedelta(minutes=1))
    assert fast.ticks == full.ticks > 500 and fast.commands == full.commands > 0
    assert fast.incidents == full.incidents and len(fast.incidents) > 10
    assert fast.changes == full.changes


def test_a_replay_over_years_of_event_time_visits_only_live_groups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Two bursts ten years apart: 5.3M one-minute ticks between them. A tick used to walk every
    group (rules whatif over logs of 2016-2026 took minutes); it now visits the groups a tick can
    change, none once the first burst's incidents have timed out."""
    from deskwatch.processors.stage2 import Stage2

    visits: list[datetime] = []
    on_tick = Stage2.on_tick

    def counted(self: Stage2, state: Any, at: datetime) -> Any:
        visits.append(at)
        return on_tick(self, state, at)

    monkeypatch.setattr(Stage2, "on_tick", counted)
    decade = 10 * 365 * 24 * 60  # minutes
    burst = [ev(m + offset, h) for offset in (0, decade) for m in (0, 10) for h in SITE_HOSTS]
    result = replay(iter(burst), PACK, [asset(h) for h in SITE_HOSTS], timedelta(minutes=1))
    assert result.ticks > 5_000_000 and len(result.incidents) == 14  # 6 hosts + 1 site-wide, twice
    assert 0 < len(visits) < 100_000, len(visits)  # every group every tick: 7 x 5.3M


def test_a_group_a_tick_wakes_is_visited_when_its_key_comes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Stage 2's commands do not wake a group today; the loop would still visit one as the full
    loop does: later keys this tick, earlier ones at the next, groups made during the tick not."""
    from types import SimpleNamespace

    from deskwatch.processors.stage2 import Stage2Result

    def fake(replayer: Replayer) -> list[tuple[str, int]]:
        seen: list[tuple[str, int]] = []

        def on_tick(state: Any, at: datetime) -> Any:
            seen.append((state.key, at.minute))
            if state.key == "b" and state.live:  # wakes c (after it), a (before it), makes d (new)
                wake: list[Any] = [SimpleNamespace(group_key=k) for k in ("c", "a", "d")]
                return Stage2Result(state, commands=wake)
            return Stage2Result(state)

        def on_command(state: Any, command: Any, now: datetime) -> Any:
            made: Any = SimpleNamespace(key=command.group_key, live=True, rule_id="r")
            return Stage2Result(made)

        replayer.stage2 = SimpleNamespace(on_tick=on_tick, on_command=on_command,  # type: ignore[assignment]
                                          tickable=lambda state: state.live)
        for key, live in (("a", False), ("b", True), ("c", False)):
            replayer._write(key, Stage2Result(SimpleNamespace(key=key, live=live, rule_id="r")), T0)  # type: ignore[arg-type]
        replayer.tick(T0)
        replayer.tick(T0 + timedelta(minutes=1))
        return seen

    fast = fake(Replayer(PACK, []))
    with monkeypatch.context() as m:
        m.setattr(Replayer, "tick", _EveryGroupReplayer.tick)
        every = fake(Replayer(PACK, []))
    # Tick 0: b wakes c (after it: visited now), a (before it: next tick) and makes d (next tick).
    # The full loop also called on_tick on a while a was inert, which changes nothing in Stage2.
    assert every == [("a", 0), ("b", 0), ("c", 0), ("a", 1), ("b", 1), ("c", 1), ("d", 1)]
    assert fast == [visit for visit in every if visit != ("a", 0)]
