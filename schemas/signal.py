"""Signal: stage 1's output to stage 2 — a rule hit by one host, keyed by rule id + group key.

Stage 1 coalesces the events of one envelope that hit the same rule and group into one signal
(counts, not copies), so stage 2 pays per signal, not per event.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, TypeAdapter

from deskwatch.schemas.command import Command
from deskwatch.schemas.envelope import Tick
from deskwatch.schemas.event import SCHEMA_VERSION


class Signal(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["signal"] = "signal"
    schema_version: int = SCHEMA_VERSION
    rule_id: str
    rule_version: int
    group_key: str = Field(description="rule id + the group_by values; the record key of `signals`")
    group: dict[str, str] = Field(default_factory=dict, description="group_by field -> value")
    host: str
    device_class: str | None = None
    fingerprint: str = Field(description="content fingerprint of the first event in this signal")
    provider: str
    event_code: str
    first_seen: AwareDatetime
    last_seen: AwareDatetime
    count: int = Field(ge=1, description="events carried, repeats included")
    distinct: int = Field(ge=1, description="distinct event ids carried")
    deduplicated: int = Field(default=0, ge=0, description="content repeats folded in by stage 1")
    recovery: bool = Field(default=False, description="the rule's resolve_on matched: a recovery event")
    population: int | None = Field(default=None, description="inventory size of the group, when known")
    sample_message: str = ""
    values: list[str] = Field(
        default_factory=list, description="distinct values of the rule's count_distinct field (capped)"
    )
    source_id: str = Field(description="id of this signal: hash of its event ids; lets stage 2 skip replays")


SignalsRecord = Annotated[Signal | Tick | Command, Field(discriminator="kind")]
_SIGNALS_RECORD: TypeAdapter[Signal | Tick | Command] = TypeAdapter(SignalsRecord)


def decode_signals_record(raw: bytes) -> Signal | Tick | Command:
    """Validate one record of the ``signals`` topic (a group's one log, schemas/command.py);
    raises pydantic.ValidationError."""
    return _SIGNALS_RECORD.validate_json(raw)
