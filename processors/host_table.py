"""Stage 1's host states in one faust table: a small header per host, and its parts.

A :class:`HostState` is written as records of the ``host-state`` table, all on the host's
partition and all in one record batch (processors/outbox.py says why):
- its *header* under ``"h@<host>"`` (:class:`HostHeader`: watermark, horizon, rule hits, and the
  keys of its id buckets' parts);
- each id bucket under ``"i<bucket start>@<host>"``;
- the content windows in ``CONTENT_SHARDS`` shards by fingerprint, under ``"c<shard>@<host>"``.
A key is its kind, its number, ``@`` and the host: unambiguous whatever the host's name.

A write sends the header and only the parts that changed since the state this worker last wrote
or read for the host: stage 1 makes a new bucket object only when it adds ids (stage1/work.py),
and keeps every content window it did not touch as the same object, so a part changed when one of
its objects is not the very one written before. A part left empty is deleted (a tombstone, so
compaction forgets it too). Every record is stored compressed (processors/state_codec.py) and
goes to the host's partition of the changelog, where faust's recovery for that partition reads it
back.

Decision: one table, not a header table and a parts table (as until 2026-12-01): a host's records
must share a record batch to be written whole or not at all, and a batch belongs to one topic
partition. The earlier ``hosts`` and ``host-parts`` changelogs are not read.

Decision: the header is a model of its own, the parts' keys a list of integers, written by orjson
(``encoder``). Written as the state's JSON without ids (pydantic's ``exclude``, as until
2026-12-01), a header cost ~0.3 us per listed part to encode: 76 us at 250 parts, while the
list costs ~1 us. That let parts shrink (``StateLimits.ids_per_part``).

Decision: only the table knows about shards; the core sees one ``content`` mapping. Content
windows change in place (a repeat moves ``last_seen``), so they cannot be bucketed by time as
ids are; a fixed number of shards by fingerprint bounds a write to ~1/CONTENT_SHARDS of them.

Reads assemble the header and its parts once, then serve the decoded state from
:class:`~deskwatch.processors.views.ModelTable`'s cache; a rebalance clears it (``forget``).
"""

from __future__ import annotations

import zlib
from itertools import compress, repeat
from operator import attrgetter, is_, is_not
from collections.abc import Iterator
from typing import Any, Final, cast

from pydantic import AwareDatetime, BaseModel, ConfigDict

from deskwatch.processors.encode import encoder
from deskwatch.processors.stage1 import ContentWindow, HostState, IdBucket, RuleHit
from deskwatch.processors.fields_set import share_nested
from deskwatch.processors.construct import constructor
from deskwatch.processors.state_codec import pack, unpack
from deskwatch.processors.views import CACHE_MAX, ModelTable, WriteState

HOST_STATE_TABLE = "host-state"  # each host's header, id buckets and content shards
# 32 shards: a host's 76 windows of a simulated day (~17 KB) are ~0.5 KB a shard; at the
# 1,000-window cap, ~8 KB.
CONTENT_SHARDS = 32

_EMPTY = IdBucket(hashed=True)

# What a decoded host state weighs in memory, for the state cache's byte bound: fitted to the RSS
# that bench/state_cache.py measured per state kept (2026-12-05, each host's ids and fingerprints
# its own), within 3 % at each size, with and without the windows' earlier windows: 7,986 ids, 76
# content windows and 1,047 earlier windows 1.34 MiB (the host at its id cap), 2,483 ids, 71
# windows and 852 earlier 0.57 MiB, 665 ids, 66 windows and 371 earlier 0.24 MiB. An id is its
# key, its time and a dict slot; an earlier window a tuple of four integers. Until 2026-12-05 the
# constants were fitted to copies of one host that shared their ids' strings (the JSON parser
# caches equal strings), and a window's earlier windows were not counted: the estimate was 0.63
# of a fleet's states at the cap, and a host's growth over its windows' first hours was not seen.
ID_BYTES: Final = 140
WINDOW_BYTES: Final = 1_300
EARLIER_BYTES: Final = 192
HIT_BYTES: Final = 600
STATE_BYTES: Final = 4_096
_IDS = attrgetter("ids")
_EARLIER = attrgetter("earlier")


def decoded_bytes(state: HostState) -> int:
    """The estimated bytes of a decoded host state (the constants above)."""
    ids = sum(map(len, map(_IDS, state.id_buckets.values())))  # ~8 us at the cap's 193 parts
    earlier = sum(map(len, map(_EARLIER, state.content.values())))
    return (STATE_BYTES + ID_BYTES * ids + WINDOW_BYTES * len(state.content) + EARLIER_BYTES * earlier
            + HIT_BYTES * len(state.hits))


class HostHeader(BaseModel):
    """A host's state without its parts: what ``h@<host>`` holds."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str
    watermark: AwareDatetime | None
    id_horizon_ms: int
    parts: list[int]  # the keys of its id buckets' parts (bucket start + part number), ascending
    hits: dict[str, RuleHit]


class ContentShard(BaseModel):
    """The content windows of one host whose fingerprints fall in one shard."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    windows: dict[str, ContentWindow]


def header_key(host: str) -> bytes:
    """The key of a host's header."""
    return f"h@{host}".encode()


def bucket_key(host: str, start_ms: int) -> bytes:
    """The key of one id bucket of a host."""
    return f"i{start_ms}@{host}".encode()


def shard_key(host: str, shard: int) -> bytes:
    """The key of one content shard of a host."""
    return f"c{shard}@{host}".encode()


_SHARD_OF: dict[str, int] = {}  # fingerprints recur: each hashed once (bounded below)


def shard_of(fingerprint: str) -> int:
    """The content shard of a fingerprint: CRC-32 of its text, the same in every process."""
    shard = _SHARD_OF.get(fingerprint)
    if shard is None:
        if len(_SHARD_OF) >= 1_000_000:
            _SHARD_OF.clear()
        shard = _SHARD_OF[fingerprint] = zlib.crc32(fingerprint.encode()) % CONTENT_SHARDS
    return shard


def encode_header(state: HostState) -> bytes:
    """The host's header record: its state without ids and content windows."""
    return _ENCODE_HEADER(_host_header(host=state.host, watermark=state.watermark, id_horizon_ms=state.id_horizon_ms,
                                       parts=sorted(state.id_buckets), hits=state.hits))


_ENCODE_HEADER: Final = encoder(HostHeader)
_ENCODE_SHARD: Final = encoder(ContentShard)
_ENCODE_BUCKET: Final = encoder(IdBucket)
_content_shard: Final = constructor(ContentShard)  # its windows are typed already
_host_header: Final = constructor(HostHeader)  # its values come from a HostState
_host_state: Final = constructor(HostState)  # its values come from a validated header and parts


def _encode_shard(windows: dict[str, ContentWindow]) -> bytes:
    return _ENCODE_SHARD(_content_shard(windows=windows))


class _Store:
    """A table's store and changelog, in memory: where ``state_records`` lets a table write."""

    def __init__(self, name: str) -> None:
        self.changelog_topic = name
        self.data: dict[bytes, bytes] = {}


def state_records(host: str, state: HostState) -> list[tuple[bytes, bytes]]:
    """Every record a first write of ``state`` makes, as (key, value), in the order
    ``HostStateTable.flush`` writes them; all go to the partition of the host's key."""
    records: list[tuple[bytes, bytes]] = []

    def write(table: Any, route: bytes, unit: list[tuple[bytes, bytes | None]]) -> None:
        for key, value in unit:
            assert value is not None  # a first write deletes nothing
            records.append((key, value))

    table = HostStateTable(_Store(HOST_STATE_TABLE))
    table.stage(host, state)
    table.flush(write)
    return records


class HostStateTable(ModelTable[HostState]):
    """``host -> HostState`` over the ``host-state`` faust table (bytes to bytes); caching and
    staging as :class:`ModelTable`, each host's reads and writes split into header and parts."""

    def __init__(self, table: Any, cache_max: int = CACHE_MAX, cache_max_bytes: int | None = None) -> None:
        """``cache_max_bytes`` bounds the decoded states kept by their estimated bytes as well
        (``decoded_bytes``): a host at its id cap decodes to ~1.3 MiB."""
        super().__init__(table, HostState, cache_max, cache_max_bytes, decoded_bytes)

    def _read(self, host: str) -> HostState | None:
        raw = self._table.data.get(header_key(host))
        return None if raw is None else self._assemble(host, HostHeader.model_validate_json(unpack(raw)))

    def keys(self) -> Iterator[str]:
        raise NotImplementedError("the host-state table holds parts beside its hosts' headers")

    def flush(self, write: WriteState) -> int:
        """Write each staged host's changed parts, then its header, in staging order: into the
        store, and as one unit of records handed to ``write``. Returns the hosts written."""
        staged, self._staged = self._staged, {}
        table = self._table
        for host, state in staged.items():
            before = self._cache.get(host)
            unit: list[tuple[bytes, bytes | None]] = []
            self._write_buckets(host, before.id_buckets if before else {}, state.id_buckets, unit)
            self._write_content(host, before.content if before else {}, state.content, unit)
            self._write(header_key(host), encode_header(state), unit)
            write(table, host.encode(), unit)
            self._remember(host, state)
        self._evict()
        return len(staged)

    def _write_buckets(self, host: str, old: dict[int, IdBucket], new: dict[int, IdBucket],
                       unit: list[tuple[bytes, bytes | None]]) -> None:
        if new is old:  # no id added, none expired: the very same buckets
            return
        starts = list(new)
        for start in compress(starts, map(is_not, map(old.get, starts), new.values())):  # the scan in C
            self._write(bucket_key(host, start), _ENCODE_BUCKET(new[start]), unit)
        for start in old.keys() - new.keys():
            self._write(bucket_key(host, start), None, unit)

    def _write_content(self, host: str, old: dict[str, ContentWindow], new: dict[str, ContentWindow],
                       unit: list[tuple[bytes, bytes | None]]) -> None:
        # Every pass over all of the host's windows (up to StateLimits.max_fingerprints) runs in C
        # (map, compress); Python loops only over the windows of the shards that changed.
        keys = list(new)
        before = list(map(old.get, keys))
        differs = list(map(is_not, before, new.values()))  # not the very object written before
        # windows of ``old`` not in ``new`` (list.count(None) would call a model's __eq__ per item)
        gone = len(old) - (len(keys) - list(map(is_, before, repeat(None))).count(True))
        if gone == 0 and not any(differs):
            return
        cached = list(map(_SHARD_OF.get, keys))  # None for a fingerprint not hashed yet
        # one cast per call, not per window: ``cached`` holds no None there
        shards = list(map(shard_of, keys)) if None in cached else cast("list[int]", cached)
        changed = set(compress(shards, differs))
        if gone:
            changed.update(shard_of(fp) for fp in old.keys() - new.keys())
        grouped: dict[int, dict[str, ContentWindow]] = {}
        for fp, shard in compress(zip(keys, shards, strict=False), map(changed.__contains__, shards)):
            grouped.setdefault(shard, {})[fp] = new[fp]
        for shard in sorted(changed):
            windows = grouped.get(shard)
            self._write(shard_key(host, shard), _encode_shard(windows) if windows else None, unit)

    def _assemble(self, host: str, header: HostHeader) -> HostState:
        """The header with its parts read back (a bucket missing from the store reads as empty)."""
        store = self._table.data
        buckets = {}
        for start in header.parts:
            raw = store.get(bucket_key(host, start))
            buckets[start] = _EMPTY if raw is None else IdBucket.model_validate_json(unpack(raw)).keyed()
        content: dict[str, ContentWindow] = {}
        for shard in range(CONTENT_SHARDS):
            raw = store.get(shard_key(host, shard))
            if raw is not None:
                content.update(ContentShard.model_validate_json(unpack(raw)).windows)
        state = _host_state(host=header.host, watermark=header.watermark, id_horizon_ms=header.id_horizon_ms,
                            id_buckets=buckets, content=content, hits=header.hits)
        share_nested(state)  # half a decoded state's bytes were its models' own fields sets
        return state

    def _write(self, key: bytes, raw: bytes | None, unit: list[tuple[bytes, bytes | None]]) -> None:
        if raw is None:
            self._table.data.pop(key, None)
        else:
            self._table.data[key] = raw = pack(raw)
        unit.append((key, raw))
