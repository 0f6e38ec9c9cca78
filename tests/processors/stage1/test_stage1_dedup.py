"""Exact dedup by event id and content dedup by fingerprint within the rule's window (aligned to the epoch)."""

from __future__ import annotations

from datetime import datetime, timedelta
from random import Random
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st
from stage1_build import NOW, T0, batch, event, make_stage
from deskwatch.processors.stage1 import DecisionKind, Stage1, Stage1Result, StateLimits
from deskwatch.processors.stage1.bound import to_ms
from deskwatch.processors.stage1.deduplicate import EARLIER_MAX

K = DecisionKind


def kinds(result: Stage1Result) -> list[DecisionKind]:
    return [d.kind for d in result.decisions]


def test_repeats_fold_into_one_signal_and_one_digest(stage: Stage1) -> None:
    envelope = batch(*(event(at=T0 + timedelta(minutes=m)) for m in range(3)))
    result = stage.process(envelope, None, NOW)
    assert kinds(result) == [K.NEW, K.DUPLICATE_CONTENT, K.DUPLICATE_CONTENT]
    [signal] = result.signals
    assert (signal.rule_id, signal.count, signal.distinct, signal.deduplicated) == (
        "disk-errors",
        3,
        3,
        2,
    )
    assert (signal.first_seen, signal.last_seen) == (T0, T0 + timedelta(minutes=2))
    [digest] = result.digests
    assert (digest.repeat_count, digest.first_seen, digest.last_seen) == (
        3,
        T0,
        T0 + timedelta(minutes=2),
    )
    assert digest.rule_ids == ["disk-errors"] and digest.group_keys == [
        "disk-errors|host.name=PC-LYON-01"
    ]
    assert result.counters.duplicate_content == 2 and result.counters.new == 1


def test_replayed_batch_is_all_duplicate_ids_and_changes_nothing(stage: Stage1) -> None:
    envelope = batch(
        event(),
        event(code="11", message="The driver detected a controller error."),
        event(code="1"),
    )
    first = stage.process(envelope, None, NOW)
    again = stage.process(envelope, first.new_state, NOW)
    assert kinds(again) == [K.DUPLICATE_ID] * 3
    assert again.signals == [] and again.digests == []
    assert again.new_state == first.new_state
    assert again.counters.duplicate_id == 3


def test_same_id_twice_in_one_batch(stage: Stage1) -> None:
    e = event()
    result = stage.process(batch(e, e), None, NOW)
    assert kinds(result) == [K.NEW, K.DUPLICATE_ID]
    assert result.signals[0].count == 1


def test_counts_accumulate_across_batches_under_one_digest_id(stage: Stage1) -> None:
    first = stage.process(batch(event(at=T0)), None, NOW)
    second = stage.process(batch(event(at=T0 + timedelta(minutes=4))), first.new_state, NOW)
    assert kinds(second) == [K.DUPLICATE_CONTENT]
    assert second.digests[0].digest_id == first.digests[0].digest_id
    assert (first.digests[0].repeat_count, second.digests[0].repeat_count) == (1, 2)
    # the repeat still reaches stage 2: thresholds count events, repeats included
    assert second.signals[0].count == 1 and second.signals[0].deduplicated == 1


def test_window_expires_by_event_time(stage: Stage1) -> None:
    # disk-errors has dedup_window 10m: the window holds [T0, T0+10m)
    times = [
        T0,
        T0 + timedelta(minutes=9, seconds=59),
        T0 + timedelta(minutes=10),
        T0 + timedelta(minutes=12),
    ]
    result = stage.process(batch(*(event(at=t) for t in times)), None, NOW)
    assert kinds(result) == [K.NEW, K.DUPLICATE_CONTENT, K.WINDOW_EXPIRED, K.DUPLICATE_CONTENT]
    assert [(d.window_start, d.repeat_count) for d in result.digests] == [(T0, 2), (times[2], 2)]
    assert len({d.digest_id for d in result.digests}) == 2


def test_wall_clock_does_not_expire_windows(stage: Stage1) -> None:
    first = stage.process(batch(event(at=T0)), None, NOW)
    later = stage.process(
        batch(event(at=T0 + timedelta(minutes=1))), first.new_state, NOW + timedelta(days=3)
    )
    assert kinds(later) == [K.DUPLICATE_CONTENT]


def test_windows_are_aligned_to_the_epoch_not_to_the_first_event(stage: Stage1) -> None:
    # disk-errors' 10-minute windows start at :00, :10, ...: 09:07 and 09:12 are two windows
    result = stage.process(batch(event(at=T0 + timedelta(minutes=7)), event(at=T0 + timedelta(minutes=12))), None, NOW)
    assert kinds(result) == [K.NEW, K.WINDOW_EXPIRED]
    assert [d.window_start for d in result.digests] == [T0, T0 + timedelta(minutes=10)]
    assert [d.first_seen for d in result.digests] == [T0 + timedelta(minutes=7), T0 + timedelta(minutes=12)]


def test_late_event_in_the_open_window_counts_into_it(stage: Stage1) -> None:
    first = stage.process(batch(event(at=T0 + timedelta(minutes=5))), None, NOW)
    late = stage.process(batch(event(at=T0 + timedelta(minutes=1))), first.new_state, NOW)
    assert kinds(late) == [K.DUPLICATE_CONTENT]
    [digest] = late.digests
    assert digest.digest_id == first.digests[0].digest_id and digest.repeat_count == 2
    assert (digest.first_seen, digest.last_seen) == (T0 + timedelta(minutes=1), T0 + timedelta(minutes=5))


def test_late_event_in_a_remembered_older_window_counts_into_that_window(stage: Stage1) -> None:
    # An envelope read again after the host's later ones (a partition read again from its
    # commit): its events count as they did in event time, into the window they fall in.
    first = stage.process(batch(event(at=T0 - timedelta(minutes=25)), event(at=T0)), None, NOW)
    assert kinds(first) == [K.NEW, K.WINDOW_EXPIRED]
    older, newest = first.digests
    late = stage.process(batch(event(at=T0 - timedelta(minutes=28))), first.new_state, NOW)
    assert kinds(late) == [K.DUPLICATE_CONTENT]
    [digest] = late.digests
    assert (digest.digest_id, digest.window_start, digest.repeat_count) == (older.digest_id, T0 - timedelta(minutes=30), 2)
    assert (digest.first_seen, digest.last_seen) == (T0 - timedelta(minutes=28), T0 - timedelta(minutes=25))
    # the newest window is still T0's: a later event counts into it
    after = stage.process(batch(event(at=T0 + timedelta(minutes=1))), late.new_state, NOW)
    assert kinds(after) == [K.DUPLICATE_CONTENT] and after.digests[0].digest_id == newest.digest_id


def test_late_events_in_an_unseen_older_window_open_it_and_leave_the_newest(stage: Stage1) -> None:
    first = stage.process(batch(event(at=T0)), None, NOW)
    old = [T0 - timedelta(minutes=15), T0 - timedelta(minutes=12)]
    late = stage.process(batch(*(event(at=t) for t in old)), first.new_state, NOW)
    assert kinds(late) == [K.WINDOW_EXPIRED, K.DUPLICATE_CONTENT]
    [digest] = late.digests
    assert (digest.window_start, digest.repeat_count, digest.first_seen) == (T0 - timedelta(minutes=20), 2, old[0])
    assert digest.digest_id != first.digests[0].digest_id
    [window] = late.new_state.content.values()
    assert window.window_start == T0 and window.count == 1
    # remembered: read once more in another envelope, the window's next late event is a repeat
    again = stage.process(batch(event(at=T0 - timedelta(minutes=11))), late.new_state, NOW)
    assert kinds(again) == [K.DUPLICATE_CONTENT] and again.digests[0].repeat_count == 3


def test_older_windows_past_the_cap_forget_the_oldest(stage: Stage1) -> None:
    # one event in each of EARLIER_MAX + 2 consecutive windows: the newest is whole, the oldest goes
    times = [T0 + timedelta(minutes=10 * n) for n in range(EARLIER_MAX + 2)]
    result = stage.process(batch(*(event(at=t) for t in times)), None, NOW + timedelta(days=1))
    [window] = result.new_state.content.values()
    assert window.window_start == times[-1] and len(window.earlier) == EARLIER_MAX
    assert [start for start, *_ in window.earlier] == [to_ms(t) * 1000 for t in reversed(times[1:-1])]
    # the forgotten window's late events: the first opens it again (a first), the next is its repeat
    late = stage.process(batch(event(at=T0 + timedelta(minutes=1)), event(at=T0 + timedelta(minutes=2))),
                         result.new_state, NOW + timedelta(days=1))
    assert kinds(late) == [K.WINDOW_EXPIRED, K.DUPLICATE_CONTENT]
    [window] = late.new_state.content.values()
    assert len(window.earlier) == EARLIER_MAX and window.earlier[-1][0] == to_ms(T0) * 1000


def test_a_window_an_older_state_opened_at_its_first_event_still_holds_its_repeats(stage: Stage1) -> None:
    # States written before windows were aligned hold windows from their first event (09:07 here)
    first = stage.process(batch(event(at=T0 + timedelta(minutes=7))), None, NOW)
    [(fp, window)] = first.new_state.content.items()
    legacy = window.model_copy(update={"window_start": T0 + timedelta(minutes=7)})
    state = first.new_state.model_copy(update={"content": {fp: legacy}})
    later = stage.process(batch(event(at=T0 + timedelta(minutes=12))), state, NOW)
    assert kinds(later) == [K.DUPLICATE_CONTENT] and later.digests[0].window_start == T0 + timedelta(minutes=7)
    past = stage.process(batch(event(at=T0 + timedelta(minutes=18))), later.new_state, NOW)
    assert kinds(past) == [K.WINDOW_EXPIRED] and past.digests[0].window_start == T0 + timedelta(minutes=10)


@settings(max_examples=200, deadline=None)
@given(
    # within the windows a fingerprint remembers: the newest and EARLIER_MAX older ones
    st.lists(st.integers(0, 10 * (EARLIER_MAX + 1) - 1), min_size=1, max_size=24, unique=True),
    st.integers(1, 4),
    st.randoms(use_true_random=False),
)
def test_envelopes_in_any_order_count_the_same_repeats_and_digests(
    minutes: list[int], per_envelope: int, rng: Random
) -> None:
    # A host's events in event time, in envelopes read in any order (each envelope in its own
    # order): the same repeats, and each digest ends with the same count and span.
    stage = make_stage()
    events = [event(at=T0 + timedelta(minutes=m, seconds=m % 7, microseconds=m * 997)) for m in sorted(minutes)]
    envelopes = [batch(*events[i : i + per_envelope]) for i in range(0, len(events), per_envelope)]

    def read(order: list[int]) -> tuple[int, dict[str, tuple[int, datetime, datetime]]]:
        state, repeats, digests = None, 0, {}
        for j in order:
            result = stage.process(envelopes[j], state, NOW + timedelta(days=1))
            state = result.new_state
            repeats += kinds(result).count(K.DUPLICATE_CONTENT)
            for d in result.digests:
                digests[d.digest_id] = (d.repeat_count, d.first_seen, d.last_seen)
        return repeats, digests

    in_order = list(range(len(envelopes)))
    shuffled = in_order[:]
    rng.shuffle(shuffled)
    assert read(shuffled) == read(in_order)


def test_dedup_window_comes_from_the_rule() -> None:
    # gpo-failure-host has dedup_window 30m, disk-errors 10m: 20 minutes apart is a repeat for one only
    stage = make_stage()
    gpo: dict[str, Any] = {
        "code": "1058",
        "provider": "Microsoft-Windows-GroupPolicy",
        "message": "The processing of Group Policy failed.",
    }
    result = stage.process(
        batch(
            event(**gpo, at=T0),
            event(**gpo, at=T0 + timedelta(minutes=20)),
            event(at=T0),
            event(at=T0 + timedelta(minutes=20)),
        ),
        None,
        NOW,
    )
    assert kinds(result) == [K.NEW, K.DUPLICATE_CONTENT, K.NEW, K.WINDOW_EXPIRED]


def test_unmatched_event_gets_a_digest_and_no_signal(stage: Stage1) -> None:
    result = stage.process(
        batch(event(code="10", provider="Microsoft-Windows-Sysmon", message="access")), None, NOW
    )
    assert kinds(result) == [K.NO_RULE]
    assert result.signals == [] and len(result.digests) == 1 and result.digests[0].rule_ids == []


def test_event_without_id_gets_a_stable_one(stage: Stage1) -> None:
    e = event(eid=None)
    first = stage.process(batch(e), None, NOW)
    again = stage.process(batch(e), first.new_state, NOW)
    assert first.decisions[0].event_id == again.decisions[0].event_id
    assert kinds(again) == [K.DUPLICATE_ID]


def test_event_older_than_the_horizon_is_dropped_and_counted() -> None:
    stage = make_stage(limits=StateLimits(id_retention=timedelta(hours=1)))
    first = stage.process(batch(event(at=T0 + timedelta(hours=3))), None, NOW + timedelta(hours=3))
    old = stage.process(batch(event(at=T0)), first.new_state, NOW + timedelta(hours=3))
    assert kinds(old) == [K.TOO_OLD] and old.signals == [] and old.digests == [] and old.counters.too_old == 1
    # the reason names the event's time and the horizon it missed (stage 1's agent dead-letters it with it)
    horizon = (T0 + timedelta(hours=2)).isoformat()
    assert old.decisions[0].reason == (f"{T0.isoformat()} is older than PC-LYON-01's exact-dedup horizon "
                                       f"{horizon}: it cannot be told from a replay")


def test_future_timestamps_cannot_expire_the_state(stage: Stage1) -> None:
    seen = stage.process(batch(e := event(at=T0)), None, NOW)
    future = stage.process(batch(event(at=T0 + timedelta(days=30))), seen.new_state, NOW)
    # the watermark stops at now + skew, so ids from T0 are still within the 24h retention
    assert future.new_state.watermark == NOW + StateLimits().max_future_skew
    assert kinds(stage.process(batch(e), future.new_state, NOW)) == [K.DUPLICATE_ID]
