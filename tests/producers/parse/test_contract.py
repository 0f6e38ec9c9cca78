"""The contract's own rules: an aware reference time, and quoted, truncated details."""

from __future__ import annotations

from datetime import datetime

import pytest
from deskwatch.producers.parse import ParseError, SourceContext
from deskwatch.producers.parse.contract import quote


def test_naive_reference_time_is_refused() -> None:
    with pytest.raises(ParseError, match="must be aware"):
        SourceContext(source="x", reference_time=datetime(2026, 1, 1))


@pytest.mark.parametrize(
    ("value", "limit", "text"),
    [
        (b"abc", 10, "'abc'"),
        ("abcdef", 3, "'abc…'"),
        (b"\xff", 10, "'\ufffd'"),
        (None, 10, "'None'"),
    ],
    ids=["bytes", "cut", "bad-utf8", "none"],
)
def test_quote(value: object, limit: int, text: str) -> None:
    assert quote(value, limit) == text
