"""Level vocabularies onto ECS log.level."""

from __future__ import annotations

import pytest
from deskwatch.producers.parse.levels import resolve_level


@pytest.mark.parametrize(
    ("value", "level", "labels"),
    [
        (0, "info", {}),
        (1, "critical", {}),
        (2, "error", {}),
        (3, "warning", {}),
        (4, "info", {}),
        (5, "debug", {}),
        ("2", "error", {}),
        (" 3 ", "warning", {}),
        ("Information", "info", {}),
        ("WARN", "warning", {}),
        ("Verbose", "debug", {}),
        ("emerg", "emergency", {}),
        ("notice", "notice", {}),
        (None, "info", {}),
        ("", "info", {}),
        (9, "info", {"log_level_original": "9"}),
        (True, "info", {"log_level_original": "True"}),
        ("Fehler", "info", {"log_level_original": "Fehler"}),
    ],
    ids=[
        "w0",
        "w1",
        "w2",
        "w3",
        "w4",
        "w5",
        "digit-string",
        "padded-digit",
        "information",
        "warn",
        "verbose",
        "emerg",
        "notice",
        "none",
        "empty",
        "w9-unknown",
        "bool",
        "localised",
    ],
)
def test_resolve_level(value: object, level: str, labels: dict[str, str]) -> None:
    assert resolve_level(value) == (level, labels)
