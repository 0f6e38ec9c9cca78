"""Builders for stage-2 tests: a dataclass lifecycle policy and signal/command/silence factories."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from deskwatch.processors.stage2 import Stage2, Stage2Result
from deskwatch.schemas.command import Command, CommandAction, Matcher, Silence
from deskwatch.schemas.incident import Severity
from deskwatch.schemas.signal import Signal

T0 = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)


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


def run(stage: Stage2, steps: Sequence[tuple[str, object, float]]) -> list[Stage2Result]:
    """Feed (kind, payload, now-minute) steps from an empty state; returns every result."""
    results: list[Stage2Result] = []
    state = None
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
