"""GroupState: what stage 2 keeps per group (rule + group key); serialisable, bounded."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Final

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from deskwatch.processors.construct import constructor, replacer
from deskwatch.schemas.incident import ChangeReason, Incident
from deskwatch.schemas.signal import Signal

# Caps keep one table value small: a group's state is written to the changelog on every change.
SOURCE_IDS_CAP = 512
WINDOW_CAP = 1024  # ~230 kB of JSON at most: well under a 1 MB Kafka record
HOSTS_CAP = 1000
INCIDENT_HOSTS_CAP = 100
CHILDREN_CAP = 1000
INCIDENT_CHILDREN_CAP = 100
ABSORB_TARGETS_CAP = 1000
LABELS_CAP = 20
EARLIER_CAP = 4  # a parent's claim may reach a child group a few episodes late
# What a decoded group state weighs in RSS, for the worker's cache of them (``decoded_bytes``).
# Fitted to the RSS that decoding a few hundred distinct copies of a state added per copy
# (bench/group_state.py): a pending window of 5-1,024 entries, an open site incident of 20-1,000
# hosts. The estimate is at or above what was measured: 1.02-1.07x for windows of 100 entries or
# more (1.58 MiB at WINDOW_CAP), 1.3-1.6x for open incidents (160 KiB measured at 1,000 hosts),
# and up to 3x for the smallest states, whose few KiB the count bound governs anyway.
GROUP_BYTES = 6 * 1024  # the state and its own fields
INCIDENT_BYTES = 3_584  # one incident (live, last resolved or earlier), without its lists
ENTRY_BYTES = 1_530  # one window or opening entry: two datetimes, five strings
ID_BYTES = 90  # one source id, host name or incident id in a list
# The due time (``Stage2.tick_due``) of a state every tick can change: at or before any tick's time.
ALWAYS: Final = datetime.min.replace(tzinfo=UTC)


class ParentLink(BaseModel):
    """The latest claim of a parent on this group, where to tell it, and its event-time span."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    parent_id: str
    parent_group_key: str
    claimed_at: AwareDatetime | None = Field(default=None, description="covers incidents seen since")
    released_at: AwareDatetime | None = Field(default=None, description="the parent's resolution")


class WindowEntry(BaseModel):
    """One pending signal, reduced to what thresholds and the opening fold need."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    source_id: str
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    host: str
    count: int
    deduplicated: int = 0
    device_class: str | None = None
    population: int | None = None
    event_code: str = ""
    provider: str = ""
    sample: str = ""
    recovery: bool = Field(default=False, description="the host recovered here: its hits until now no longer count")

    @classmethod
    def of(cls, signal: Signal) -> WindowEntry:
        return _window_entry(
            source_id=signal.source_id,
            first_seen=signal.first_seen,
            last_seen=signal.last_seen,
            host=signal.host,
            count=signal.count,
            deduplicated=signal.deduplicated,
            device_class=signal.device_class,
            population=signal.population,
            event_code=signal.event_code,
            provider=signal.provider,
            sample=signal.sample_message,
            recovery=signal.recovery,
        )


class GroupState(BaseModel):
    """One group's lifecycle state: the stage-2 table value, keyed by group key."""

    model_config = ConfigDict(extra="forbid")

    rule_id: str = ""
    group_key: str = ""
    group: dict[str, str] = Field(default_factory=dict)
    incident: Incident | None = Field(default=None, description="the open or acknowledged one")
    last_resolved: Incident | None = Field(
        default=None, description="kept for reopen and late commands"
    )
    earlier: list[Incident] = Field(
        default_factory=list,
        description="absorbable groups: resolved incidents before last_resolved, oldest first",
    )
    window: list[WindowEntry] = Field(
        default_factory=list, description="pending hits and recoveries, in event-time order"
    )
    recent_source_ids: list[str] = Field(default_factory=list, description="oldest first, capped")
    hosts: list[str] = Field(default_factory=list, description="sorted; exact up to HOSTS_CAP")
    device_classes: list[str] = Field(default_factory=list)
    population: int | None = None
    last_opened_at: AwareDatetime | None = None
    opening_floor: AwareDatetime | None = Field(
        default=None, description="the live incident's opening may not move before this"
    )
    opening: list[WindowEntry] = Field(
        default_factory=list, description="the live incident's hits at or before its opening"
    )
    episodes: int = Field(default=0, ge=0, description="incidents opened in this group so far")
    parent: ParentLink | None = None
    children: list[str] = Field(default_factory=list, description="absorbed child incident ids")
    absorb_targets: list[str] = Field(
        default_factory=list, description="child group keys told to absorb"
    )
    linked: list[str] = Field(
        default_factory=list, description="own incident ids announced to the parent as its children"
    )
    recovered: dict[str, AwareDatetime] = Field(
        default_factory=dict, description="hosts of the live incident whose latest signal recovered"
    )
    resolved_from: ChangeReason | None = Field(
        default=None, description="the last incident's reason before its hosts' recovery or a quiet timeout resolved it: "
        "a withdrawn resolution restores it (observe._withdraw)")

    def fork(self) -> GroupState:
        """A copy safe to mutate: lists are copied, their frozen items and incidents are shared.

        What ``model_copy(update=...)`` does, without its generic steps: it runs per input record.
        Lists stage 2 replaces and never mutates are shared, not copied: ``recent_source_ids``
        (``remember``), ``opening`` (up to WINDOW_CAP entries; changed by a late hit only,
        tally.earlier_opening) and ``earlier`` (Draft._place).
        """
        fields = self.__dict__.copy()
        for name in _FORKED_LISTS:
            fields[name] = fields[name].copy()
        fields["group"] = fields["group"].copy()
        fields["recovered"] = fields["recovered"].copy()
        forked = _new_state(GroupState)
        _set(forked, "__dict__", fields)
        _set(forked, "__pydantic_fields_set__", self.__pydantic_fields_set__ | _FORKED)
        _set(forked, "__pydantic_extra__", None)
        _set(forked, "__pydantic_private__", None)
        return forked

    def remember(self, source_id: str) -> None:
        """Record a signal id, forgetting the oldest beyond the cap (a new list: forks share it)."""
        kept = self.recent_source_ids[1 - SOURCE_IDS_CAP :]
        self.recent_source_ids = [*kept, source_id]

    def current_or_resolved(self) -> Incident | None:
        """The incident commands address when they name none."""
        return self.incident or self.last_resolved


def decoded_bytes(state: GroupState) -> int:
    """The estimated bytes of a decoded group state (the constants above); under 1 us."""
    ids = (len(state.recent_source_ids) + len(state.hosts) + len(state.children) + len(state.absorb_targets)
           + len(state.linked) + len(state.recovered))
    incidents = [i for i in (state.incident, state.last_resolved) if i is not None] + state.earlier
    ids += sum(len(i.hosts) + len(i.children) for i in incidents)
    return (GROUP_BYTES + INCIDENT_BYTES * len(incidents) + ENTRY_BYTES * (len(state.window) + len(state.opening))
            + ID_BYTES * ids)


# One window entry per signal, from a signal's values, and a copy of its incident per count and
# transition: the values are typed already. Validation and model_copy were ~21 % of stage 2's
# samples on a sparse fleet (py-spy), these ~13 % (processors/construct.py).
_window_entry = constructor(WindowEntry)
replace_incident = replacer(Incident)

_FORKED_LISTS = ("window", "hosts", "device_classes", "children", "absorb_targets", "linked")
# model_copy(update=...) marks the updated fields as set; so does fork (exclude_unset sees it).
_FORKED = frozenset((*_FORKED_LISTS, "recent_source_ids", "opening", "earlier", "group", "recovered"))
_new_state = BaseModel.__new__
_set = object.__setattr__
