"""Durations as rule authors write them: ``30s``, ``10m``, ``2h``, ``7d``, ``1h30m``."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, PlainSerializer

_PART: Final = re.compile(r"(\d+)([smhdw])")
_WHOLE: Final = re.compile(r"(?:\d+[smhdw])+")
_UNIT_SECONDS: Final = {"s": 1, "m": 60, "h": 3600, "d": 86_400, "w": 604_800}


def parse_duration(value: Any) -> Any:
    """Turn ``"10m"`` into a timedelta; other values pass through for pydantic to judge."""
    if not isinstance(value, str):
        return value
    text = value.strip().lower()
    if not _WHOLE.fullmatch(text):
        raise ValueError(f"{value!r} is not a duration such as '30s', '10m', '2h', '7d' or '1h30m'")
    seconds = sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _PART.findall(text))
    if seconds <= 0:
        raise ValueError(f"{value!r}: a duration must be longer than zero")
    return timedelta(seconds=seconds)


def format_duration(value: timedelta) -> str:
    """The shortest ``1h30m`` spelling of a timedelta (whole seconds)."""
    seconds, parts = int(value.total_seconds()), []
    for unit in ("d", "h", "m", "s"):
        size = _UNIT_SECONDS[unit]
        if seconds >= size:
            parts.append(f"{seconds // size}{unit}")
            seconds %= size
    return "".join(parts) or "0s"


Duration = Annotated[
    timedelta,
    BeforeValidator(parse_duration),
    PlainSerializer(format_duration, return_type=str, when_used="json"),
]
