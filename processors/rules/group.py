"""Group keys: ``rule_id|field=value|...`` in the rule's group_by order, so they are deterministic."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

MISSING: Final = "-"
_ESCAPES: Final = str.maketrans({"%": "%25", "|": "%7C", "=": "%3D"})


def group_values(group_by: list[str], view: Mapping[str, Any]) -> dict[str, str]:
    """The event's value for each group_by field; an absent field groups under ``-``."""
    values: dict[str, str] = {}
    for field in group_by:
        raw = view.get(field)
        values[field] = MISSING if raw is None or raw == "" else str(raw)
    return values


def group_key(rule_id: str, group: Mapping[str, str]) -> str:
    """``rule_id|field=value|...``; ``%``, ``|`` and ``=`` inside values are percent-escaped."""
    parts = [rule_id]
    parts.extend(f"{field}={value.translate(_ESCAPES)}" for field, value in group.items())
    return "|".join(parts)
