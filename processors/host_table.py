"""Stage 1's host states in two faust tables: a header per host, and its seen ids by bucket.

A :class:`HostState` is written as a *header* under the host (the state with every id bucket
emptied: watermark, horizon, content windows, hits and which buckets exist) and one record per id
bucket under ``"<bucket start>@<host>"`` in the ``host-ids`` table. A write sends the header and
only the buckets that are new objects since the state this worker last wrote or read for the
host (stage 1 makes a new bucket object only when it adds ids, see stage1/work.py); a bucket that
left the state is deleted (a tombstone, so compaction forgets it too). Every record goes to the
host's partition of its changelog, where faust's recovery for that partition reads it back.

Reads assemble the header and its buckets once, then serve the decoded state from a cache, as
:class:`~deskwatch.processors.views.ModelTable` does; a rebalance clears it (``forget``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from deskwatch.processors.encode import encode
from deskwatch.processors.stage1 import HostState, IdBucket

HOSTS_TABLE = "hosts"  # each host's header, under the host
HOST_IDS_TABLE = "host-ids"  # each host's id buckets, under bucket_key(host, start)

# The header: the state with each bucket's ids left out, so each bucket reads back as empty.
_HEADER = {"id_buckets": {"__all__": {"ids"}}}
_EMPTY = IdBucket()

# send(topic, key, value or None for a tombstone, headers, the key whose partition to use)
Send = Callable[[Any, bytes, bytes | None, None, bytes], None]


def bucket_key(host: str, start_ms: int) -> bytes:
    """The ``host-ids`` key of one bucket: its start first, so the key reads back unambiguously."""
    return f"{start_ms}@{host}".encode()


def encode_header(state: HostState) -> bytes:
    """The host's header record: its state's JSON with every bucket's ids left out."""
    return state.__pydantic_serializer__.to_json(state, exclude=_HEADER)


def state_records(host: str, state: HostState) -> list[tuple[str, bytes, bytes]]:
    """Every record a first write of ``state`` makes, as (table name, key, value); each goes to
    the partition of the host's key."""
    records = [(HOST_IDS_TABLE, bucket_key(host, start), encode(bucket))
               for start, bucket in state.id_buckets.items()]
    return [*records, (HOSTS_TABLE, host.encode(), encode_header(state))]


class HostStateTable:
    """``host -> HostState`` over the ``hosts`` and ``host-ids`` faust tables (bytes to bytes)."""

    def __init__(self, hosts: Any, ids: Any) -> None:
        self._hosts = hosts
        self._ids = ids
        self._cache: dict[str, HostState] = {}  # what the tables hold for each host read or written
        self._staged: dict[str, HostState] = {}

    def get(self, host: str) -> HostState | None:
        """The host's state: staged, cached, or read from the tables' stores."""
        state = self._staged.get(host) or self._cache.get(host)
        if state is not None:
            return state
        raw = self._hosts.data.get(host.encode())
        if raw is None:
            return None
        state = self._assemble(host, HostState.model_validate_json(raw))
        self._cache[host] = state
        return state

    def stage(self, host: str, state: HostState) -> None:
        """Remember a new state; ``get`` sees it at once, the tables at the next ``flush``."""
        self._staged[host] = state

    def flush(self, send: Send) -> int:
        """Write each staged host's header and changed buckets, delete its dropped buckets, in
        staging order; every record also goes to ``send``. Returns the hosts written."""
        staged, self._staged = self._staged, {}
        for host, state in staged.items():
            key = host.encode()
            before = self._cache.get(host)
            old = before.id_buckets if before is not None else {}
            for start, bucket in state.id_buckets.items():
                if old.get(start) is not bucket:
                    self._write(self._ids, bucket_key(host, start), encode(bucket), key, send)
            for start in old.keys() - state.id_buckets.keys():
                self._write(self._ids, bucket_key(host, start), None, key, send)
            self._write(self._hosts, key, encode_header(state), key, send)
            self._cache[host] = state
        return len(staged)

    def forget(self) -> None:
        """Drop what is cached and staged (partitions moved: another worker may own them now)."""
        self._cache.clear()
        self._staged.clear()

    def _assemble(self, host: str, header: HostState) -> HostState:
        """The header with its buckets read back (a bucket a crash left unwritten reads as empty)."""
        if not header.id_buckets:
            return header
        store, buckets = self._ids.data, {}
        for start in header.id_buckets:
            raw = store.get(bucket_key(host, start))
            buckets[start] = _EMPTY if raw is None else IdBucket.model_validate_json(raw)
        return header.model_copy(update={"id_buckets": buckets})

    @staticmethod
    def _write(table: Any, key: bytes, raw: bytes | None, route: bytes, send: Send) -> None:
        if raw is None:
            table.data.pop(key, None)
        else:
            table.data[key] = raw
        send(table.changelog_topic, key, raw, None, route)
