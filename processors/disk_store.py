"""The processor's tables on disk: faust's in-memory store, with its two mappings in RocksDB.

``processor.state_store: disk`` gives both tables (``host-state``, ``groups``) this store instead
of ``memory://``. A worker then keeps in memory only its decoded-state caches
(``processor.state_cache_max_mib``, ``group_cache_max_mib``) and RocksDB's own buffers
(``WRITE_BUFFER_BYTES``, ``BLOCK_CACHE_BYTES``), not every stored record: a fleet whose hosts all
reach the id cap (~140 KiB of records each) outgrows 1 GiB at ~7,500 hosts in memory.

It behaves as faust-streaming's memory store does, record for record, so nothing else changes:
- the changelog stays the only durable copy. The database is emptied when the worker opens it
  and recovery reads every changelog partition from its start, as with ``memory://``
  (``persisted_offset`` is ``None``); a worker killed mid-batch resumes from the changelog alone.
- recovery applies a batch of changelog records as the memory store does (a tombstone deletes),
  in one write batch, and remembers each key's partition; once recovery is over, the keys of the
  partitions this worker no longer holds are dropped (faust's ``on_recovery_completed``).
- deskwatch's own writes (processors/host_table.py, processors/views.py) go through ``data`` as a
  mapping of bytes to bytes, as they go into the memory store's dict.

Decision: a store of deskwatch's own, not faust's ``rocksdb://`` (bench/RESULTS.md, 2026-12-06):
that one files each write under the partition of the event being processed and resumes from
changelog offsets it records only for its own sends, while deskwatch writes a batch's state after
its events, through its own outbox. Keeping the memory store's behaviour and moving only where its
bytes live is the smallest change that bounds memory; persisted offsets (a restart that reads only
the changelog's tail) would be the next, and need the outbox's acknowledged offsets recorded here.

Decision: rocksdict (RocksDB's maintained Python binding, a manylinux wheel; Quix Streams and
faust-streaming's own rocksdb store use it) rather than a hand-written log-structured file: the
state is rewritten in place at ~4 us a record and read back by key, which is what an LSM tree is
for. Values are stored as the table gives them (already zstd-compressed, processors/state_codec.py),
without the write-ahead log (the database is rebuilt from the changelog at each start anyway).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable, Iterator, MutableMapping
from pathlib import Path
from typing import Any, Final, cast

import faust.stores
import rocksdict
from faust.stores import memory
from faust.types import TP

# A host part: yarl reads a URL with none as false, and faust then takes the app's store instead.
DISK_STORE_URL: Final = "deskwatch-disk://local"
# RocksDB's memory beside the decoded-state caches: two memtables and a block cache of this size.
WRITE_BUFFER_BYTES: Final = 16 << 20
BLOCK_CACHE_BYTES: Final = 32 << 20
_PARTITIONS: Final = "partitions"  # column family: key -> the partition it was recovered from
_PART_BYTES: Final = 2


def _options() -> rocksdict.Options:
    options = rocksdict.Options(raw_mode=True)
    options.create_if_missing(True)
    options.create_missing_column_families(True)
    options.set_compression_type(rocksdict.DBCompressionType.none())  # values are zstd already
    options.set_write_buffer_size(WRITE_BUFFER_BYTES)
    options.set_max_write_buffer_number(2)
    table = rocksdict.BlockBasedOptions()
    table.set_block_cache(rocksdict.Cache(BLOCK_CACHE_BYTES))
    options.set_block_based_table_factory(table)
    return options


class DiskMapping(MutableMapping[bytes, bytes]):
    """A RocksDB database as a mapping of bytes to bytes, emptied when opened, with the partition
    each recovered key came from beside it (the memory store's ``_key_partition``)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        if path.exists():
            shutil.rmtree(path)  # rebuilt from the changelog: what a previous worker left is stale
        # the records name hosts and their events' keys: readable by the worker's user only
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        options = _options()
        self._db = rocksdict.Rdict(str(path), options=options, column_families={_PARTITIONS: options})
        self._partitions_handle = self._db.get_column_family_handle(_PARTITIONS)
        write_options = rocksdict.WriteOptions()
        write_options.disable_wal = True  # type: ignore[assignment]  # a property (the stub says a method)
        self._db.set_write_options(write_options)

    # the mapping (what the host and group tables read and write)
    def get(self, key: bytes, default: Any = None) -> Any:
        value = self._db.get(key)
        return default if value is None else value

    def __getitem__(self, key: bytes) -> bytes:
        value = self._db.get(key)
        if value is None:
            raise KeyError(key)
        return value  # type: ignore[no-any-return]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._db.put(key, value)

    def __delitem__(self, key: bytes) -> None:
        if self._db.get(key) is None:
            raise KeyError(key)
        self._db.delete(key)

    def pop(self, key: bytes, default: Any = None) -> Any:
        value = self._db.get(key)
        if value is None:
            return default
        self._db.delete(key)
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, bytes) and self._db.get(key) is not None

    def __iter__(self) -> Iterator[bytes]:
        return iter(cast("Iterable[bytes]", self._db.keys()))

    def __len__(self) -> int:
        return sum(1 for _ in self._db.keys())

    def clear(self) -> None:
        batch = rocksdict.WriteBatch(raw_mode=True)
        for key in self._db.keys():
            batch.delete(key)
        for key in self._partition_index().keys():
            batch.delete(key, self._partitions_handle)
        self._db.write(batch)

    # recovery (what the store below calls)
    def apply(self, records: Iterable[tuple[bytes, bytes | None, int]]) -> None:
        """Write a batch of changelog records ``(key, value or None for a tombstone, partition)``
        at once: the last of a key wins, and a key's partition is the one it was last read from."""
        batch, handle = rocksdict.WriteBatch(raw_mode=True), self._partitions_handle
        for key, value, partition in records:
            if value is None:
                batch.delete(key)
                batch.delete(key, handle)
            else:
                batch.put(key, value)
                batch.put(key, partition.to_bytes(_PART_BYTES, "big"), handle)
        self._db.write(batch)

    def drop_partitions_except(self, kept: set[int]) -> int:
        """Delete every recovered key whose partition is not in ``kept``; returns how many."""
        batch, dropped, handle = rocksdict.WriteBatch(raw_mode=True), 0, self._partitions_handle
        for key, partition in self._partition_index().items():
            if int.from_bytes(partition, "big") not in kept:
                batch.delete(key)
                batch.delete(key, handle)
                dropped += 1
        if dropped:
            self._db.write(batch)
        return dropped

    def stored_bytes(self) -> int:
        """RocksDB's estimate of the records' bytes: on disk, and in its memtables not flushed yet."""
        live = self._db.property_int_value("rocksdb.estimate-live-data-size") or 0
        return int(live) + int(self._db.property_int_value("rocksdb.cur-size-all-mem-tables") or 0)

    def _partition_index(self) -> Any:
        return self._db.get_column_family(_PARTITIONS)  # dropped by the caller: it holds the database open

    def close(self) -> None:
        del self._partitions_handle  # a column family's handle holds the database open too
        self._db.close()


class DiskStore(memory.Store[bytes, bytes]):
    """faust's memory store with its ``data`` in a :class:`DiskMapping` under the app's table dir."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # the memory store's dicts, made before ``app`` is set
        self.data = self.disk = DiskMapping(Path(self.app.conf.tabledir) / f"{self.table_name}.rocksdb")
        self._key_partition = {}  # unused: the partitions' index is on disk

    # straight to the mapping: MutableMapping's own get and pop read a key two or three times
    def get(self, key: Any, default: Any = None) -> Any:
        return self.disk.get(key, default)

    def pop(self, key: Any, default: Any = None) -> Any:
        return self.disk.pop(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.disk

    def _clear(self) -> None:
        self.disk.clear()

    def apply_changelog_batch(self, batch: Iterable[Any], to_key: Callable[[Any], Any],
                              to_value: Callable[[Any], Any]) -> None:
        """As the memory store: the last record of a key in the batch wins, a tombstone deletes."""
        self.disk.apply((to_key(event.key), None if event.message.value is None else to_value(event.value),
                         event.message.partition) for event in batch)

    async def on_recovery_completed(self, active_tps: set[TP], standby_tps: set[TP]) -> None:
        self.disk.drop_partitions_except({partition for _, partition in active_tps})

    # No on_stop closing the database: faust stops the tables' stores before its consumer and
    # agents (a worker's log shows that order), so a batch still being written would hit a closed
    # database. It closes with the process; the next start empties it anyway.


def stored_bytes(*tables: Any) -> int | None:
    """The records' bytes of those of ``tables`` (faust tables) whose store is on disk; ``None`` when
    none is (the memory store's records are not summed: a pass over every key)."""
    disks = [t.data.disk for t in tables if isinstance(t.data, DiskStore)]
    return sum(disk.stored_bytes() for disk in disks) if disks else None


def register_disk_store() -> None:
    """Let faust build a table's store from ``DISK_STORE_URL`` (its registry of store schemes)."""
    faust.stores.STORES.aliases.setdefault(DISK_STORE_URL.split(":", 1)[0], f"{__name__}:DiskStore")
