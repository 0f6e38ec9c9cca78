"""DiskStore: faust's memory store with its records in RocksDB, record for record the same."""

from __future__ import annotations

import asyncio
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import faust
import pytest
from faust.stores import memory
from faust.types import TP
from hypothesis import given, settings as hsettings
from hypothesis import strategies as st

from deskwatch.processors.disk_store import DISK_STORE_URL, DiskMapping, DiskStore, stored_bytes
from deskwatch.processors.host_table import HostStateTable
from deskwatch.processors.stage1 import HostState, IdBucket


def _identity(value: Any) -> Any:
    return value


def _event(key: bytes, value: bytes | None, partition: int) -> Any:
    """A changelog record as faust's recovery hands it to a store."""
    return SimpleNamespace(key=key, value=value, message=SimpleNamespace(value=value, partition=partition))


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


def test_a_database_left_by_an_earlier_worker_is_emptied_when_opened(tmp_path: Path) -> None:
    """The changelog is read from its start at each start: a record left on disk is stale."""
    disk = DiskMapping(tmp_path / "db")
    disk[b"h@PC-1"] = b"old"
    disk.close()
    again = DiskMapping(tmp_path / "db")
    assert b"h@PC-1" not in again and len(again) == 0
    again.close()


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
        tps = {TP("t-changelog", p) for p in active}
        asyncio.run(mem.on_recovery_completed(tps, set()))
        asyncio.run(disk.on_recovery_completed(tps, set()))
        assert dict(disk.disk.items()) == dict(mem.data)
    finally:
        disk.disk.close()


def test_a_record_written_by_the_worker_is_kept_when_partitions_move(app: faust.App) -> None:
    """As in the memory store, only recovered records are indexed by partition: a key the worker
    wrote itself stays until recovery of its partition rewrites or deletes it."""
    mem, disk = _stores(app)
    try:
        for store in (mem, disk):
            store.apply_changelog_batch([_event(b"h@A", b"1", 0), _event(b"h@B", b"2", 1)], _identity, _identity)
            store[b"h@C"] = b"3"
            asyncio.run(store.on_recovery_completed({TP("t-changelog", 1)}, set()))
        assert dict(disk.disk.items()) == dict(mem.data) == {b"h@B": b"2", b"h@C": b"3"}
        assert disk.get(b"h@B") == b"2" and disk.get(b"h@A") is None and b"h@C" in disk
        assert disk.pop(b"h@C") == b"3" and disk.pop(b"h@C", b"gone") == b"gone"
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
        for n in range(1_000):
            disk[b"h@PC-%d" % n] = bytes(1_000)
        after = stored_bytes(SimpleNamespace(data=disk))
        assert empty is not None and after is not None and after - empty >= 1_000_000
    finally:
        disk.disk.close()
