"""ModelTable: staged writes are seen at once and reach the table once per key per flush."""

from __future__ import annotations

import pytest
from pydantic import BaseModel

from deskwatch.processors.fields_set import every_field_set
from deskwatch.processors.views import DecodedMapping, ModelTable
from deskwatch.schemas.asset import Asset


class Count(BaseModel):
    n: int


CHANGELOG = object()


class RecordingTable(dict[bytes, bytes]):
    """A bytes table with a store (itself) and a changelog topic; ``writes`` is what was sent to it."""

    changelog_topic = CHANGELOG

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[tuple[bytes, bytes]] = []

    @property
    def data(self) -> RecordingTable:
        return self

    def send(self, table: object, route: bytes, unit: list[tuple[bytes, bytes | None]]) -> None:
        assert table is self
        [(key, value)] = unit  # one record per key, on the key's own partition
        assert route == key
        assert self[key] == value  # the store holds the value before its changelog record leaves
        self.writes.append((key, value))


def _view() -> tuple[RecordingTable, ModelTable[Count]]:
    table = RecordingTable()
    return table, ModelTable(table, Count)


@pytest.mark.parametrize(
    ("staged", "expected_writes"),
    [
        pytest.param([("a", 1)], [(b"a", b'{"n":1}')], id="one-key"),
        pytest.param([("a", 1), ("a", 2), ("a", 3)], [(b"a", b'{"n":3}')], id="same-key-thrice-one-write"),
        pytest.param([("a", 1), ("b", 2), ("a", 5)], [(b"a", b'{"n":5}'), (b"b", b'{"n":2}')], id="two-keys"),
        pytest.param([], [], id="nothing-staged"),
    ],
)
def test_flush_writes_each_staged_key_once_with_its_last_value(
    staged: list[tuple[str, int]], expected_writes: list[tuple[bytes, bytes]]
) -> None:
    table, view = _view()
    for key, n in staged:
        view.stage(key, Count(n=n))
    assert table.writes == []  # nothing reaches the table before the flush
    assert view.flush(table.send) == len(expected_writes)
    assert table.writes == expected_writes
    assert view.flush(table.send) == 0  # a second flush has nothing left


def test_get_sees_a_staged_value_before_the_flush_and_keys_lists_it() -> None:
    table, view = _view()
    table[b"old"] = b'{"n":7}'
    view.stage("new", Count(n=1))
    view.stage("old", Count(n=8))
    assert view.get("new") == Count(n=1)
    assert view.get("old") == Count(n=8)
    assert sorted(view.keys()) == ["new", "old"]


def test_forget_drops_staged_and_cached_values() -> None:
    table, view = _view()
    table[b"k"] = b'{"n":1}'
    assert view.get("k") == Count(n=1)
    table[b"k"] = b'{"n":2}'  # another worker wrote it meanwhile
    view.stage("other", Count(n=3))
    view.forget()
    assert view.get("k") == Count(n=2)
    assert view.get("other") is None
    assert view.flush(table.send) == 0


def test_the_cache_keeps_the_most_recently_used_keys_and_evicts_only_at_a_flush() -> None:
    table = RecordingTable()
    view = ModelTable(table, Count, cache_max=2)
    for key in "abc":
        view.stage(key, Count(n=ord(key)))
    view.flush(table.send)
    assert list(view._cache) == ["b", "c"], "the least recently written key went"
    assert view.get("b") == Count(n=ord("b"))  # b is now the most recently used
    for key in "de":  # a batch touching more keys than the cache holds keeps them all until its flush
        view.stage(key, Count(n=ord(key)))
        assert view.get(key) is not None
    assert view.get("a") == Count(n=ord("a")), "an evicted key is read again from the store"
    assert len(view._cache) == 3  # b, c and a: nothing is evicted before the flush
    view.flush(table.send)
    assert list(view._cache) == ["d", "e"]


def test_an_evicted_key_reads_back_as_written() -> None:
    table = RecordingTable()
    view = ModelTable(table, Count, cache_max=1)
    for n in range(5):
        for key in ("a", "b"):
            current = view.get(key)
            view.stage(key, Count(n=(current.n if current else 0) + n))
        view.flush(table.send)
    assert (view.get("a"), view.get("b")) == (Count(n=10), Count(n=10))


def test_decoded_values_share_their_fields_sets() -> None:
    asset = Asset(host="pc-1", site="LYON", directorate="FIN", os_build="10.0.19045", model="M", device_class="laptop")
    view = DecodedMapping({b"pc-1": asset.model_dump_json().encode()}, Asset)
    assert view["pc-1"] == asset
    assert view["pc-1"].__pydantic_fields_set__ is every_field_set(Asset)
    table = RecordingTable()
    written = ModelTable(table, Asset)
    written.stage("pc-1", asset)
    written.flush(table.send)
    read = ModelTable(table, Asset).get("pc-1")
    assert read == asset and read.__pydantic_fields_set__ is every_field_set(Asset)


def test_a_weighed_cache_keeps_its_values_estimated_bytes_under_its_bound_least_recently_used_going_first() -> None:
    table = RecordingTable()
    view = ModelTable(table, Count, cache_max=100, cache_max_bytes=10, weigh=lambda c: c.n)
    for key, n in (("a", 4), ("b", 4), ("c", 4)):
        view.stage(key, Count(n=n))
    view.flush(table.send)
    assert list(view._cache) == ["b", "c"] and view.cached == (2, 8), "a went: 12 bytes are over 10"
    view.stage("b", Count(n=9))  # b grows: its new weight replaces its old one
    view.flush(table.send)
    assert list(view._cache) == ["b"] and view.cached == (1, 9)
    assert view.get("a") == Count(n=4), "an evicted key is read again from the store, and weighed"
    assert view.cached == (2, 13), "a read is kept until the next flush"
    view.flush(table.send)
    assert list(view._cache) == ["a"] and view.cached == (1, 4)
    view.stage("huge", Count(n=50))  # heavier than the whole bound: written, then not kept
    view.flush(table.send)
    assert view.cached == (0, 0) and view.get("huge") == Count(n=50)
    view.forget()
    assert view.cached == (0, 0)


def test_a_cache_bounded_by_count_alone_weighs_nothing() -> None:
    table = RecordingTable()
    view = ModelTable(table, Count, cache_max=2, weigh=lambda c: c.n)  # no byte bound: weigh unused
    for key in "abc":
        view.stage(key, Count(n=10**9))
    view.flush(table.send)
    assert view.cached == (2, 0)
