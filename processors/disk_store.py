"""The processor's tables on disk: faust's in-memory store, with its two mappings in RocksDB, kept
across restarts so that a worker reads only the changelog's tail.

``processor.state_store: disk`` gives both tables (``host-state``, ``groups``) this store instead
of ``memory://``. A worker then keeps in memory only its decoded-state caches
(``processor.state_cache_max_mib``, ``group_cache_max_mib``) and RocksDB's own buffers
(``WRITE_BUFFER_BYTES``, ``BLOCK_CACHE_BYTES``), not every stored record: a fleet whose hosts all
reach the id cap (~140 KiB of records each) outgrows 1 GiB at ~7,500 hosts in memory.

The changelog stays the durable copy; the database holds exactly a prefix of it per partition:
- a record the worker writes goes into the store when its batch's state is sent, but reaches the
  database only once the broker acknowledged its record batch (``track``); until then it is
  pending, and reads see it. Each acknowledged batch is one write batch with the changelog offset
  it ends at (``persisted_offset``). So a crash never leaves on disk a state the changelog lacks: a
  state on disk says its events were processed and a replay skips them, which would lose their
  outputs if the changelog never got it.
- recovery applies a batch of changelog records as the memory store does (the last record of a key
  wins, a tombstone deletes), in one write batch with the offset it reached, and remembers each
  key's partition; faust's recovery then reads each partition from the offset after the one on
  disk, and from its start when none is.
- once recovery is over, the keys and offsets of the partitions this worker does not hold are
  dropped (faust's ``on_recovery_completed``), and before recovery those of the partitions it now
  holds with no offset on disk (a standby's records, applied without one). So a partition that
  comes back is read from its start.
- what a worker left is kept only when it can be trusted (``resume``): written by this format, for
  the same changelog (its Kafka topic id: a topic deleted and created again starts at offset 0
  again), and less than ``TRUSTED_FOR_S`` ago (a tombstone older than Kafka's
  ``delete.retention.ms``, 24 h by default and not changed here, may be compacted away, and the key
  it deleted would stay on disk). Else the database is emptied and recovery reads every partition
  from its start, as the memory store does. An offset on disk above the changelog's end (a broker
  that lost acknowledged records) drops that partition too: faust's recovery would stop the worker.
- deskwatch's own writes (processors/host_table.py, processors/views.py) go through ``data`` as a
  mapping of bytes to bytes, as they go into the memory store's dict.

Decision: a store of deskwatch's own, not faust's ``rocksdb://`` (bench/RESULTS.md, 2026-12-06):
that one files each write under the partition of the event being processed and records offsets
only for faust's own changelog sends, while deskwatch writes a batch's state after its events,
through its own outbox (processors/outbox.py hands each state batch's delivery to ``track``).

Decision: rocksdict (RocksDB's maintained Python binding, a manylinux wheel; Quix Streams and
faust-streaming's own rocksdb store use it) rather than a hand-written log-structured file: the
state is rewritten in place at ~4 us a record and read back by key, which is what an LSM tree is
for. Values are stored as the table gives them (already zstd-compressed, processors/state_codec.py).
The write-ahead log is on, unsynced: a killed worker loses nothing of what it wrote (the OS still
has it), and after a machine's crash RocksDB opens at a consistent earlier point, whose offsets
are read on from.
"""

from __future__ import annotations

import shutil
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import Any, Final, cast

import faust.stores
import rocksdict
import structlog
from faust.stores import memory
from faust.types import TP

log = structlog.get_logger(__name__)

# A host part: yarl reads a URL with none as false, and faust then takes the app's store instead.
DISK_STORE_URL: Final = "deskwatch-disk://local"
# RocksDB's memory beside the decoded-state caches: two memtables and a block cache of this size.
WRITE_BUFFER_BYTES: Final = 16 << 20
BLOCK_CACHE_BYTES: Final = 32 << 20
_PARTITIONS: Final = "partitions"  # column family: key -> the partition its record is on
_OFFSETS: Final = "offsets"  # column family: partition -> the changelog offset the database holds to
_META: Final = "meta"  # column family: what the database was written by, for which changelog, when
_PART_BYTES: Final = 2
_OFFSET_BYTES: Final = 8
_FORMAT: Final = b"2"  # 1 was emptied at each start; 2 keeps offsets (format, changelog, written_at)
# Half Kafka's default delete.retention.ms (24 h; deskwatch's changelogs keep it): a database
# written less long ago has seen every tombstone the changelog may since have compacted away.
TRUSTED_FOR_S: Final = 12 * 3600.0

Records = list[tuple[bytes, bytes | None]]


def _options() -> rocksdict.Options:
    options = rocksdict.Options(raw_mode=True)
    options.create_if_missing(True)
    options.create_missing_column_families(True)
    options.set_compression_type(rocksdict.DBCompressionType.none())  # values are zstd already
    options.set_write_buffer_size(WRITE_BUFFER_BYTES)
    options.set_max_write_buffer_number(2)
    options.set_atomic_flush(True)  # column families flushed together: offsets never ahead of records
    table = rocksdict.BlockBasedOptions()
    table.set_block_cache(rocksdict.Cache(BLOCK_CACHE_BYTES))
    options.set_block_based_table_factory(table)
    return options


def _part(partition: int) -> bytes:
    return partition.to_bytes(_PART_BYTES, "big")


class DiskMapping(MutableMapping[bytes, bytes]):
    """A RocksDB database as a mapping of bytes to bytes, with the partition each key's record is
    on, the changelog offset each partition is held to, and the writes not acknowledged yet."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # the records name hosts and their events' keys: readable by the worker's user only
        path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        path.parent.chmod(0o700)
        try:
            self._db = self._open()
        except Exception as exc:  # noqa: BLE001 - rocksdict raises plain exceptions; the changelog has it all
            log.warning("state database unreadable: emptied", path=str(path), error=f"{type(exc).__name__}: {exc}"[:300])
            shutil.rmtree(path, ignore_errors=True)
            self._db = self._open()
        self._partitions_handle = self._db.get_column_family_handle(_PARTITIONS)
        self._offsets_handle = self._db.get_column_family_handle(_OFFSETS)
        self._meta_handle = self._db.get_column_family_handle(_META)
        self._offsets = {int.from_bytes(p, "big"): int.from_bytes(o, "big")
                         for p, o in self._column(_OFFSETS).items()}
        self._pending: dict[bytes, bytes | None] = {}  # written, not acknowledged: None deletes
        self._unacked: dict[int, deque[tuple[Any, Records]]] = {}  # per partition, in send order
        self.active: set[int] = set()  # the changelog partitions held: only theirs get offsets

    def _open(self) -> rocksdict.Rdict:
        options = _options()
        return rocksdict.Rdict(str(self.path), options=options,
                               column_families={_PARTITIONS: options, _OFFSETS: options, _META: options})

    # the mapping (what the host and group tables read and write)
    def get(self, key: bytes, default: Any = None) -> Any:
        if key in self._pending:
            value = self._pending[key]
        else:
            value = self._db.get(key)
        return default if value is None else value

    def __getitem__(self, key: bytes) -> bytes:
        value = self.get(key)
        if value is None:
            raise KeyError(key)
        return value  # type: ignore[no-any-return]

    def __setitem__(self, key: bytes, value: bytes) -> None:
        self._pending[key] = value

    def __delitem__(self, key: bytes) -> None:
        if self.get(key) is None:
            raise KeyError(key)
        self._pending[key] = None

    def pop(self, key: bytes, default: Any = None) -> Any:
        value = self.get(key)
        if value is None:
            return default
        self._pending[key] = None
        return value

    def __contains__(self, key: object) -> bool:
        return isinstance(key, bytes) and self.get(key) is not None

    def __iter__(self) -> Iterator[bytes]:
        pending = self._pending
        stored = (k for k in cast("Iterable[bytes]", self._db.keys()) if k not in pending)
        return iter([*stored, *(k for k, v in pending.items() if v is not None)])

    def __len__(self) -> int:
        return sum(1 for _ in self)

    def clear(self) -> None:
        """Every record, partition, offset and pending write gone (what was written by whom stays)."""
        batch = rocksdict.WriteBatch(raw_mode=True)
        for key in self._db.keys():
            batch.delete(key)
        for name, handle in ((_PARTITIONS, self._partitions_handle), (_OFFSETS, self._offsets_handle)):
            for key in self._column(name).keys():
                batch.delete(key, handle)
        self._db.write(batch)
        self._pending.clear()
        self._offsets.clear()

    # what a worker left
    def resume(self, changelog_id: str | None, now: float | None = None) -> str | None:
        """Keep what the database holds if it can be trusted (the module says when), else empty
        it; from now on it is written for ``changelog_id``. Returns why it was emptied, or None."""
        now = time.time() if now is None else now
        meta = {k: bytes(v) for k, v in self._column(_META).items()}
        held = bool(self._offsets) or next(iter(self._db.keys()), None) is not None
        reason = None
        if not held:
            pass
        elif meta.get(b"format") != _FORMAT:
            reason = "written by another version"
        elif changelog_id is None:
            reason = "the changelog's topic id is unknown"
        elif meta.get(b"changelog") != changelog_id.encode():
            reason = "written for another changelog (or one deleted and created again)"
        elif now - float(meta.get(b"written_at", b"0")) > TRUSTED_FOR_S:
            reason = f"written more than {TRUSTED_FOR_S / 3600:g} h ago"
        if reason is not None or not held:
            self.clear()
        batch = rocksdict.WriteBatch(raw_mode=True)
        batch.put(b"format", _FORMAT, self._meta_handle)
        batch.put(b"changelog", (changelog_id or "").encode(), self._meta_handle)
        batch.put(b"written_at", repr(now).encode(), self._meta_handle)
        self._db.write(batch)
        return reason

    @property
    def offsets(self) -> dict[int, int]:
        """Each partition's offset on disk."""
        return dict(self._offsets)

    def persisted_offset(self, partition: int) -> int | None:
        """The changelog offset this partition's records on disk are read up to, or None."""
        return self._offsets.get(partition)

    def hold(self, active: set[int], ends: Mapping[int, int]) -> list[int]:
        """Before recovery: the changelog partitions now held, and their end offsets where known.
        Drops each held partition with no offset on disk, or with one at or past its end (a broker
        that lost records); returns those that had records."""
        self.active = set(active)
        doomed = {p for p in active if p not in self._offsets
                  or (ends.get(p) is not None and self._offsets[p] >= ends[p])}
        return self._drop(doomed)[0] if doomed else []

    # recovery (what the store below calls)
    def apply(self, records: Iterable[tuple[bytes, bytes | None, int, int]]) -> None:
        """Write a batch of changelog records ``(key, value or None for a tombstone, partition,
        offset)`` at once: the last of a key wins, a key's partition is the one it was last read
        from, and each held partition's offset the last read."""
        batch, reached = rocksdict.WriteBatch(raw_mode=True), {}
        for key, value, partition, offset in records:
            self._put(batch, key, value, partition)
            reached[partition] = offset
        self._write(batch, {p: o for p, o in reached.items() if p in self.active})

    def track(self, partition: int, delivery: Any, records: Records) -> None:
        """A record batch of this changelog's ``partition`` handed to the producer: its records
        reach the database once it and every batch sent before it on that partition are
        acknowledged (``delivery`` resolves to its metadata, whose offset is its first record's)."""
        self._unacked.setdefault(partition, deque()).append((delivery, records))
        delivery.add_done_callback(lambda _: self._settle(partition))

    def _settle(self, partition: int) -> None:
        queue, batch, last = self._unacked[partition], rocksdict.WriteBatch(raw_mode=True), None
        settled: list[Records] = []
        while queue and queue[0][0].done():
            delivery, records = queue[0]
            if delivery.cancelled() or delivery.exception() is not None:
                break  # not in the log: nothing after it is written here (the worker stops)
            queue.popleft()
            for key, value in records:
                self._put(batch, key, value, partition)
            last = delivery.result().offset + len(records) - 1
            settled.append(records)
        if last is None:
            return
        self._write(batch, {partition: last} if partition in self.active else {})
        pending = self._pending
        for records in settled:
            for key, value in records:
                if key in pending and pending[key] is value:  # not written again since
                    del pending[key]

    def _put(self, batch: rocksdict.WriteBatch, key: bytes, value: bytes | None, partition: int) -> None:
        if value is None:
            batch.delete(key)
            batch.delete(key, self._partitions_handle)
        else:
            batch.put(key, value)
            batch.put(key, _part(partition), self._partitions_handle)

    def _write(self, batch: rocksdict.WriteBatch, offsets: Mapping[int, int]) -> None:
        for partition, offset in offsets.items():
            batch.put(_part(partition), offset.to_bytes(_OFFSET_BYTES, "big"), self._offsets_handle)
        batch.put(b"written_at", repr(time.time()).encode(), self._meta_handle)
        self._db.write(batch)
        self._offsets.update(offsets)

    def drop_partitions_except(self, kept: set[int]) -> int:
        """Delete every key and offset of a partition not in ``kept``; returns how many keys."""
        self.active = set(kept)
        partitions = {int.from_bytes(p, "big") for p in self._column(_OFFSETS).keys()}
        partitions.update(int.from_bytes(p, "big") for p in self._column(_PARTITIONS).values())
        return self._drop(partitions - kept)[1]

    def _drop(self, partitions: set[int]) -> tuple[list[int], int]:
        """Delete every key and the offset of each of ``partitions``; returns those that had keys,
        and how many keys."""
        batch, handle, had = rocksdict.WriteBatch(raw_mode=True), self._partitions_handle, set()
        dropped = 0
        for key, part in self._column(_PARTITIONS).items():
            if (partition := int.from_bytes(part, "big")) in partitions:
                batch.delete(key)
                batch.delete(key, handle)
                had.add(partition)
                dropped += 1
        for partition in partitions:
            batch.delete(_part(partition), self._offsets_handle)
            self._offsets.pop(partition, None)
        self._db.write(batch)
        return sorted(had), dropped

    def stored_bytes(self) -> int:
        """RocksDB's estimate of the records' bytes: on disk, and in its memtables not flushed yet."""
        live = self._db.property_int_value("rocksdb.estimate-live-data-size") or 0
        return int(live) + int(self._db.property_int_value("rocksdb.cur-size-all-mem-tables") or 0)

    def _column(self, name: str) -> Any:
        return self._db.get_column_family(name)  # dropped by the caller: it holds the database open

    def close(self) -> None:
        # a column family's handle holds the database open too
        del self._partitions_handle, self._offsets_handle, self._meta_handle
        self._db.close()


# The changelogs' Kafka topic ids, by name: what a worker learnt before it joined (``prepare``).
_CHANGELOG_IDS: dict[str, str] = {}


def remember_changelog_ids(ids: Mapping[str, str]) -> None:
    """The changelogs' topic ids, which tell a database left by an earlier worker whether it was
    written for the changelog that exists now (``DiskMapping.resume``)."""
    _CHANGELOG_IDS.update(ids)


class DiskStore(memory.Store[bytes, bytes]):
    """faust's memory store with its ``data`` in a :class:`DiskMapping` under the app's table dir."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)  # the memory store's dicts, made before ``app`` is set
        self.data = self.disk = DiskMapping(Path(self.app.conf.tabledir) / f"{self.table_name}.rocksdb")
        self._key_partition = {}  # unused: the partitions' index is on disk
        self._resumed = False
        self._read = 0  # changelog records applied since the last rebalance began

    # straight to the mapping: MutableMapping's own get and pop read a key two or three times
    def get(self, key: Any, default: Any = None) -> Any:
        return self.disk.get(key, default)

    def pop(self, key: Any, default: Any = None) -> Any:
        return self.disk.pop(key, default)

    def __contains__(self, key: object) -> bool:
        return key in self.disk

    def _clear(self) -> None:
        self.disk.clear()

    def persisted_offset(self, tp: TP) -> int | None:
        """Where faust's recovery reads this changelog partition on from (None: its start)."""
        return self.disk.persisted_offset(tp.partition)

    def _changelog(self) -> str:
        return self.table.changelog_topic.get_topic_name()

    async def on_rebalance(self, assigned: set[TP], revoked: set[TP], newly_assigned: set[TP],
                           generation_id: int = 0) -> None:
        """Before faust's recovery: keep or empty what an earlier worker left (first time only),
        then drop the partitions now held whose records on disk cannot be read on from."""
        name, self._read = self._changelog(), 0
        if not self._resumed:
            self._resumed = True
            changelog_id = _CHANGELOG_IDS.get(name)
            reason = self.disk.resume(changelog_id)
            if reason is None:
                log.info("state database opened", table=self.table_name, offsets=self.disk.offsets)
            else:
                log.warning("state database emptied: recovery reads the changelog from its start",
                            table=self.table_name, reason=reason)
        held = {tp for tp in self.app.assignor.assigned_actives() if tp.topic == name}
        ends: dict[int, int] = {}
        if held:
            try:
                ends = {tp.partition: end for tp, end in (await self.app.consumer.highwaters(*held)).items()
                        if end is not None}
            except Exception as exc:  # noqa: BLE001 - faust's recovery asks again, and checks
                log.warning("changelog ends not read before recovery", table=self.table_name,
                            error=f"{type(exc).__name__}: {exc}"[:300])
        dropped = self.disk.hold({tp.partition for tp in held}, ends)
        if dropped:
            log.info("state partitions read from the changelog's start", table=self.table_name, partitions=dropped)

    def apply_changelog_batch(self, batch: Iterable[Any], to_key: Callable[[Any], Any],
                              to_value: Callable[[Any], Any]) -> None:
        """As the memory store: the last record of a key in the batch wins, a tombstone deletes."""
        records = [(to_key(event.key), None if event.message.value is None else to_value(event.value),
                    event.message.partition, event.message.offset) for event in batch]
        self.disk.apply(records)
        self._read += len(records)

    async def on_recovery_completed(self, active_tps: set[TP], standby_tps: set[TP]) -> None:
        kept = {partition for _, partition in active_tps}  # faust gives this table's changelog partitions
        dropped = self.disk.drop_partitions_except(kept)
        log.info("state recovered", table=self.table_name, records_read=self._read, partitions=sorted(kept),
                 keys_dropped=dropped)

    # No on_stop closing the database: faust stops the tables' stores before its consumer and
    # agents (a worker's log shows that order), so a batch still being written would hit a closed
    # database. It closes with the process; its write-ahead log keeps what was written.


def stored_bytes(*tables: Any) -> int | None:
    """The records' bytes of those of ``tables`` (faust tables) whose store is on disk; ``None`` when
    none is (the memory store's records are not summed: a pass over every key)."""
    disks = [t.data.disk for t in tables if isinstance(t.data, DiskStore)]
    return sum(disk.stored_bytes() for disk in disks) if disks else None


def tracker(table: Any) -> Callable[[int, Any, Records], None] | None:
    """Where a state record batch of ``table``'s changelog is reported once handed to the producer:
    its disk store's ``track``, or None for a store that keeps nothing across restarts."""
    data = getattr(table, "data", None)
    return data.disk.track if isinstance(data, DiskStore) else None


def register_disk_store() -> None:
    """Let faust build a table's store from ``DISK_STORE_URL`` (its registry of store schemes)."""
    faust.stores.STORES.aliases.setdefault(DISK_STORE_URL.split(":", 1)[0], f"{__name__}:DiskStore")
