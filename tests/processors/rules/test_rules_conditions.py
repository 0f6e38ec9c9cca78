"""Match conditions: every operator, the combinators, and the event-code index hints."""

from __future__ import annotations

from typing import Any

import pytest
from deskwatch.processors.rules import Condition
from pydantic import ValidationError

VIEW: dict[str, Any] = {
    "event.code": "7031",
    "event.provider": "Service Control Manager",
    "event.severity": 3,
    "message": "The Print Spooler service terminated unexpectedly.",
    "labels.channel": "System",
    "asset.site": "lyon",
    "flag": True,
    "ratio": "2.5",
}

CASES = [
    ("equals-text", {"field": "event.provider", "equals": "Service Control Manager"}, True),
    ("equals-text-miss", {"field": "event.provider", "equals": "Service control manager"}, False),
    ("equals-int-vs-text-code", {"field": "event.code", "equals": 7031}, True),
    ("equals-absent-field", {"field": "nope", "equals": "x"}, False),
    ("equals-bool", {"field": "flag", "equals": True}, True),
    ("in-hit", {"field": "event.code", "in": [7031, 7034]}, True),
    ("in-miss", {"field": "event.code", "in": ["7034", "7036"]}, False),
    ("in-absent", {"field": "nope", "in": [1]}, False),
    ("regex-search", {"field": "message", "regex": "Print Spooler"}, True),
    ("regex-anchored-miss", {"field": "message", "regex": "^Print"}, False),
    ("regex-case-flag", {"field": "event.provider", "regex": "(?i)^service control"}, True),
    ("regex-absent", {"field": "nope", "regex": ".*"}, False),
    ("exists-true", {"field": "labels.channel", "exists": True}, True),
    ("exists-true-absent", {"field": "labels.nope", "exists": True}, False),
    ("exists-false-absent", {"field": "labels.nope", "exists": False}, True),
    ("exists-false-present", {"field": "asset.site", "exists": False}, False),
    ("gt-hit", {"field": "event.severity", "gt": 2}, True),
    ("gt-equal-miss", {"field": "event.severity", "gt": 3}, False),
    ("gte-equal", {"field": "event.severity", "gte": 3}, True),
    ("lt-hit", {"field": "event.severity", "lt": 4}, True),
    ("lt-equal-miss", {"field": "event.severity", "lt": 3}, False),
    ("lte-equal", {"field": "event.severity", "lte": 3}, True),
    ("numeric-from-text", {"field": "ratio", "gt": 2.4, "lt": 2.6}, True),
    ("numeric-on-non-number", {"field": "message", "gt": 0}, False),
    ("numeric-on-bool-is-not-a-number", {"field": "flag", "gte": 0}, False),
    ("numeric-absent", {"field": "nope", "lte": 10}, False),
    ("two-ops-and", {"field": "event.code", "in": [7031], "regex": "^70"}, True),
    ("two-ops-one-fails", {"field": "event.code", "in": [7031], "regex": "^71"}, False),
    (
        "all-hit",
        {
            "all": [
                {"field": "event.code", "equals": 7031},
                {"field": "asset.site", "equals": "lyon"},
            ]
        },
        True,
    ),
    (
        "all-one-miss",
        {
            "all": [
                {"field": "event.code", "equals": 7031},
                {"field": "asset.site", "equals": "metz"},
            ]
        },
        False,
    ),
    (
        "any-one-hit",
        {"any": [{"field": "event.code", "equals": 1}, {"field": "asset.site", "equals": "lyon"}]},
        True,
    ),
    (
        "any-none",
        {"any": [{"field": "event.code", "equals": 1}, {"field": "asset.site", "equals": "metz"}]},
        False,
    ),
    ("not-hit", {"not": {"field": "asset.site", "equals": "metz"}}, True),
    ("not-miss", {"not": {"field": "asset.site", "equals": "lyon"}}, False),
    (
        "nested",
        {
            "all": [
                {"any": [{"field": "event.code", "in": [7031]}, {"field": "x", "exists": True}]},
                {"not": {"field": "message", "regex": "entered the running state"}},
            ]
        },
        True,
    ),
]


@pytest.mark.parametrize(
    ("spec", "expected"), [(s, e) for _, s, e in CASES], ids=[c[0] for c in CASES]
)
def test_condition_evaluates(spec: dict[str, Any], expected: bool) -> None:
    assert Condition.model_validate(spec).compile()(VIEW) is expected


BAD = [
    ("no-form", {}, "exactly one of all/any/not/field"),
    (
        "two-forms",
        {"field": "a", "equals": 1, "all": [{"field": "b", "exists": True}]},
        "exactly one",
    ),
    ("field-without-operator", {"field": "event.code"}, "needs an operator"),
    ("operator-without-field", {"equals": 1}, "need a 'field'"),
    ("bad-regex", {"field": "message", "regex": "(unclosed"}, "does not compile"),
    ("unknown-operator", {"field": "message", "contains": "x"}, "Extra inputs are not permitted"),
    ("empty-in", {"field": "event.code", "in": []}, "at least 1"),
    ("empty-all", {"all": []}, "at least 1"),
    ("bad-path", {"field": "event code", "equals": 1}, "pattern"),
]


@pytest.mark.parametrize(("spec", "fragment"), [(s, f) for _, s, f in BAD], ids=[b[0] for b in BAD])
def test_condition_rejects(spec: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValidationError, match=fragment):
        Condition.model_validate(spec)


HINTS = [
    ("leaf-in", {"field": "event.code", "in": [1, 2]}, {"1", "2"}),
    ("other-field", {"field": "event.provider", "equals": "x"}, None),
    (
        "all-intersects",
        {"all": [{"field": "event.code", "in": [1, 2]}, {"field": "event.code", "in": [2, 3]}]},
        {"2"},
    ),
    (
        "all-one-constrains",
        {"all": [{"field": "event.provider", "equals": "x"}, {"field": "event.code", "equals": 5}]},
        {"5"},
    ),
    (
        "any-all-constrain",
        {"any": [{"field": "event.code", "equals": 1}, {"field": "event.code", "in": [2]}]},
        {"1", "2"},
    ),
    (
        "any-one-open",
        {"any": [{"field": "event.code", "equals": 1}, {"field": "message", "regex": "x"}]},
        None,
    ),
    ("not-is-open", {"not": {"field": "event.code", "equals": 1}}, None),
    ("regex-is-open", {"field": "event.code", "regex": "^1"}, None),
]


@pytest.mark.parametrize(
    ("spec", "expected"), [(s, e) for _, s, e in HINTS], ids=[h[0] for h in HINTS]
)
def test_required_codes(spec: dict[str, Any], expected: set[str] | None) -> None:
    found = Condition.model_validate(spec).required_values("event.code")
    assert (None if found is None else set(found)) == expected
