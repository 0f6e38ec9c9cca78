"""A batch's writes of one document coalesced to its newest version; the older ones held back, in
order, for when Elasticsearch refuses the newer for good."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from deskwatch.sinks.elasticsearch.coalesce import Coalesced, doc_key
from deskwatch.sinks.elasticsearch.encode import BulkItem


def _item(doc: str, version: int, offset: int, index: str = "ix") -> BulkItem:
    return BulkItem(index=index, doc_id=doc, version=version, body=b"{}", origin=f"t:0:{offset}", original=b"x")


def test_newest_of_each_document_in_first_read_order() -> None:
    items = [_item("a", 1, 0), _item("b", 5, 1), _item("a", 3, 2), _item("a", 2, 3), _item("b", 4, 4)]
    batch = Coalesced(items)
    assert [(i.doc_id, i.version) for i in batch.heads] == [("a", 3), ("b", 5)]
    assert batch.held == 3


def test_same_id_in_two_indices_is_two_documents() -> None:
    batch = Coalesced([_item("a", 1, 0, "events-1"), _item("a", 1, 1, "events-2")])
    assert len(batch.heads) == 2 and batch.held == 0


def test_an_equal_version_is_held_and_the_first_read_kept() -> None:
    first, replay = _item("a", 2, 0), _item("a", 2, 7)
    batch = Coalesced([first, replay])
    assert batch.heads == [first] and batch.held == 1


def test_a_refused_write_hands_out_the_next_newest_until_none_is_left() -> None:
    items = [_item("a", 1, 0), _item("a", 3, 1), _item("a", 2, 2), _item("b", 1, 3)]
    batch = Coalesced(items)
    head = batch.heads[0]
    second = batch.instead_of(head)
    assert second is not None and second.version == 2
    third = batch.instead_of(second)
    assert third is not None and third.version == 1
    assert batch.instead_of(third) is None and batch.held == 0
    assert batch.instead_of(batch.heads[1]) is None, "b had one write: nothing held"


@given(st.lists(st.tuples(st.sampled_from("abcd"), st.integers(1, 5)), max_size=30))
def test_refusing_every_head_in_turn_writes_every_item_once_newest_first(pairs: list[tuple[str, int]]) -> None:
    items = [_item(doc, version, offset) for offset, (doc, version) in enumerate(pairs)]
    batch = Coalesced(items)
    handed: list[BulkItem] = []
    pending = list(batch.heads)
    while pending:  # as the sink does when Elasticsearch refuses every write of a round
        handed += pending
        pending = [older for older in map(batch.instead_of, pending) if older is not None]
    assert sorted(handed, key=lambda i: i.origin) == sorted(items, key=lambda i: i.origin)
    for key in {doc_key(i) for i in items}:
        versions = [i.version for i in handed if doc_key(i) == key]
        assert versions == sorted(versions, reverse=True)
    assert batch.held == 0
