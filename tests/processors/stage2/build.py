"""Builders for stage-2 tests: a dataclass lifecycle policy and signal/command/silence factories."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from deskwatch.processors.rules import load_default_pack
from deskwatch.processors.stage1 import HostState, Stage1, count_populations
from deskwatch.processors.stage2 import GroupState, Stage2, Stage2Result
from deskwatch.processors.stage2.absorb import reconcile
from deskwatch.processors.stage2.draft import Draft
from deskwatch.processors.stage2.expire import expire
from deskwatch.producers.envelope import EnvelopeLimits, Enveloper, enveloped
from deskwatch.producers.simulate import FleetSpec, simulate_fleet
from deskwatch.schemas.envelope import EventBatch
from deskwatch.schemas.command import Command, CommandAction, Matcher, Silence
from deskwatch.schemas.incident import Severity
from deskwatch.schemas.signal import Signal

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)
FLEET_START = datetime(2026, 11, 23, 6, 0, tzinfo=UTC)  # a Monday's office hours


def at(minutes: float) -> datetime:
    """T0 plus some minutes."""
    return T0 + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Level:
    severity: Severity
    min_events: int | None = None
    min_hosts: int | None = None
    min_population_pct: float | None = None
    after: timedelta | None = None


@dataclass(frozen=True)
class Policy:
    """Implements LifecyclePolicy structurally, as the rules package's Rule does."""

    id: str = "disk-full"
    version: int = 3
    title: str = "Disk full"
    remediation: str = "Free space"
    severity: Severity = Severity.MEDIUM
    escalation: tuple[Level, ...] = ()
    window: timedelta = timedelta(minutes=10)
    min_events: int = 1
    min_hosts: int | None = None
    min_population_pct: float | None = None
    max_lifetime: timedelta | None = None
    ack_timeout: timedelta | None = None
    reopen_window: timedelta | None = timedelta(minutes=30)
    flap_threshold: int | None = None
    group_by: tuple[str, ...] = ("host.name",)
    absorbs: tuple[str, ...] = ()
    quiet: dict[str, timedelta | None] = field(
        default_factory=lambda: {
            "workstation": timedelta(minutes=30),
            "laptop": None,
            "server": timedelta(minutes=15),
        }
    )

    def quiet_timeout_for(self, device_class: str | None) -> timedelta | None:
        return self.quiet.get(device_class or "workstation", self.quiet.get("workstation"))


def signal(
    minute: float,
    host: str = "pc-1",
    *,
    rule: str = "disk-full",
    key: str | None = None,
    count: int = 1,
    recovery: bool = False,
    device_class: str | None = "workstation",
    population: int | None = None,
    sid: str | None = None,
    group: dict[str, str] | None = None,
) -> Signal:
    """One signal at T0+minute; its source_id derives from its content unless given."""
    group = group if group is not None else {"site": "paris"}
    key = key or rule + "".join(f"|{k}={v}" for k, v in group.items())
    source = sid or hashlib.sha1(f"{rule}{key}{host}{minute}{count}{recovery}".encode()).hexdigest()
    return Signal(
        rule_id=rule,
        rule_version=3,
        group_key=key,
        group=group,
        host=host,
        device_class=device_class,
        fingerprint="f" * 8,
        provider="disk",
        event_code="2013",
        first_seen=at(minute),
        last_seen=at(minute),
        count=count,
        distinct=count,
        recovery=recovery,
        population=population,
        sample_message="C: is full",
        source_id=source,
    )


def command(
    action: CommandAction,
    minute: float,
    *,
    key: str = "disk-full|site=paris",
    actor: str = "alice",
    **fields: Any,  # Command's optional fields, by name: the model checks them
) -> Command:
    return Command(
        command_id=f"{action}-{minute}-{actor}",
        action=action,
        group_key=key,
        actor=actor,
        at=at(minute),
        **fields,
    )


def silence(sid: str, start: float, end: float, **matchers: str) -> Silence:
    return Silence(
        id=sid,
        matchers=[Matcher(name=k, value=v) for k, v in matchers.items()],
        starts_at=at(start),
        ends_at=at(end),
        created_by="bob",
    )


def run(stage: Stage2, steps: Sequence[tuple[str, object, float]], state: GroupState | None = None) -> list[Stage2Result]:
    """Feed (kind, payload, now-minute) steps from ``state`` (empty by default); returns every result."""
    results: list[Stage2Result] = []
    for kind, payload, minute in steps:
        if kind == "signal":
            assert isinstance(payload, Signal)
            result = stage.on_signal(state, payload, at(minute))
        elif kind == "tick":
            result = stage.on_tick(state, at(minute))
        else:
            assert isinstance(payload, Command)
            result = stage.on_command(state, payload, at(minute))
        results.append(result)
        state = result.state
    return results


def fleet_signals(seed: int) -> list[tuple[Signal, datetime]]:
    """Stage 1's signals (default rule pack) over a simulated fleet's ten hours from
    ``FLEET_START``, with the time each was made."""
    sim = simulate_fleet(FleetSpec(seed=seed, start=FLEET_START, duration=timedelta(hours=10), sites=4, directorates=3,
                                   hosts_per_site=(10, 20), noise_events_per_host_per_hour=2.0))
    pack = load_default_pack()
    inventory = {a.host: a for a in sim.assets}
    stage1 = Stage1(pack, inventory, count_populations(inventory.values(), pack))
    hosts: dict[str, HostState] = {}
    enveloper = Enveloper(EnvelopeLimits(max_events=50, max_bytes=100_000, linger_s=30.0), "test")
    out: list[tuple[Signal, datetime]] = []

    def apply(batch: EventBatch, now: datetime) -> None:
        out.extend((signal, now) for signal in stage1.apply(hosts, batch, now).signals)

    for batch, now in enveloped(sorted(sim.events, key=lambda e: e.timestamp), enveloper):
        apply(batch, now)
    for batch in enveloper.drain():
        apply(batch, FLEET_START + timedelta(hours=11))
    return out


def full_tick(core: Stage2, state: GroupState | None, tick: datetime) -> Stage2Result:
    """A tick as ``on_tick`` did before ``tick_due``: the full work on any state with a live
    incident or pending signals under a known rule, whatever their times."""
    state = state or GroupState()
    if not core.tickable(state):  # no incident and no window, or an unknown rule: as before
        return Stage2Result(state)
    draft = Draft(state, tick, core._history(state))
    expire(draft, core._policies[state.rule_id], tick, core._silences)
    reconcile(draft)
    return draft.finish()
