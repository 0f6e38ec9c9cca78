"""Which daily indices (events, dead letters) retention deletes."""

from __future__ import annotations

from datetime import date

import pytest

from deskwatch.settings import ElasticsearchSettings
from deskwatch.sinks.elasticsearch.prune import expired_indices

ES = ElasticsearchSettings(index_prefix="dw")
TODAY = date(2026, 11, 29)


@pytest.mark.parametrize(
    ("names", "days", "expected"),
    [
        (["dw-events-2026.11.19", "dw-events-2026.11.18", "dw-events-2026.11.29"], 10, ["dw-events-2026.11.18"]),
        (["dw-events-2026.11.28"], 1, []),
        (["dw-events-2026.11.27"], 1, ["dw-events-2026.11.27"]),
        (["dw-incidents-000001", "dw-events-junk", "x-events-2020.01.01"], 1, []),
        (["dw-dead-letters-2026.11.27", "dw-dead-letters-2026.11.28", "dw-dead-letters-junk"], 1,
         ["dw-dead-letters-2026.11.27"]),
    ],
    ids=["older-than-window", "yesterday-kept", "two-days-old-gone", "foreign-names-never", "dead-letters-alike"],
)
def test_expired_indices(names: list[str], days: int, expected: list[str]) -> None:
    assert expired_indices(ES, names, TODAY, days) == expected
