"""HostStateTable: a host's header and only its changed id buckets are written, and read back whole."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from deskwatch.processors.host_table import HostStateTable, bucket_key, encode_header, state_records
from deskwatch.processors.stage1 import ContentWindow, HostState, IdBucket

T = datetime(2026, 11, 29, 9, tzinfo=UTC)
HOST = "PC-LYON-01"
WINDOW = ContentWindow(window_start=T, window_s=600, first_seen=T, last_seen=T, count=2)


class Table:
    """A faust table's store (``data``) and changelog topic; ``sent`` is what went out for it."""

    def __init__(self, name: str) -> None:
        self.changelog_topic = name
        self.data: dict[bytes, bytes] = {}


class Tables:
    def __init__(self) -> None:
        self.hosts, self.ids = Table("hosts-changelog"), Table("host-ids-changelog")
        self.sent: list[tuple[str, bytes, bytes | None, bytes]] = []

    def send(self, topic: str, key: bytes, value: bytes | None, headers: None, route: bytes) -> None:
        table = self.hosts if topic == self.hosts.changelog_topic else self.ids
        assert table.data.get(key) == value  # the store holds the value before its record leaves
        self.sent.append((topic, key, value, route))

    def view(self) -> HostStateTable:
        return HostStateTable(self.hosts, self.ids)


def state(**buckets: IdBucket) -> HostState:
    return HostState(host=HOST, watermark=T, id_horizon_ms=3, content={"fp": WINDOW},
                     id_buckets={int(start[1:]): b for start, b in buckets.items()})


A, B, C = IdBucket(ids={"e1": 1}), IdBucket(ids={"e2": 600_001, "e3": 600_002}), IdBucket(ids={"e4": 1_200_000})


def test_a_first_write_sends_every_bucket_and_the_header_and_reads_back_whole() -> None:
    tables = Tables()
    first = state(s0=A, s600000=B)
    view = tables.view()
    view.stage(HOST, first)
    assert view.flush(tables.send) == 1
    assert [(t, k) for t, k, _, _ in tables.sent] == [
        ("host-ids-changelog", b"0@PC-LYON-01"), ("host-ids-changelog", b"600000@PC-LYON-01"),
        ("hosts-changelog", b"PC-LYON-01")]
    assert {route for *_, route in tables.sent} == {b"PC-LYON-01"}, "every record on the host's partition"
    assert b'"e1"' not in tables.hosts.data[b"PC-LYON-01"], "the header holds no ids"
    assert tables.view().get(HOST) == first  # a fresh view (after a restart) assembles it again
    assert [(name, k, v) for name, k, v in state_records(HOST, first)] == [
        ("host-ids", k, v) for _, k, v, _ in tables.sent[:2]] + [("hosts", b"PC-LYON-01", encode_header(first))]


CHANGES = [
    pytest.param(lambda: state(s0=A, s600000=B), [], id="nothing-grew-header-only"),
    pytest.param(lambda: state(s0=A, s600000=IdBucket(ids={**B.ids, "e5": 600_003})),
                 [(b"600000@PC-LYON-01", True)], id="one-bucket-grew"),
    pytest.param(lambda: state(s600000=B, s1200000=C), [(b"1200000@PC-LYON-01", True), (b"0@PC-LYON-01", False)],
                 id="one-new-one-dropped"),
]


@pytest.mark.parametrize(("later", "bucket_writes"), CHANGES)
def test_a_later_write_sends_only_new_bucket_objects_and_tombstones(later, bucket_writes) -> None:
    tables = Tables()
    view = tables.view()
    view.stage(HOST, state(s0=A, s600000=B))
    view.flush(tables.send)
    tables.sent.clear()
    new = later()
    view.stage(HOST, new)
    view.flush(tables.send)
    assert [(k, v is not None) for t, k, v, _ in tables.sent if t == "host-ids-changelog"] == bucket_writes
    assert tables.sent[-1][:2] == ("hosts-changelog", b"PC-LYON-01")
    assert tables.view().get(HOST) == new
    assert set(tables.ids.data) == {bucket_key(HOST, start) for start in new.id_buckets}, "no bucket left behind"


def test_a_bucket_a_crash_left_unwritten_reads_as_empty() -> None:
    tables = Tables()
    view = tables.view()
    view.stage(HOST, state(s0=A, s600000=B))
    view.flush(tables.send)
    del tables.ids.data[bucket_key(HOST, 600_000)]
    got = tables.view().get(HOST)
    assert got is not None and got.id_buckets == {0: A, 600_000: IdBucket()}


def test_forget_reads_the_stores_again_and_an_unknown_host_is_none() -> None:
    tables = Tables()
    view = tables.view()
    assert view.get(HOST) is None
    view.stage(HOST, state(s0=A))
    assert view.get(HOST) == state(s0=A)  # staged: seen before the flush
    view.forget()
    assert view.get(HOST) is None, "forget drops what was staged and never flushed"
    view.stage(HOST, state(s0=A))
    view.flush(tables.send)
    tables.hosts.data[HOST.encode()] = encode_header(state(s0=A, s600000=B))
    tables.ids.data[bucket_key(HOST, 600_000)] = B.model_dump_json().encode()
    assert view.get(HOST) == state(s0=A), "served from the cache"
    view.forget()
    assert view.get(HOST) == state(s0=A, s600000=B), "read again from the stores"
