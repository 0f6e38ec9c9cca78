"""What every scenario shares: the planning context, the plan it returns, and window/host choice.

A scenario plans everything up front from its own seeded ``Random`` (which hosts, when, how many
events), so its ground truth is exact before a single event is rendered; rendering the messages
happens later, lazily, in the merged stream.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property
from operator import itemgetter
from random import Random
from typing import Literal

from deskwatch.producers.simulate.calendar import WorkCalendar
from deskwatch.producers.simulate.fleet import Host
from deskwatch.producers.simulate.spec import InjectedIncident, Signature
from deskwatch.producers.simulate.vocabulary import Planned


@dataclass(frozen=True)
class PlanContext:
    """The fleet and time frame a scenario plans within."""

    hosts: Sequence[Host]
    calendar: WorkCalendar
    start: datetime
    duration: float  # seconds
    intensity: float
    domain: str
    durations: Mapping[str, float] = field(default_factory=dict)  # scenario → seconds, overrides

    @cached_property
    def by_site(self) -> dict[str, list[int]]:
        """Host indexes per site, in fleet order."""
        return _index_by(self.hosts, lambda h: h.site)

    @cached_property
    def by_directorate(self) -> dict[str, list[int]]:
        """Host indexes per directorate, in fleet order."""
        return _index_by(self.hosts, lambda h: h.directorate)

    def scaled(self, count: int) -> int:
        """A count scaled by the spec's intensity, at least one."""
        return max(1, round(count * self.intensity))

    def awake_through(self, index: int, begin: float, end: float) -> bool:
        """True when the host can log events throughout ``[begin, end]``."""
        if self.hosts[index].device_class != "laptop":
            return True
        return self.calendar.is_work_time(begin) and self.calendar.next_boundary(begin) > end


@dataclass
class ScenarioPlan:
    """A scenario's events (unsorted is fine) and what its incident is about."""

    scenario: str
    rule_id: str
    events: list[Planned] = field(default_factory=list)
    site: str | None = None
    directorate: str | None = None
    group: dict[str, str] = field(default_factory=dict)
    absorbs: list[str] = field(default_factory=list)
    incidents: Literal["one", "per_host"] = "one"
    also_fires: list[str] = field(default_factory=list)
    # Healthy noise this problem makes impossible on its hosts while it lasts (a host whose
    # definitions cannot update logs no "definitions updated"), as (provider, code).
    suppresses: frozenset[tuple[str, str]] = frozenset()
    # The change that caused the problem, and its events (on the failing hosts before they fail,
    # and on some others): part of the stream, not of the incident or its event count.
    cause: str | None = None
    cause_events: list[Planned] = field(default_factory=list)

    def truth(self, hosts: Sequence[Host], start: datetime) -> InjectedIncident:
        """The ground truth of this plan; sorts its events in place."""
        self.events.sort(key=itemgetter(0, 1))
        signatures = sorted({(tpl.provider, tpl.code) for _, _, tpl in self.events})
        return InjectedIncident(
            scenario=self.scenario,
            rule_id=self.rule_id,
            hosts=sorted({hosts[i].name for _, i, _ in self.events}),
            start=at(start, self.events[0][0]),
            end=at(start, self.events[-1][0]),
            site=self.site,
            directorate=self.directorate,
            group=self.group,
            expected_event_count=len(self.events),
            signatures=[Signature(provider=p, code=c) for p, c in signatures],
            absorbs=self.absorbs,
            incidents=self.incidents,
            also_fires=self.also_fires,
            cause=self.cause,
        )


Planner = Callable[[PlanContext, Random], "ScenarioPlan | None"]


def at(start: datetime, offset: float) -> datetime:
    """The event time of an offset, to the microsecond as events carry it."""
    return start + timedelta(microseconds=round(offset * 1_000_000))


def choose_window(
    ctx: PlanContext, rng: Random, length: float, scenario: str
) -> tuple[float, float]:
    """A ``(begin, length)`` inside the run, inside office hours whenever one is long enough.

    ``length`` is the scenario's own default; the spec's ``scenario_durations`` overrides it.
    """
    length = min(ctx.durations.get(scenario, length), ctx.duration * 0.8)
    fitting = [(b, e) for b, e in ctx.calendar.work_periods(ctx.duration) if e - b >= length + 60.0]
    if fitting:
        begin, end = rng.choice(fitting)
        return rng.uniform(begin, end - length - 60.0), length
    return rng.uniform(0.0, ctx.duration - length), length


def pick_host(
    ctx: PlanContext, rng: Random, begin: float, end: float, candidates: Sequence[int] | None = None
) -> int | None:
    """A random host awake throughout ``[begin, end]``, or None when there is none."""
    pool = list(range(len(ctx.hosts))) if candidates is None else list(candidates)
    for _ in range(64):
        if not pool:
            return None
        index = rng.choice(pool)
        if ctx.awake_through(index, begin, end):
            return index
    awake = [i for i in pool if ctx.awake_through(i, begin, end)]
    return rng.choice(awake) if awake else None


def pick_share(
    ctx: PlanContext,
    rng: Random,
    members: Sequence[int],
    share: float,
    minimum: int,
    begin: float,
    end: float,
) -> list[int]:
    """``share`` of ``members`` (at least ``minimum``) among those awake in the window, in order."""
    awake = [i for i in members if ctx.awake_through(i, begin, end)]
    wanted = min(len(awake), max(minimum, math.ceil(share * len(members))))
    return sorted(rng.sample(awake, wanted))


def _index_by(hosts: Sequence[Host], key: Callable[[Host], str]) -> dict[str, list[int]]:
    """Host indexes grouped by a host attribute."""
    groups: dict[str, list[int]] = defaultdict(list)
    for index, host in enumerate(hosts):
        groups[key(host)].append(index)
    return dict(groups)
