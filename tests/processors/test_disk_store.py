"""DiskStore: faust's memory store with its records in RocksDB, record for record the same, kept
across restarts as a prefix of the changelog that the broker acknowledged."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
import pytest
import rocksdict
from faust.stores import memory
from faust.types import TP
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st

from deskwatch.processors.disk_store import DISK_STORE_URL, DiskMapping, DiskStore, stored_bytes
from deskwatch.processors.host_table import HostStateTable
from deskwatch.processors.stage1 import HostState, IdBucket


def _identity(value: Any) -> Any:
    return value


def _event(key: bytes, value: bytes | None, partition: int, offset: int = 0) -> Any:
    """A changelog record as faust's recovery hands it to a store."""
    return SimpleNamespace(key=key, value=value,
                           message=SimpleNamespace(value=value, partition=partition, offset=offset))


def _acked(offset: int) -> asyncio.Future[Any]:
    """A record batch's delivery the broker acknowledged at ``offset`` (its first record's)."""
    delivery: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    delivery.set_result(SimpleNamespace(offset=offset))
    return delivery


@pytest.fixture
def app(tmp_path: Path) -> faust.App:
    return faust.App("disk-store-test", datadir=str(tmp_path / "data"))


def _stores(app: faust.App) -> tuple[memory.Store[bytes, bytes], DiskStore]:
    return (memory.Store("memory://", app, None, table_name="t"),  # type: ignore[arg-type]
            DiskStore(DISK_STORE_URL, app, None, table_name="t"))


def test_the_mapping_reads_writes_and_deletes_bytes(tmp_path: Path) -> None:
    disk = DiskMapping(tmp_path / "db")
    disk[b"h@PC-1"] = b"header"
    disk[b"c3@PC-1"] = b"shard"
    assert disk[b"h@PC-1"] == b"header" and disk.get(b"h@PC-1") == b"header"
    assert disk.get(b"missing") is None and disk.get(b"missing", b"d") == b"d"
    assert b"c3@PC-1" in disk and b"missing" not in disk
    assert "h@PC-1" not in disk  # type: ignore[comparison-overlap]  # text is never a key
    assert sorted(disk) == [b"c3@PC-1", b"h@PC-1"] and len(disk) == 2
    assert disk.pop(b"c3@PC-1") == b"shard" and disk.pop(b"c3@PC-1", None) is None
    with pytest.raises(KeyError):
        disk[b"c3@PC-1"]
    with pytest.raises(KeyError):
        del disk[b"c3@PC-1"]
    disk.update({b"a": b"1", b"b": b"2"})
    disk.clear()
    assert len(disk) == 0
    disk.close()


def test_the_database_folder_is_the_workers_own(tmp_path: Path) -> None:
    disk = DiskMapping(tmp_path / "tables" / "db")
    try:
        assert (tmp_path / "tables").stat().st_mode & 0o777 == 0o700
    finally:
        disk.close()


def test_only_what_the_broker_acknowledged_reaches_the_disk_with_its_offset(tmp_path: Path) -> None:
    """Written and sent, a record is read back at once but stored only once its batch is
    acknowledged; a worker killed before that leaves nothing of it, and no offset past it."""
    disk = DiskMapping(tmp_path / "db")
    disk.resume("topic-1")
    disk.hold({0}, {})

    async def scenario() -> None:
        disk[b"h@A"] = b"a1"
        disk[b"h@B"] = b"b1"
        first = asyncio.get_running_loop().create_future()
        disk.track(0, first, [(b"h@A", b"a1"), (b"h@B", b"b1")])
        disk[b"h@A"] = b"a2"  # written again before the first batch is acknowledged
        disk.pop(b"h@B")
        disk.track(0, _acked(2), [(b"h@A", b"a2"), (b"h@B", None)])
        await asyncio.sleep(0)
        assert disk.persisted_offset(0) is None, "the later batch waits for the earlier one"
        assert disk.get(b"h@A") == b"a2" and b"h@B" not in disk
        first.set_result(SimpleNamespace(offset=0))
        await asyncio.sleep(0)
        assert disk.persisted_offset(0) == 3  # the second batch's last record (its records are 2 and 3)
        disk[b"h@C"] = b"c1"  # sent, never acknowledged: the worker is killed
        disk.track(0, asyncio.get_running_loop().create_future(), [(b"h@C", b"c1")])

    asyncio.run(scenario())
    assert sorted(disk) == [b"h@A", b"h@C"]
    disk.close()
    again = DiskMapping(tmp_path / "db")
    assert again.resume("topic-1") is None, "kept: the same changelog, written just now"
    assert dict(again.items()) == {b"h@A": b"a2"} and again.persisted_offset(0) == 3
    again.close()


def test_a_refused_batch_stops_what_follows_it_from_reaching_the_disk(tmp_path: Path) -> None:
    disk = DiskMapping(tmp_path / "db")
    disk.resume("topic-1")
    disk.hold({0}, {})

    async def scenario() -> None:
        refused = asyncio.get_running_loop().create_future()
        refused.set_exception(RuntimeError("not the leader"))
        disk.track(0, _acked(0), [(b"h@A", b"a1")])
        disk.track(0, refused, [(b"h@B", b"b1")])
        disk.track(0, _acked(2), [(b"h@C", b"c1")])
        await asyncio.sleep(0)

    asyncio.run(scenario())
    assert disk.persisted_offset(0) == 0 and b"h@A" in disk and b"h@C" not in disk
    disk.close()


def _left_behind(path: Path, changelog_id: str) -> None:
    """A database an earlier worker wrote for ``changelog_id``: one record at offset 7 of partition 1."""
    disk = DiskMapping(path)
    disk.resume(changelog_id)
    disk.hold({1}, {})
    disk.apply([(b"h@A", b"a", 1, 7)])
    disk.close()


@pytest.mark.parametrize(("changelog_id", "later_s", "why"), [
    ("topic-1", 60.0, None),
    ("topic-2", 60.0, "written for another changelog (or one deleted and created again)"),
    (None, 60.0, "the changelog's topic id is unknown"),
    ("topic-1", 13 * 3600.0, "written more than 12 h ago"),
])
def test_what_an_earlier_worker_left_is_kept_only_when_it_can_be_trusted(
        tmp_path: Path, changelog_id: str | None, later_s: float, why: str | None) -> None:
    _left_behind(tmp_path / "db", "topic-1")
    disk = DiskMapping(tmp_path / "db")
    assert disk.resume(changelog_id, now=time.time() + later_s) == why
    kept = why is None
    assert (dict(disk.items()), disk.persisted_offset(1)) == (({b"h@A": b"a"}, 7) if kept else ({}, None))
    disk.close()


def test_a_database_of_the_earlier_format_is_emptied(tmp_path: Path) -> None:
    """Format 1 kept no offsets and was emptied at each start: nothing in it says what it holds."""
    old = rocksdict.Rdict(str(tmp_path / "db"), options=rocksdict.Options(raw_mode=True))
    old[b"h@A"] = b"a"
    old.close()
    disk = DiskMapping(tmp_path / "db")
    assert disk.resume("topic-1") == "written by another version"
    assert len(disk) == 0
    disk.close()


def test_an_unreadable_database_is_replaced(tmp_path: Path) -> None:
    (tmp_path / "db").mkdir()
    (tmp_path / "db" / "CURRENT").write_text("not a manifest\n")
    disk = DiskMapping(tmp_path / "db")
    assert disk.resume("topic-1") is None and len(disk) == 0
    disk.close()


def test_held_partitions_without_an_offset_or_past_the_changelog_end_are_read_again(tmp_path: Path) -> None:
    """Before recovery: a standby's records (no offset) and a partition whose offset is at or past
    the changelog's end (a broker that lost records) are dropped; the rest is read on from."""
    disk = DiskMapping(tmp_path / "db")
    disk.resume("topic-1")
    disk.hold({0, 1}, {})
    disk.apply([(b"h@A", b"a", 0, 4), (b"h@B", b"b", 1, 9)])
    disk.hold({0}, {})
    disk.apply([(b"h@S", b"standby", 2, 3)])  # a standby partition: applied without an offset
    assert disk.offsets == {0: 4, 1: 9}
    assert disk.hold({0, 1, 2}, {0: 5, 1: 9, 2: 4}) == [1, 2]
    assert dict(disk.items()) == {b"h@A": b"a"} and disk.offsets == {0: 4}
    disk.close()


records = st.lists(st.tuples(st.sampled_from([b"h@A", b"h@B", b"c1@A", b"i0@B", b"h@C"]),
                             st.one_of(st.none(), st.binary(min_size=1, max_size=8)),
                             st.integers(0, 3)), max_size=30)


@hsettings(max_examples=60, deadline=None)
@given(batches=st.lists(records, max_size=4), active=st.sets(st.integers(0, 3)))
def test_recovery_leaves_what_the_memory_store_leaves(tmp_path_factory: pytest.TempPathFactory,
                                                       batches: list[list[tuple[bytes, bytes | None, int]]],
                                                       active: set[int]) -> None:
    """Changelog batches (tombstones among them), then the partitions kept once recovery is over:
    the same keys and values as faust's own memory store, after each step."""
    app = faust.App("disk-store-test", datadir=str(tmp_path_factory.mktemp("data")))
    mem, disk = _stores(app)
    try:
        for batch in batches:
            events = [_event(*record) for record in batch]
            mem.apply_changelog_batch(events, _identity, _identity)
            disk.apply_changelog_batch(events, _identity, _identity)
            assert dict(disk.disk.items()) == dict(mem.data)
        assert disk.disk.offsets == {}, "no partition held: none has an offset"
        tps = {TP("t-changelog", p) for p in active}
        asyncio.run(mem.on_recovery_completed(tps, set()))
        asyncio.run(disk.on_recovery_completed(tps, set()))
        assert dict(disk.disk.items()) == dict(mem.data)
    finally:
        disk.disk.close()


def test_the_partitions_not_held_are_dropped_with_their_offsets_once_recovery_is_over(app: faust.App) -> None:
    """Unlike the memory store, a record the worker wrote is filed under its partition once
    acknowledged, so it goes with the partition: if that partition comes back, it is read from
    its start. A write not acknowledged yet stays in memory until it is."""
    _, disk = _stores(app)
    try:
        disk.disk.resume("topic-1")
        disk.disk.hold({0, 1}, {})
        disk.apply_changelog_batch([_event(b"h@A", b"1", 0, 5), _event(b"h@B", b"2", 1, 8)], _identity, _identity)

        async def written() -> None:
            disk[b"h@C"] = b"3"
            disk.disk.track(0, _acked(6), [(b"h@C", b"3")])
            disk[b"h@D"] = b"4"  # not acknowledged yet
            await asyncio.sleep(0)
            await disk.on_recovery_completed({TP("t-changelog", 1)}, set())

        asyncio.run(written())
        assert dict(disk.disk.items()) == {b"h@B": b"2", b"h@D": b"4"}
        assert disk.persisted_offset(TP("t-changelog", 1)) == 8 and disk.persisted_offset(TP("t-changelog", 0)) is None
        assert disk.get(b"h@B") == b"2" and disk.get(b"h@A") is None and b"h@D" in disk
        assert disk.pop(b"h@D") == b"4" and disk.pop(b"h@D", b"gone") == b"gone"
    finally:
        disk.disk.close()


def test_the_host_table_reads_back_what_it_wrote_through_the_disk_store(app: faust.App) -> None:
    """HostStateTable over a table whose store is on disk: a state written, its cache forgotten,
    the same state assembled from the records on disk."""
    _, disk = _stores(app)
    try:
        table = SimpleNamespace(data=disk, changelog_topic="host-state-changelog")
        hosts = HostStateTable(table)
        state = HostState(host="PC-1", id_buckets={0: IdBucket(hashed=True, ids={"k": 5})})
        sent: list[tuple[bytes, bytes | None]] = []
        hosts.stage("PC-1", state)
        hosts.flush(lambda _changelog, _route, unit: sent.extend(unit))
        assert sent and all(disk.get(key) == value for key, value in sent)
        hosts.forget()
        again = hosts.get("PC-1")
        assert again is not None and again.model_dump() == state.model_dump()
    finally:
        disk.disk.close()


def test_the_bytes_stored_on_disk_are_said_only_for_disk_stores(app: faust.App) -> None:
    mem, disk = _stores(app)
    try:
        assert stored_bytes(SimpleNamespace(data=mem)) is None
        empty = stored_bytes(SimpleNamespace(data=mem), SimpleNamespace(data=disk))
        disk.apply_changelog_batch([_event(b"h@PC-%d" % n, bytes(1_000), 0, n) for n in range(1_000)],
                                   _identity, _identity)
        after = stored_bytes(SimpleNamespace(data=disk))
        assert empty is not None and after is not None and after - empty >= 1_000_000
    finally:
        disk.disk.close()
