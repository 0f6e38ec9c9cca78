"""Command and Silence: what operators (and stage 2 itself) tell the lifecycle.

A command is keyed by the owning group key and reaches that group through its partition of
``signals``, the one log a group reads: stage 2 writes there the commands that reach groups on
other partitions (absorb, release, and the child's link back to its parent), and forwards there
each operator's command from ``commands``, the topic operators write. Silences live on a
compacted topic read by every partition as a global table.

Decision: one log per group, not ``signals`` and ``commands`` both read by the group (as until
2026-12-07). A worker's consumer interleaves two partitions as its fetches return, so after a
crash the records read again came in another order than the first time, and stage 2 sent a
revision it had sent with other content (tests/integration/test_processor_recovery.py: 4 to 29
of 56 to 96 revisions sent again). Read from one log, the records come back in the order they
were processed, and so do the revisions.
"""

from __future__ import annotations

import re
from enum import StrEnum
from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

from deskwatch.schemas.event import SCHEMA_VERSION


class CommandAction(StrEnum):
    ACK = "ack"
    ASSIGN = "assign"
    RESOLVE = "resolve"
    ABSORB = "absorb"
    RELEASE = "release"
    # Sent by an absorbed child back to its parent's group, so the parent can count its children.
    LINK_CHILD = "link_child"
    UNLINK_CHILD = "unlink_child"


_NEEDS: dict[CommandAction, tuple[str, ...]] = {
    CommandAction.ASSIGN: ("assignee",),
    CommandAction.ABSORB: ("parent_id", "parent_group_key"),
    CommandAction.LINK_CHILD: ("child_id",),
    CommandAction.UNLINK_CHILD: ("child_id",),
}


class Command(BaseModel):
    """One instruction about the incident(s) of one group; ``group_key`` is the record key."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    kind: Literal["command"] = Field(default="command", description="tells it from a signal or a tick on `signals`")
    schema_version: int = SCHEMA_VERSION
    command_id: str = Field(min_length=1, max_length=128)
    action: CommandAction
    group_key: str = Field(min_length=1, description="the owning group: the record key")
    incident_id: str | None = Field(
        default=None, description="target; None = the group's current one"
    )
    actor: str = Field(min_length=1, max_length=255)
    at: AwareDatetime
    comment: str = Field(default="", max_length=4096)
    assignee: str | None = Field(default=None, max_length=255)
    parent_id: str | None = None
    parent_group_key: str | None = None
    child_id: str | None = None

    @model_validator(mode="after")
    def _has_arguments(self) -> Command:
        missing = [name for name in _NEEDS.get(self.action, ()) if getattr(self, name) is None]
        if missing:
            raise ValueError(f"command {self.action.value!r} needs {', '.join(missing)}")
        return self


MatchOp = Literal["=", "!=", "=~", "!~"]


class Matcher(BaseModel):
    """One test on an incident label: ``rule_id``, ``host``, or a group field such as ``site``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1, max_length=255)
    value: str = Field(max_length=1024)
    op: MatchOp = "="

    @model_validator(mode="after")
    def _regex_compiles(self) -> Matcher:
        if self.op in ("=~", "!~"):
            try:
                re.compile(self.value)
            except re.error as err:
                raise ValueError(
                    f"matcher {self.name}: regex {self.value!r} does not compile: {err}"
                ) from None
        return self

    def test(self, value: str | None) -> bool:
        """Whether one label value passes; an absent label equals the empty string."""
        text = "" if value is None else value
        if self.op == "=":
            return text == self.value
        if self.op == "!=":
            return text != self.value
        found = re.fullmatch(self.value, text) is not None
        return found if self.op == "=~" else not found


class Silence(BaseModel):
    """Mute matching incidents between ``starts_at`` and ``ends_at``; they are still tracked."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_version: int = SCHEMA_VERSION
    id: str = Field(min_length=1, max_length=128)
    matchers: list[Matcher] = Field(min_length=1)
    starts_at: AwareDatetime
    ends_at: AwareDatetime
    created_by: str = Field(min_length=1, max_length=255)
    comment: str = Field(default="", max_length=4096)

    @model_validator(mode="after")
    def _ordered(self) -> Silence:
        if self.ends_at <= self.starts_at:
            raise ValueError(
                f"silence {self.id}: ends_at {self.ends_at} is not after starts_at {self.starts_at}"
            )
        return self

    def active_at(self, at: AwareDatetime) -> bool:
        """Active on ``[starts_at, ends_at)``."""
        return self.starts_at <= at < self.ends_at
