"""The rule model: what to match, how to group, and the thresholds and lifecycle stage 2 applies.

Stage 1 uses ``match``, ``extract``, ``group_by``, ``dedup_window`` and ``resolve_on``; stage 2
interprets the rest. Opening semantics for stage 2: within ``window``, ``min_events`` must be
reached, and when ``min_hosts`` or ``min_population_pct`` is set, at least one of them too.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from datetime import timedelta
from typing import Any, Literal

from deskwatch.processors.rules.condition import Condition, Predicate
from deskwatch.processors.rules.duration import Duration
from deskwatch.schemas.incident import Severity
from pydantic import BaseModel, ConfigDict, Field, PrivateAttr, field_validator, model_validator

RULE_ID = r"^[a-z0-9]+(?:-[a-z0-9]+)*$"
QuietKey = Literal["workstation", "laptop", "server", "default"]
_SEVERITY_ORDER = list(Severity)


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", populate_by_name=True)


class Escalation(_Frozen):
    """Raise the incident to ``severity`` once any of the given thresholds is reached."""

    severity: Severity
    min_events: int | None = Field(default=None, ge=1)
    min_hosts: int | None = Field(default=None, ge=1)
    min_population_pct: float | None = Field(default=None, gt=0, le=100)
    after: Duration | None = Field(default=None, description="open for this long")

    @model_validator(mode="after")
    def _has_threshold(self) -> Escalation:
        if (self.min_events, self.min_hosts, self.min_population_pct, self.after) == (None,) * 4:
            raise ValueError(
                "an escalation needs min_events, min_hosts, min_population_pct or after"
            )
        return self


class Extraction(_Frozen):
    """Derive a field (e.g. ``process.name``) from another; alternatives are tried in order."""

    field: str = Field(min_length=1, pattern=r"^[\w.-]+$")
    source: str = Field(default="message", min_length=1)
    pattern: str | None = Field(
        default=None, description="one capturing group, or a group named 'value'"
    )

    _compiled: re.Pattern[str] | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _compile(self) -> Extraction:
        if self.pattern is not None:
            try:
                compiled = re.compile(self.pattern)
            except re.error as err:
                raise ValueError(f"pattern {self.pattern!r} does not compile: {err}") from None
            if compiled.groups < 1:
                raise ValueError(f"pattern {self.pattern!r} needs a capturing group")
            self._compiled = compiled
        return self

    def apply(self, view: Mapping[str, Any]) -> str | None:
        """The extracted value, or None when the source is absent or the pattern misses."""
        raw = view.get(self.source)
        if raw is None:
            return None
        if self._compiled is None:
            return _unquote(str(raw))
        found = self._compiled.search(str(raw))
        if found is None:
            return None
        value = found.group("value") if "value" in self._compiled.groupindex else found.group(1)
        return _unquote(value) if value is not None else None


class Rule(_Frozen):
    """One detection: an id and a version that every incident it opens carries."""

    id: str = Field(pattern=RULE_ID, max_length=64)
    version: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=200)
    description: str = ""
    remediation: str = Field(min_length=1, description="first thing a technician should try")
    severity: Severity
    escalation: list[Escalation] = Field(default_factory=list)
    match: Condition
    extract: list[Extraction] = Field(default_factory=list)
    group_by: list[str] = Field(min_length=1)
    count_distinct: str | None = Field(
        default=None, description="field whose distinct values stage 2 counts"
    )
    min_distinct: int | None = Field(default=None, ge=2)
    window: Duration
    min_events: int = Field(default=1, ge=1)
    min_hosts: int | None = Field(default=None, ge=1)
    min_population_pct: float | None = Field(default=None, gt=0, le=100)
    dedup_window: Duration = timedelta(minutes=10)
    resolve_on: Condition | None = None
    quiet_timeout: dict[QuietKey, Duration | None] = Field(default_factory=dict)
    max_lifetime: Duration | None = None
    ack_timeout: Duration | None = Field(
        default=None, description="an acknowledgement lapses after this long if the incident is still active")
    reopen_window: Duration | None = None
    flap_threshold: int | None = Field(default=None, ge=2)
    absorbs: list[str] = Field(default_factory=list)

    _matches: Predicate = PrivateAttr()
    _resolves: Predicate | None = PrivateAttr(default=None)

    def model_post_init(self, context: Any, /) -> None:
        self._matches = self.match.compile()
        self._resolves = self.resolve_on.compile() if self.resolve_on is not None else None

    @field_validator("group_by")
    @classmethod
    def _distinct_fields(cls, fields: list[str]) -> list[str]:
        if len(set(fields)) != len(fields):
            raise ValueError(f"group_by repeats a field: {fields}")
        return fields

    @model_validator(mode="after")
    def _coherent(self) -> Rule:
        _check_escalation(self.severity, self.escalation)
        if (self.min_distinct is None) != (self.count_distinct is None):
            raise ValueError("count_distinct and min_distinct go together")
        if self.id in self.absorbs:
            raise ValueError(f"absorbs: rule {self.id!r} cannot absorb itself")
        if self.dedup_window > self.window:
            raise ValueError(
                f"dedup_window {self.dedup_window} is longer than window {self.window}"
            )
        return self

    def matches(self, view: Mapping[str, Any]) -> bool:
        """Whether the enriched event (flat ``path -> value`` view) is a hit for this rule."""
        return bool(self._matches(view))

    def resolves(self, view: Mapping[str, Any]) -> bool:
        """Whether the enriched event is a recovery event for this rule."""
        return self._resolves is not None and self._resolves(view)

    def quiet_timeout_for(self, device_class: str | None) -> timedelta | None:
        """Quiet timeout for a device class; None means silence never resolves."""
        key = device_class if device_class in self.quiet_timeout else "default"
        return self.quiet_timeout.get(key)


def _unquote(value: str) -> str | None:
    """Trim; a JSON-quoted value (``"Print Spooler"``, as evtx k=v messages write it) is decoded."""
    value = value.strip()
    if len(value) >= 2 and value[0] == value[-1] == '"':
        try:
            decoded = json.loads(value)
        except ValueError:
            decoded = value[1:-1]
        value = str(decoded).strip()
    return value or None


def _check_escalation(base: Severity, levels: list[Escalation]) -> None:
    previous = _SEVERITY_ORDER.index(base)
    for position, level in enumerate(levels):
        rank = _SEVERITY_ORDER.index(level.severity)
        if rank <= previous:
            raise ValueError(
                f"escalation[{position}] severity {level.severity.value!r} must be above "
                f"{_SEVERITY_ORDER[previous].value!r}"
            )
        previous = rank
