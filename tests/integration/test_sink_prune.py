"""``deskwatch sink prune`` deletes the daily events and dead-letters indices past the retention,
and only those."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime, timedelta, timezone

import pytest

from deskwatch.components import Component
from deskwatch.connect import elasticsearch_client
from deskwatch.schemas import DeadLetter
from deskwatch.schemas.digest import EventDigest, digest_id
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.encode import dead_letter_item, digest_item
from deskwatch.sinks.elasticsearch.templates import (
    Kind,
    daily_index,
    dead_letters_alias,
    delete_indices,
    ensure_indices,
    events_alias,
    events_index,
)
from tests.prefixed import prefixed
from deskwatch.sinks.elasticsearch.write import Outcome, write_items

from .test_sink_replay import drop_indices

pytestmark = pytest.mark.integration

AGES_DAYS = (0, 29, 31, 45)
LETTER_AGES_DAYS = (0, 45)


@pytest.fixture
def aged_indices(pipeline_settings: Settings) -> Iterator[dict[int, str]]:
    """One digest per age, so one daily events index per age; their names by age."""
    s = pipeline_settings
    now = datetime.now(timezone.utc)
    client = elasticsearch_client(s.elasticsearch)
    ensure_indices(client, s.elasticsearch)
    items = []
    for age in AGES_DAYS:
        at = now - timedelta(days=age)
        d = EventDigest(digest_id=digest_id(f"fp{age}", at), fingerprint=f"fp{age}", window_start=at, repeat_count=1,
                        first_seen=at, last_seen=at, host="PC-1", provider="disk", event_code="7", template="t")
        items.append(digest_item(d, s.elasticsearch, f"t:0:{age}", b""))
    for age in LETTER_AGES_DAYS:  # dead letters' daily indices go by the same retention
        letter = DeadLetter.of(reason="invalid_json", detail="", stage="producer", source="f", position=age,
                               original=b"x").model_copy(update={"rejected_at": now - timedelta(days=age)})
        items.append(dead_letter_item(letter, s.elasticsearch, f"dl:0:{age}", b""))
    assert write_items(client, items, 1.0, refresh=True).counts[Outcome.INDEXED] == len(items)
    client.close()
    yield {age: events_index(s.elasticsearch, now - timedelta(days=age)) for age in AGES_DAYS}
    drop_indices(s)


def test_prune_deletes_only_indices_older_than_the_retention(
    pipeline_settings: Settings, aged_indices: dict[int, str], launch: Callable[..., Component]
) -> None:
    prune = launch("sink", "prune", "--days", "30")
    assert prune.proc.wait(60) == 0, prune.tail()
    assert "deleted 3 daily index(es) older than 30 day(s)" in prune.tail()
    es = pipeline_settings.elasticsearch
    client = elasticsearch_client(es)
    left = set(client.indices.get(index=f"{events_alias(es)}-*"))
    letters_left = set(client.indices.get(index=f"{dead_letters_alias(es)}-*"))
    client.close()
    assert left == {aged_indices[0], aged_indices[29]}
    assert letters_left == {daily_index(es, Kind.DEAD_LETTERS, datetime.now(timezone.utc))}


def test_delete_indices_takes_only_the_names_that_begin_with_the_start(settings: Settings) -> None:
    mine, other = prefixed(settings, 1), prefixed(settings, 1)
    client = elasticsearch_client(settings.elasticsearch)
    try:
        made = {name: ensure_indices(client, s.elasticsearch) for name, s in (("mine", mine), ("other", other))}
        start = f"{mine.elasticsearch.index_prefix}-"
        deleted = delete_indices(client, start)
        assert deleted and all(d.startswith(start) for d in deleted)
        left = set(client.indices.get(index=f"{settings.elasticsearch.index_prefix}-*", allow_no_indices=True))
        assert not {n for n in left if n.startswith(start)}
        assert {n for n in left if n.startswith(f"{other.elasticsearch.index_prefix}-")}, made
        delete_indices(client, f"{other.elasticsearch.index_prefix}-")
    finally:
        client.close()
