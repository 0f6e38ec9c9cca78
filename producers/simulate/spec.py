"""What a simulation is asked for (``FleetSpec``) and what it knows it injected (``InjectedIncident``)."""

from __future__ import annotations

from datetime import timedelta
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, field_validator, model_validator

SCENARIO_NAMES: tuple[str, ...] = (
    "disk-errors",
    "gpo-failure-site",
    "update-server-outage",
    "av-definitions-stale",
    "service-crash-loop",
    "spooler-failure",
    "bluescreen",
    "app-crash-storm",
    "dns-timeouts",
)


class FleetSpec(BaseModel):
    """A seeded, reproducible fleet and the incidents to inject into its event stream."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    seed: int = 0
    start: AwareDatetime = Field(description="event time of the stream's beginning; no wall clock")
    duration: timedelta = timedelta(hours=24)
    sites: int = Field(default=12, ge=1, description="provinces and communes")
    directorates: int = Field(default=8, ge=1, le=15)
    hosts_per_site: tuple[int, int] = Field(
        default=(20, 80), description="clients per site, inclusive"
    )
    hosts: int | None = Field(
        default=None, ge=1, description="total clients; overrides hosts_per_site"
    )
    laptop_share: float = Field(default=0.3, ge=0.0, le=1.0)
    servers_per_site: int = Field(default=1, ge=0, le=9)
    noise_events_per_host_per_hour: float = Field(default=4.0, ge=0.0)
    scenarios: list[str] | Literal["all"] = "all"
    intensity: float = Field(default=1.0, gt=0.0, description="scales the scenarios' event counts")
    scenario_durations: dict[str, timedelta] = Field(
        default_factory=dict, description="scenario → how long it lasts, instead of its default"
    )
    utc_offset_hours: float = Field(
        default=0.0, ge=-12, le=14, description="the fleet's local time"
    )
    work_hours: tuple[int, int] = Field(
        default=(7, 19), description="local hours laptops are awake"
    )
    domain: str = "ad.gouv.example"

    @field_validator("scenarios")
    @classmethod
    def _known_scenarios(cls, value: list[str] | Literal["all"]) -> list[str] | Literal["all"]:
        unknown = [] if value == "all" else [n for n in value if n not in SCENARIO_NAMES]
        if unknown:
            raise ValueError(f"unknown scenarios {unknown}; known: {', '.join(SCENARIO_NAMES)}")
        return value

    @field_validator("scenario_durations")
    @classmethod
    def _known_durations(cls, value: dict[str, timedelta]) -> dict[str, timedelta]:
        unknown = [n for n in value if n not in SCENARIO_NAMES]
        if unknown:
            raise ValueError(f"scenario_durations names unknown scenarios {unknown}")
        if any(d <= timedelta(0) for d in value.values()):
            raise ValueError(f"scenario_durations must be positive: {value!r}")
        return value

    @model_validator(mode="after")
    def _ranges(self) -> FleetSpec:
        low, high = self.hosts_per_site
        if not 1 <= low <= high:
            raise ValueError(f"hosts_per_site {self.hosts_per_site!r} must be 1 <= low <= high")
        begin, end = self.work_hours
        if not 0 <= begin < end <= 24:
            raise ValueError(f"work_hours {self.work_hours!r} must be 0 <= begin < end <= 24")
        if self.duration <= timedelta(0):
            raise ValueError(f"duration {self.duration!r} must be positive")
        return self

    def scenario_names(self) -> list[str]:
        """The scenarios to inject, in the catalogue's order."""
        chosen = SCENARIO_NAMES if self.scenarios == "all" else self.scenarios
        return [name for name in SCENARIO_NAMES if name in chosen]


class Signature(BaseModel):
    """A (provider, code) pair that a scenario writes."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    provider: str
    code: str


class InjectedIncident(BaseModel):
    """Ground truth: one injected problem and the incident a correct pipeline should open."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scenario: str
    rule_id: str = Field(description="the rule a correct pipeline fires (processors/rules ids)")
    hosts: list[str] = Field(description="every host that received the scenario's events, sorted")
    start: AwareDatetime = Field(description="time of the scenario's first event")
    end: AwareDatetime = Field(description="time of the scenario's last event")
    site: str | None = None
    directorate: str | None = None
    group: dict[str, str] = Field(
        default_factory=dict, description="the values the incident groups by"
    )
    expected_event_count: int = Field(ge=1, description="events the scenario injected")
    signatures: list[Signature] = Field(description="the (provider, code) pairs it injected")
    absorbs: list[str] = Field(
        default_factory=list, description="child rule ids the parent absorbs"
    )
    incidents: Literal["one", "per_host"] = Field(
        default="one",
        description="one incident for the scenario, or one per listed host (rule groups by host)",
    )
    also_fires: list[str] = Field(
        default_factory=list,
        description="other rules a correct pipeline also fires on these hosts (not false alarms)",
    )
    cause: str | None = Field(
        default=None, description="the change that caused it (an update's KB), when the scenario injected one"
    )
