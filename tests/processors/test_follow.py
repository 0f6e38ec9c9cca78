"""CompactedFollower: the latest value per key; a change is announced once per poll, and only a change."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from deskwatch.processors.follow import CompactedFollower
from deskwatch.settings import KafkaSettings


def record(key: bytes | None, value: bytes | None) -> SimpleNamespace:
    return SimpleNamespace(key=key, value=value)


@pytest.mark.parametrize(
    ("polls", "values", "changes"),
    [
        pytest.param([[record(b"a", b"1"), record(b"b", b"2")]], {b"a": b"1", b"b": b"2"}, 1, id="one-poll-one-change"),
        pytest.param([[record(b"a", b"1")], [record(b"a", b"1")]], {b"a": b"1"}, 1, id="same-value-again-no-change"),
        pytest.param([[record(b"a", b"1")], [record(b"a", b"2")]], {b"a": b"2"}, 2, id="new-value"),
        pytest.param([[record(b"a", b"1")], [record(b"a", None)]], {}, 2, id="tombstone"),
        pytest.param([[record(b"a", None), record(None, b"x")]], {}, 0, id="tombstone-of-unknown-and-keyless"),
    ],
)
def test_values_and_changes(polls: list[list[SimpleNamespace]], values: dict[bytes, bytes], changes: int) -> None:
    seen: list[None] = []
    follower = CompactedFollower(KafkaSettings(), "p.inventory", on_change=lambda: seen.append(None))
    for poll in polls:
        follower._apply(poll)
    assert dict(follower.items()) == values
    assert len(seen) == changes
