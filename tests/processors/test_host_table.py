"""HostStateTable: a host's header and only its changed parts are written, as one unit, and read
back whole."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pytest

from deskwatch.processors.state_codec import unpack
from deskwatch.processors.host_table import (
    CONTENT_SHARDS,
    ContentShard,
    HostStateTable,
    bucket_key,
    decoded_bytes,
    encode_header,
    header_key,
    shard_key,
    shard_of,
    state_records,
)
from deskwatch.processors.stage1 import ContentWindow, HostState, IdBucket, RuleHit
from deskwatch.processors.fields_set import every_field_set

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
        self.table = Table("host-state-changelog")
        self.units: list[list[tuple[bytes, bytes | None]]] = []

    @property
    def sent(self) -> list[tuple[bytes, bytes | None]]:
        return [record for unit in self.units for record in unit]

    def write(self, table: Table, route: bytes, unit: list[tuple[bytes, bytes | None]]) -> None:
        assert table is self.table
        for key, value in unit:
            assert self.table.data.get(key) == value  # the store holds the value before its record leaves
            assert key.endswith(b"@" + route), "every record of the unit is the route's host's"
        self.units.append(unit)

    def clear(self) -> None:
        self.units.clear()

    def view(self) -> HostStateTable:
        return HostStateTable(self.table)


def state(content: dict[str, ContentWindow] | None = None, **buckets: IdBucket) -> HostState:
    return HostState(host=HOST, watermark=T, id_horizon_ms=3, content={"fp": WINDOW} if content is None else content,
                     id_buckets={int(start[1:]): b for start, b in buckets.items()})


A, B, C = (IdBucket(ids={"e1": 1}, hashed=True), IdBucket(ids={"e2": 600_001, "e3": 600_002}, hashed=True),
           IdBucket(ids={"e4": 1_200_000}, hashed=True))


def test_a_first_write_sends_every_bucket_and_the_header_and_reads_back_whole() -> None:
    tables = Tables()
    first = state(s0=A, s600000=B)
    view = tables.view()
    view.stage(HOST, first)
    assert view.flush(tables.write) == 1
    [unit] = tables.units
    assert [k for k, _ in unit] == [b"i0@PC-LYON-01", b"i600000@PC-LYON-01", shard_key(HOST, shard_of("fp")),
                                    b"h@PC-LYON-01"], "one unit: the parts, then the header"
    header = unpack(tables.table.data[b"h@PC-LYON-01"])
    assert b'"e1"' not in header and b'"fp"' not in header, "the header holds no ids and no windows"
    assert tables.view().get(HOST) == first  # a fresh view (after a restart) assembles it again
    records = state_records(HOST, first)
    assert records == unit
    assert unpack(records[3][1]) == encode_header(first)


def test_a_host_named_like_another_hosts_part_keeps_its_own_state() -> None:
    """Keys are kind, number, ``@``, host: a host called ``i0@PC-LYON-01`` is not a bucket of PC-LYON-01."""
    tables = Tables()
    view = tables.view()
    view.stage(HOST, state(s0=A))
    view.flush(tables.write)
    odd = f"i0@{HOST}"
    view.stage(odd, state(s600000=B).model_copy(update={"host": odd}))
    view.flush(tables.write)
    fresh = tables.view()
    assert fresh.get(HOST) == state(s0=A)
    assert fresh.get(odd) == state(s600000=B).model_copy(update={"host": odd})


CHANGES = [
    pytest.param(lambda: state(s0=A, s600000=B), [], id="nothing-grew-header-only"),
    pytest.param(lambda: state(s0=A, s600000=IdBucket(ids={**B.ids, "e5": 600_003}, hashed=True)),
                 [(b"i600000@PC-LYON-01", True)], id="one-bucket-grew"),
    pytest.param(lambda: state(s600000=B, s1200000=C), [(b"i1200000@PC-LYON-01", True), (b"i0@PC-LYON-01", False)],
                 id="one-new-one-dropped"),
]


@pytest.mark.parametrize(("later", "bucket_writes"), CHANGES)
def test_a_later_write_sends_only_new_bucket_objects_and_tombstones(
    later: Callable[[], HostState], bucket_writes: list[tuple[bytes, bool]]
) -> None:
    tables = Tables()
    view = tables.view()
    view.stage(HOST, state(s0=A, s600000=B))
    view.flush(tables.write)
    tables.clear()
    new = later()
    view.stage(HOST, new)
    view.flush(tables.write)
    assert [(k, v is not None) for k, v in tables.sent if k.startswith(b"i")] == bucket_writes
    assert not [k for k, _ in tables.sent if k.startswith(b"c")], "no window changed: no shard written"
    assert tables.sent[-1][0] == header_key(HOST), "the header last"
    assert len(tables.units) == 1, "one unit: one record batch"
    assert tables.view().get(HOST) == new
    buckets = {k for k in tables.table.data if k.startswith(b"i")}
    assert buckets == {bucket_key(HOST, start) for start in new.id_buckets}, "no bucket left behind"


def test_a_bucket_a_crash_left_unwritten_reads_as_empty() -> None:
    tables = Tables()
    view = tables.view()
    view.stage(HOST, state(s0=A, s600000=B))
    view.flush(tables.write)
    del tables.table.data[bucket_key(HOST, 600_000)]
    got = tables.view().get(HOST)
    assert got is not None and got.id_buckets == {0: A, 600_000: IdBucket(hashed=True)}


def test_forget_reads_the_stores_again_and_an_unknown_host_is_none() -> None:
    tables = Tables()
    view = tables.view()
    assert view.get(HOST) is None
    view.stage(HOST, state(s0=A))
    assert view.get(HOST) == state(s0=A)  # staged: seen before the flush
    view.forget()
    assert view.get(HOST) is None, "forget drops what was staged and never flushed"
    view.stage(HOST, state(s0=A))
    view.flush(tables.write)
    # plain JSON, as records were stored before compression: still read
    tables.table.data[header_key(HOST)] = encode_header(state(s0=A, s600000=B))
    tables.table.data[bucket_key(HOST, 600_000)] = B.model_dump_json().encode()
    assert view.get(HOST) == state(s0=A), "served from the cache"
    view.forget()
    assert view.get(HOST) == state(s0=A, s600000=B), "read again from the stores"


def window(n: int) -> ContentWindow:
    return ContentWindow(window_start=T, window_s=600, first_seen=T, last_seen=T, count=n)


def test_content_shards_written_are_those_whose_windows_changed_or_went() -> None:
    fps = [f"{n:032x}" for n in range(200)]
    content = {fp: window(1) for fp in fps}
    tables = Tables()
    view = tables.view()
    view.stage(HOST, state(content))
    view.flush(tables.write)
    shards = {k for k, _ in tables.sent if k.startswith(b"c")}
    assert shards == {shard_key(HOST, s) for s in range(CONTENT_SHARDS)}, "200 windows fill every shard"
    tables.clear()
    grown, gone = fps[3], fps[7]
    later = {fp: w for fp, w in content.items() if fp != gone} | {grown: window(2), "new": window(1)}
    view.stage(HOST, state(later))
    view.flush(tables.write)
    written = [k for k, _ in tables.sent if k.startswith(b"c")]
    assert written == [shard_key(HOST, s) for s in sorted({shard_of(grown), shard_of(gone), shard_of("new")})]
    assert tables.view().get(HOST) == state(later)


def test_a_shard_left_empty_is_deleted() -> None:
    other = next(f"o{n}" for n in range(100) if shard_of(f"o{n}") != shard_of("fp"))
    tables = Tables()
    view = tables.view()
    kept = window(3)
    view.stage(HOST, state({"fp": WINDOW, other: kept}))
    view.flush(tables.write)
    tables.clear()
    view.stage(HOST, state({other: kept}))  # the same window object: its shard is unchanged
    view.flush(tables.write)
    assert [(k, v) for k, v in tables.sent if k.startswith(b"c")] == [(shard_key(HOST, shard_of("fp")), None)]
    assert shard_key(HOST, shard_of("fp")) not in tables.table.data
    assert tables.view().get(HOST) == state({other: window(3)})


def test_a_host_evicted_from_the_cache_still_gets_its_gone_parts_deleted() -> None:
    """The parts a new state drops are found from the state before it: read again after eviction."""
    tables = Tables()
    view = HostStateTable(tables.table, cache_max=1)
    fps = [f"{n:032x}" for n in range(40)]
    states = [state({fp: window(1) for fp in fps[:30]}, s0=A, s600000=B),
              state({fp: window(2) for fp in fps[20:]}, s600000=B, s1200000=C),
              state({fps[0]: window(3)}, s1200000=C)]
    for before, new in zip([None, *states], states, strict=False):
        assert view.get(HOST) == before
        view.stage(HOST, new)
        view.get("OTHER-HOST")
        view.stage("OTHER-HOST", state(s0=A).model_copy(update={"host": "OTHER-HOST"}))
        view.flush(tables.write)  # OTHER-HOST, written last, evicts HOST
        assert HOST not in view._cache
    assert tables.view().get(HOST) == states[-1]
    parts = {k for k in tables.table.data if k.endswith(HOST.encode())}
    assert parts == {header_key(HOST), bucket_key(HOST, 1_200_000), shard_key(HOST, shard_of(fps[0]))}, \
        "no part left behind"


def test_a_state_read_back_shares_its_models_fields_sets() -> None:
    tables = Tables()
    view = tables.view()
    hit = RuleHit(rule_id="r", first_seen=T, last_seen=T, count=1)
    written = state(s0=A).model_copy(update={"hits": {"r|host.name=PC-LYON-01": hit}})
    view.stage(HOST, written)
    view.flush(tables.write)
    read = tables.view().get(HOST)
    assert read == written
    models = [read, *read.content.values(), *read.id_buckets.values(), *read.hits.values()]
    assert len(models) == 4
    for model in models:
        assert model.__pydantic_fields_set__ is every_field_set(type(model)), type(model).__name__


def test_a_content_shard_written_before_older_windows_were_kept_still_reads() -> None:
    # Written by bc62584 (windows opened at a fingerprint's first event, no ``earlier``): a newer
    # worker reads it, and stage 1 keeps that window's repeats until it ends (test_stage1_dedup).
    old = (b'{"windows":{"fp":{"window_start":"2026-12-04T09:07:00Z","window_s":600,"first_seen":'
           b'"2026-12-04T09:07:00Z","last_seen":"2026-12-04T09:08:30Z","count":2,"rule_ids":["r"],"group_keys":["r|h"]}}}')
    [window] = ContentShard.model_validate_json(old).windows.values()
    assert window.earlier == () and window.window_start == datetime(2026, 12, 4, 9, 7, tzinfo=UTC)


def test_the_cache_bound_in_bytes_drops_the_heaviest_hosts_states_by_their_estimate_and_reads_them_back() -> None:
    big = IdBucket(ids={f"{n:016x}": n for n in range(1_000)}, hashed=True)
    heavy, light = state(s0=big), state(s0=A).model_copy(update={"host": "OTHER-HOST"})
    assert decoded_bytes(heavy) > 1_000 * 50 > decoded_bytes(light)
    tables = Tables()
    view = HostStateTable(tables.table, cache_max=10, cache_max_bytes=decoded_bytes(heavy) + decoded_bytes(light) - 1)
    view.stage(HOST, heavy)
    view.stage("OTHER-HOST", light)
    view.flush(tables.write)
    assert list(view._cache) == ["OTHER-HOST"], "both do not fit: the least recently used went"
    assert view.get(HOST) == heavy, "read back from the store"
    view.flush(tables.write)
    assert list(view._cache) == [HOST], "read last, kept; the light host went to make room"


def test_a_windows_earlier_windows_weigh_in_the_estimate() -> None:
    """A fingerprint repeating in every window keeps up to 16 earlier ones, ~190 bytes each once
    decoded: a host's state grows by them over its windows' first hours, and its estimate with it."""
    from deskwatch.processors.host_table import EARLIER_BYTES

    start = datetime(2026, 12, 5, 8, tzinfo=UTC)
    fresh = ContentWindow(window_start=start, window_s=600, first_seen=start, last_seen=start, count=1)
    ten_ms = 600 * 1_000_000
    us = int(start.timestamp() * 1_000_000)
    aged = fresh.model_copy(update={"earlier": tuple((us - k * ten_ms, 3, us - k * ten_ms, us - k * ten_ms + 9)
                                                     for k in range(1, 17))})
    light, grown = state({"fp": fresh}, s0=A), state({"fp": aged}, s0=A)
    assert decoded_bytes(grown) - decoded_bytes(light) == 16 * EARLIER_BYTES
