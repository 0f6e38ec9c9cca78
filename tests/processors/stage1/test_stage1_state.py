"""HostState: JSON round trip, the input never mutated, caps and event-time expiry respected."""

from __future__ import annotations

import copy
import hashlib
from datetime import timedelta

import orjson

from stage1_build import NOW, T0, batch, event, make_stage
from deskwatch.processors.stage1.bound import to_ms
from deskwatch.processors.state_codec import pack, unpack
from deskwatch.processors.app import PRODUCER_BATCH_BYTES
from deskwatch.processors.host_table import CONTENT_SHARDS, HostStateTable, bucket_key, encode_header, state_records
from deskwatch.processors.produce import RECORD_OVERHEAD
from deskwatch.processors.stage1 import (
    ContentWindow,
    DecisionKind,
    HostState,
    IdBucket,
    RuleHit,
    Stage1,
    StateLimits,
    dedup_key,
)


def test_state_round_trips_through_json(stage: Stage1) -> None:
    crash = event(
        "7031", "Service Control Manager", "The Print Spooler service terminated unexpectedly."
    )
    state = stage.process(
        batch(event(), event(at=T0 + timedelta(minutes=1)), crash), None, NOW
    ).new_state
    assert state.seen_ids and state.content and state.hits
    assert HostState.model_validate_json(state.model_dump_json()) == state


def test_processing_never_mutates_the_input_state(stage: Stage1) -> None:
    state = stage.process(batch(event()), None, NOW).new_state
    before = copy.deepcopy(state.model_dump())
    stage.process(
        batch(event(at=T0 + timedelta(minutes=1)), event(code="11", message="controller error")),
        state,
        NOW,
    )
    assert state.model_dump() == before


def test_seen_ids_are_capped_and_an_evicted_id_cannot_come_back_as_new() -> None:
    stage = make_stage(limits=StateLimits(max_ids=10))
    events = [
        event(code="1", provider="x", message=f"m{n}", at=T0 + timedelta(seconds=n))
        for n in range(25)
    ]
    state = None
    for chunk in (events[:12], events[12:]):
        state = stage.process(batch(*chunk), state, NOW).new_state
    assert state is not None and len(state.seen_ids) <= 10
    assert set(state.seen_ids) == {dedup_key(e.event_id) for e in events[15:]}
    replay = stage.process(batch(events[0], events[14], events[24]), state, NOW)
    assert [d.kind for d in replay.decisions] == [
        DecisionKind.TOO_OLD,
        DecisionKind.TOO_OLD,
        DecisionKind.DUPLICATE_ID,
    ]


def test_seen_ids_expire_by_event_time() -> None:
    stage = make_stage(limits=StateLimits(id_retention=timedelta(hours=1)))
    first = stage.process(batch(event(at=T0)), None, NOW)
    later = stage.process(
        batch(event(at=T0 + timedelta(hours=2))), first.new_state, NOW + timedelta(hours=2)
    )
    assert list(later.new_state.seen_ids) == [dedup_key(later.decisions[0].event_id)]


def test_fingerprints_are_capped_keeping_the_most_recent() -> None:
    stage = make_stage(limits=StateLimits(max_fingerprints=3))
    events = [
        event(code="1", provider="x", message=f"word{chr(97 + n)}", at=T0 + timedelta(seconds=n))
        for n in range(6)
    ]
    result = stage.process(batch(*events), None, NOW)
    assert len(result.new_state.content) == 3
    assert {w.last_seen for w in result.new_state.content.values()} == {
        T0 + timedelta(seconds=n) for n in (3, 4, 5)
    }
    assert len(result.digests) == 6  # eviction forgets windows, never drops the envelope's digests


def test_fingerprints_expire_by_event_time() -> None:
    stage = make_stage(limits=StateLimits(fingerprint_retention=timedelta(hours=1)))
    first = stage.process(batch(event(at=T0)), None, NOW)
    other = event(code="1", provider="x", message="other", at=T0 + timedelta(hours=2))
    later = stage.process(batch(other), first.new_state, NOW + timedelta(hours=2))
    assert len(later.new_state.content) == 1


def test_rule_hits_are_capped_and_expire() -> None:
    stage = make_stage(limits=StateLimits(max_hits=2, hit_retention=timedelta(hours=1)))
    crashes = [
        event(
            "7031",
            "Service Control Manager",
            f"The Svc{chr(65 + n)} service terminated unexpectedly.",
            at=T0 + timedelta(minutes=n),
        )
        for n in range(4)
    ]
    state = stage.process(batch(*crashes), None, NOW).new_state
    assert sorted(state.hits) == [
        "service-crash-loop|host.name=PC-LYON-01|service.name=SvcC",
        "service-crash-loop|host.name=PC-LYON-01|service.name=SvcD",
    ]
    later = stage.process(batch(event(at=T0 + timedelta(hours=3))), state, NOW + timedelta(hours=3))
    assert later.new_state.hits == {}


def test_only_rules_that_can_resolve_keep_hits(stage: Stage1) -> None:
    assert (
        stage.process(batch(event()), None, NOW).new_state.hits == {}
    )  # disk-errors has no resolve_on


class CountingStore(dict[str, HostState]):
    writes = 0

    def __setitem__(self, key: str, value: HostState) -> None:
        self.writes += 1
        super().__setitem__(key, value)


def test_apply_writes_once_per_envelope_and_not_for_a_replay(stage: Stage1) -> None:
    store = CountingStore()
    envelope = batch(*(event(at=T0 + timedelta(seconds=n)) for n in range(50)))
    stage.apply(store, envelope, NOW)
    assert store.writes == 1 and len(store["PC-LYON-01"].seen_ids) == 50
    replay = stage.apply(store, envelope, NOW)
    assert store.writes == 1 and replay.counters.duplicate_id == 50


BATCH_HEADER = 61  # a v2 record batch's header


def _hex(text: str) -> str:
    return hashlib.blake2b(text.encode(), digest_size=16).hexdigest()


def test_a_full_state_at_default_caps_fits_one_kafka_record() -> None:
    """Ids and fingerprints as random as real ones (sequential hex would compress to nothing)."""
    limits = StateLimits()
    group = (
        "service-crash-loop|host.name=JUS-MAR-WS0033.corp.example.gouv|service.name=Print Spooler"
    )
    window = ContentWindow(
        window_start=T0,
        window_s=600,
        first_seen=T0,
        last_seen=T0,
        count=12,
        rule_ids=("service-crash-loop",),
        group_keys=(group,),
    )
    hit = RuleHit(rule_id="service-crash-loop", first_seen=T0, last_seen=T0, count=3)
    state = HostState(
        host="JUS-MAR-WS0033.corp.example.gouv",
        watermark=T0,
        # The worst case: every id in one bucket (a burst within one bucket's ten minutes).
        id_buckets={0: IdBucket(ids={_hex(f"id{n}"): 1_795_000_000_000 + n for n in range(limits.max_ids)})},
        content={_hex(f"fp{n}"): window for n in range(limits.max_fingerprints)},
        hits={f"{group}{n}": hit for n in range(limits.max_hits)},
    )
    # Kafka's default message.max.bytes is 1,048,588: the header and each part are one record each
    records = state_records(state.host, state)
    assert len(records) == 1 + CONTENT_SHARDS + 1  # one bucket, every content shard, the header
    assert unpack(records[-1][1]) == encode_header(state)
    # uncompressed: a record compression would not shrink is stored as its JSON
    assert max(len(unpack(value)) for _, value in records) < 1_000_000
    # and the whole write fits the worker's record batch, so it lands whole or not at all
    unit = sum(len(key) + len(value) + RECORD_OVERHEAD for key, value in records)
    assert unit + BATCH_HEADER < PRODUCER_BATCH_BYTES, f"{unit} bytes"


def test_an_envelope_makes_new_only_the_id_buckets_it_adds_to() -> None:
    """What the table writes per envelope: untouched buckets stay the very same objects."""
    stage = make_stage(limits=StateLimits(id_bucket=timedelta(minutes=10)))
    early = [event(at=T0 + timedelta(minutes=n)) for n in (1, 2, 11, 12)]
    state = stage.process(batch(*early), None, NOW).new_state
    assert sorted(state.id_buckets) == [s - s % 600_000 for s in (to_ms(T0), to_ms(T0) + 600_000)]
    later = stage.process(batch(event(at=T0 + timedelta(minutes=13))), state, NOW).new_state
    first, second = sorted(state.id_buckets)
    assert later.id_buckets[first] is state.id_buckets[first], "an untouched bucket is kept as is"
    assert later.id_buckets[second] is not state.id_buckets[second]
    assert len(later.id_buckets[second].ids) == 3
    replay = stage.process(batch(*early), later, NOW)
    assert [d.kind for d in replay.decisions] == [DecisionKind.DUPLICATE_ID] * 4
    assert all(replay.new_state.id_buckets[s] is later.id_buckets[s] for s in later.id_buckets)


def test_expired_id_buckets_go_whole_and_move_the_horizon_to_their_end() -> None:
    stage = make_stage(limits=StateLimits(id_retention=timedelta(hours=1), id_bucket=timedelta(minutes=10)))
    old = event(at=T0 + timedelta(minutes=3))
    state = stage.process(batch(old), None, NOW).new_state
    later = stage.process(batch(event(at=T0 + timedelta(hours=1, minutes=15))), state, NOW + timedelta(hours=2))
    assert len(later.new_state.id_buckets) == 1
    assert later.new_state.id_horizon_ms >= to_ms(T0 + timedelta(minutes=15))
    assert stage.process(batch(old), later.new_state, NOW).decisions[0].kind is DecisionKind.TOO_OLD


def keys(*event_ids: str) -> list[str]:
    """The dedup keys exact dedup keeps for these ids, sorted as a bucket's are compared."""
    return sorted(dedup_key(eid) for eid in event_ids)


def test_a_full_part_of_a_bucket_opens_the_next_and_only_the_newest_part_is_new() -> None:
    stage = make_stage(limits=StateLimits(id_bucket=timedelta(minutes=10), ids_per_part=2))
    events = [event(at=T0 + timedelta(seconds=n), eid=f"e{n}") for n in range(5)]
    state = stage.process(batch(*events[:3]), None, NOW).new_state
    start = to_ms(T0) - to_ms(T0) % 600_000
    assert {k: sorted(b.ids) for k, b in state.id_buckets.items()} == {start: keys("e0", "e1"), start + 1: keys("e2")}
    later = stage.process(batch(*events[3:]), state, NOW).new_state
    assert {k: sorted(b.ids) for k, b in later.id_buckets.items()} == {
        start: keys("e0", "e1"), start + 1: keys("e2", "e3"), start + 2: keys("e4")}
    assert later.id_buckets[start] is state.id_buckets[start], "a full part is never written again"
    replay = stage.process(batch(*events), later, NOW)
    assert [d.kind for d in replay.decisions] == [DecisionKind.DUPLICATE_ID] * 5
    assert replay.new_state.id_buckets == later.id_buckets


def test_a_bucket_over_the_cap_goes_with_all_its_parts() -> None:
    stage = make_stage(limits=StateLimits(id_bucket=timedelta(minutes=10), ids_per_part=6, max_ids=10))
    first = [event(at=T0 + timedelta(seconds=n), eid=f"a{n}") for n in range(7)]  # two parts
    second = [event(at=T0 + timedelta(minutes=10, seconds=n), eid=f"b{n}") for n in range(7)]
    state = stage.process(batch(*first), None, NOW).new_state
    state = stage.process(batch(*second), state, NOW).new_state
    start = to_ms(T0) - to_ms(T0) % 600_000
    assert sorted(state.id_buckets) == [start + 600_000, start + 600_001]
    assert state.id_horizon_ms == start + 600_000
    assert stage.process(batch(first[0]), state, NOW).decisions[0].kind is DecisionKind.TOO_OLD


def test_a_newest_bucket_alone_over_the_cap_is_trimmed_by_time_and_parted_again() -> None:
    stage = make_stage(limits=StateLimits(id_bucket=timedelta(minutes=10), ids_per_part=3, max_ids=10))
    events = [event(at=T0 + timedelta(seconds=n), eid=f"e{n:02}") for n in range(14)]
    state = None
    for chunk in (events[:5], events[5:9], events[9:]):
        state = stage.process(batch(*chunk), state, NOW).new_state
    assert state is not None
    start = to_ms(T0) - to_ms(T0) % 600_000
    assert sorted(state.id_buckets) == [start, start + 1, start + 2, start + 3]
    assert [len(state.id_buckets[k].ids) for k in sorted(state.id_buckets)] == [3, 3, 3, 1]
    assert sorted(state.seen_ids) == keys(*(f"e{n:02}" for n in range(4, 14)))
    assert state.id_horizon_ms == to_ms(T0 + timedelta(seconds=3)) + 1  # just past the newest id gone
    assert [d.kind for d in stage.process(batch(events[3], events[4]), state, NOW).decisions] == [
        DecisionKind.TOO_OLD, DecisionKind.DUPLICATE_ID]


class Store:
    """A faust table's store and changelog topic name, over ``data``."""

    def __init__(self, data: dict[bytes, bytes]) -> None:
        self.changelog_topic = "host-state-changelog"
        self.data = data


def test_a_bucket_written_with_event_ids_reads_back_with_their_dedup_keys_and_a_replay_is_still_known() -> None:
    """Parts written before dedup keys (2026-12-04) hold the event ids themselves: read, they are
    re-keyed, so an event processed before an upgrade is still a duplicate after it."""
    stage = make_stage()
    first = stage.process(batch(ev := event(at=T0)), None, NOW)
    [start] = first.new_state.id_buckets
    store = dict(state_records("PC-LYON-01", first.new_state))
    eid = first.decisions[0].event_id
    store[bucket_key("PC-LYON-01", start)] = pack(orjson.dumps({"ids": {eid: to_ms(T0)}}))  # the old form
    got = HostStateTable(Store(store)).get("PC-LYON-01")
    assert got is not None and got.id_buckets == {start: IdBucket(ids={dedup_key(eid): to_ms(T0)}, hashed=True)}
    assert got == first.new_state
    assert [d.kind for d in stage.process(batch(ev), got, NOW).decisions] == [DecisionKind.DUPLICATE_ID]


def test_the_floors_memo_keeps_no_state_alive_that_its_caller_dropped() -> None:
    """The processor's state cache drops a heavy host's state (~0.8 MiB decoded at the id cap);
    the memo of its floors, which names each host's last state, must not hold it on."""
    import gc
    import weakref

    core = make_stage()
    first = core.process(batch(event(), event()), None, NOW).new_state
    second = core.process(batch(event()), first, NOW)
    assert len(second.decisions) == 1
    last = weakref.ref(second.new_state)
    del second
    gc.collect()
    assert last() is None, "the host's last state is freed once nothing but the memo refers to it"
    again = core.process(batch(event()), first, NOW)  # an older state again: the memo's is gone
    assert len(again.decisions) == 1
