"""Change definitions: which events record a change to a host (an update installed, software or a
driver deployed, new Group Policy settings applied), and what names the change.

A change is not a problem, so it opens no incident; it is what an operator asks about once one is
open ("what changed on these hosts just before they started failing?"). The definitions are data,
like the rules: YAML, validated, each with an id and a version, the shipped set in
``processors/rules/host_changes.yaml``. They are read against the events Elasticsearch holds (the event
digests), so a definition may only test the fields a digest keeps (``DIGEST_FIELDS``) and must
name its event codes, which the search narrows by.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from datetime import timedelta
from enum import StrEnum
from importlib import resources
from pathlib import Path
from typing import Any, Final

import yaml
from pydantic import Field, PrivateAttr, ValidationError, model_validator

from deskwatch.processors.rules.condition import Condition, Predicate
from deskwatch.processors.rules.duration import Duration
from deskwatch.processors.rules.errors import RuleValidationError
from deskwatch.processors.rules.load import describe_error
from deskwatch.processors.rules.model import RULE_ID, Extraction, _Frozen

# The fields of an event digest's view (processors/suspects.py makes it): all a definition may test.
DIGEST_FIELDS: Final = frozenset({
    "event.provider", "event.code", "host.name", "message", "log.level",
    "asset.site", "asset.directorate", "asset.os_build", "asset.device_class",
})
DEFAULT_LOOKBACK: Final = timedelta(hours=24)


class ChangeKind(StrEnum):
    UPDATE = "update"  # an operating-system or product update installed
    SOFTWARE = "software"  # an application or service installed
    DRIVER = "driver"  # a device driver installed
    POLICY = "policy"  # new Group Policy settings applied


class ChangeDefinition(_Frozen):
    """One kind of change event and how to name the change it records."""

    id: str = Field(pattern=RULE_ID, max_length=64)
    version: int = Field(ge=1)
    title: str = Field(min_length=1, max_length=200)
    kind: ChangeKind
    match: Condition
    identity: list[Extraction] = Field(
        min_length=1, description="what names the change (a KB, a product): the first alternative that yields")
    lookback: Duration = Field(default=DEFAULT_LOOKBACK, description="how long before a failure a change counts")

    _matches: Predicate = PrivateAttr()

    def model_post_init(self, context: Any, /) -> None:
        self._matches = self.match.compile()

    @model_validator(mode="after")
    def _readable_from_digests(self) -> ChangeDefinition:
        unknown = sorted((set(_fields(self.match)) | {e.source for e in self.identity}) - DIGEST_FIELDS)
        if unknown:
            raise ValueError(f"reads {', '.join(unknown)}, which an event digest does not keep "
                             f"(it keeps {', '.join(sorted(DIGEST_FIELDS))})")
        if self.match.required_values("event.code") is None:
            raise ValueError("match must require event.code values (equals or in): the search narrows by them")
        return self

    @property
    def codes(self) -> frozenset[str]:
        """The event codes a change event of this kind has (validated: never None)."""
        codes = self.match.required_values("event.code")
        assert codes is not None
        return codes

    def name(self, view: Mapping[str, Any]) -> str | None:
        """The change this event records, or None when it is not one of these (or names nothing)."""
        if not self._matches(view):
            return None
        for extraction in self.identity:
            value = extraction.apply(view)
            if value is not None:
                return value
        return None


def _fields(condition: Condition) -> Iterator[str]:
    if condition.field is not None:
        yield condition.field
    for child in (*(condition.all_ or ()), *(condition.any_ or ()), *((condition.not_,) if condition.not_ else ())):
        yield from _fields(child)


def parse_changes(text: str, source: str = "<text>") -> list[ChangeDefinition]:
    """Validate the change definitions of one YAML document (a list, or a mapping with ``changes``)."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as err:
        raise RuleValidationError(source, None, [f"not valid YAML: {err}"], "change") from None
    if isinstance(data, dict) and set(data) == {"changes"}:
        data = data["changes"]
    if not isinstance(data, list):
        raise RuleValidationError(source, None, ["expected a list of change definitions (or a mapping with 'changes')"],
                                  "change")
    found = [_parse(raw, position, source) for position, raw in enumerate(data)]
    seen: set[str] = set()
    for definition in found:
        if definition.id in seen:
            raise RuleValidationError(source, definition.id, ["id: defined twice"], "change")
        seen.add(definition.id)
    return found


def load_changes(path: Path | str | None = None) -> list[ChangeDefinition]:
    """The definitions of one YAML file, or the shipped set (``processors/rules/host_changes.yaml``)."""
    if path is not None:
        return parse_changes(Path(path).read_text(encoding="utf-8"), str(path))
    text = resources.files("deskwatch.processors.rules").joinpath("host_changes.yaml").read_text(encoding="utf-8")
    return parse_changes(text, "host_changes.yaml")


def _parse(raw: Any, position: int, source: str) -> ChangeDefinition:
    if not isinstance(raw, dict):
        raise RuleValidationError(source, None, [f"change #{position} is a {type(raw).__name__}, not a mapping"], "change")
    who = raw.get("id") if isinstance(raw.get("id"), str) else f"#{position}"
    try:
        return ChangeDefinition.model_validate(raw)
    except ValidationError as err:
        problems = [describe_error(e, "(change)") for e in err.errors()]
        raise RuleValidationError(source, who, problems, "change") from None


def codes_of(definitions: Sequence[ChangeDefinition]) -> list[str]:
    """Every event code some definition reads, sorted: what the search asks Elasticsearch for."""
    return sorted(set().union(*(d.codes for d in definitions))) if definitions else []
