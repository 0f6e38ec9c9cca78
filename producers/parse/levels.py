"""Level vocabularies of the source formats, mapped onto ECS ``log.level``.

A level word a table does not know keeps the event (as ``info``, the raw word in a label) rather
than rejecting it: Windows renders level names in the machine's language, and dropping a German
"Fehler" to the dead-letter topic would lose a real error for a cosmetic reason.
"""

from __future__ import annotations

from typing import Final

from deskwatch.schemas.event import LogLevel

# Windows event Level (System/Level): 0 is "LogAlways", which Windows shows as Information.
WINDOWS_LEVELS: Final[dict[int, LogLevel]] = {
    0: "info",
    1: "critical",
    2: "error",
    3: "warning",
    4: "info",
    5: "debug",
}

# Syslog severity (PRI % 8), RFC 5424 table 2.
SYSLOG_SEVERITIES: Final[tuple[LogLevel, ...]] = (
    "emergency",
    "alert",
    "critical",
    "error",
    "warning",
    "notice",
    "info",
    "debug",
)

# Level words seen in Winlogbeat, NXLog and CBS output, lower-cased.
LEVEL_WORDS: Final[dict[str, LogLevel]] = {
    **{level: level for level in SYSLOG_SEVERITIES},
    "trace": "trace",
    "verbose": "debug",
    "information": "info",
    "informational": "info",
    "perf": "info",  # CBS timing lines
    "warn": "warning",
    "err": "error",
    "crit": "critical",
    "fatal": "critical",
    "emerg": "emergency",
}

UNKNOWN_LEVEL_LABEL: Final = "log_level_original"


def level_from_word(word: str) -> LogLevel | None:
    """The ECS level for a level word (case-insensitive), or None when the word is unknown."""
    return LEVEL_WORDS.get(word.strip().lower())


def level_from_windows(value: object) -> LogLevel | None:
    """The ECS level for a Windows Level given as a number or a digit string, else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return WINDOWS_LEVELS.get(value)
    if isinstance(value, str) and value.strip().isdigit():
        return WINDOWS_LEVELS.get(int(value))
    return None


def resolve_level(value: object) -> tuple[LogLevel, dict[str, str]]:
    """Level from a Windows number or a level word; unknown values become info plus a label."""
    if value is None or value == "":
        return "info", {}
    level = level_from_windows(value) or (
        level_from_word(value) if isinstance(value, str) else None
    )
    if level is not None:
        return level, {}
    return "info", {UNKNOWN_LEVEL_LABEL: str(value)[:256]}
