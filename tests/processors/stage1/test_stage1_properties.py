"""Properties over random envelopes: a replay is a no-op, every event gets one decision, caps hold."""

from __future__ import annotations

from datetime import timedelta

from stage1_build import NOW, T0, batch, event, make_stage
from deskwatch.processors.stage1 import DecisionKind, HostState, Stage1Result, StateLimits
from deskwatch.schemas.event import WorkstationEvent
from hypothesis import given, settings
from hypothesis import strategies as st

# (code, provider, message) mixing rule hits, recoveries, repeats and noise
KINDS = [
    ("7", "disk", r"The device, \Device\Harddisk0\DR0, has a bad block."),
    ("7031", "Service Control Manager", "The Print Spooler service terminated unexpectedly."),
    ("7036", "Service Control Manager", "The Print Spooler service entered the running state."),
    ("1058", "Microsoft-Windows-GroupPolicy", "The processing of Group Policy failed."),
    ("1502", "Microsoft-Windows-GroupPolicy", "Group Policy processed successfully."),
    ("4625", "Microsoft-Windows-Security-Auditing", "An account failed to log on."),
    ("10", "Microsoft-Windows-Sysmon", "Process accessed."),
]
LIMITS = StateLimits(max_ids=10, max_fingerprints=4, max_hits=2, id_retention=timedelta(hours=6))
STAGE = make_stage(limits=LIMITS)

# An event id always comes with the same event (it hashes the original bytes): draw a pool of
# distinct events, then envelopes that pick from it, so replays and overlaps are common.
_event_fields = st.tuples(
    st.integers(0, len(KINDS) - 1),  # kind
    st.integers(0, 10 * 60),  # minute after T0
    st.sampled_from(["PC-LYON-01", "PC-NOWHERE"]),
)


@st.composite
def envelopes(draw: st.DrawFn) -> list[list[WorkstationEvent]]:
    fields = draw(st.lists(_event_fields, min_size=4, max_size=80))
    pool = [
        event(
            *KINDS[kind],
            host=host,
            at=T0 + timedelta(minutes=minute),
            eid=f"e{n}",
            labels={"TargetUserName": f"u{n % 4}"},
        )
        for n, (kind, minute, host) in enumerate(fields)
    ]
    picks = st.lists(st.sampled_from(pool), min_size=3, max_size=30)
    return draw(st.lists(picks, min_size=1, max_size=5))


def _run(chunks: list[list[WorkstationEvent]]) -> tuple[HostState | None, list[Stage1Result]]:
    state: HostState | None = None
    results: list[Stage1Result] = []
    for chunk in chunks:
        result = STAGE.process(batch(*chunk, host="PC-LYON-01"), state, NOW)
        results.append(result)
        state = result.new_state
    return state, results


@settings(max_examples=150, deadline=None)
@given(envelopes())
def test_replaying_an_envelope_changes_nothing(chunks: list[list[WorkstationEvent]]) -> None:
    state, _ = _run(chunks)
    for chunk in chunks:
        again = STAGE.process(batch(*chunk, host="PC-LYON-01"), state, NOW)
        assert again.new_state == state
        assert again.signals == [] and again.digests == []
        assert {d.kind for d in again.decisions} <= {
            DecisionKind.DUPLICATE_ID,
            DecisionKind.TOO_OLD,
        }


@settings(max_examples=150, deadline=None)
@given(envelopes())
def test_once_equals_twice_in_a_row(chunks: list[list[WorkstationEvent]]) -> None:
    once, _ = _run(chunks)
    doubled, results = _run([c for chunk in chunks for c in (chunk, chunk)])
    assert doubled == once
    assert all(r.signals == [] for r in results[1::2])


@settings(max_examples=150, deadline=None)
@given(envelopes())
def test_every_event_is_decided_once_and_caps_hold(chunks: list[list[WorkstationEvent]]) -> None:
    state, results = _run(chunks)
    seen: set[str] = set()
    for chunk, result in zip(chunks, results, strict=True):
        assert [d.event_id for d in result.decisions] == [e.event_id for e in chunk]
        c = result.counters
        assert (
            c.events
            == len(chunk)
            == sum(
                (c.new, c.no_rule, c.window_expired, c.duplicate_content, c.duplicate_id, c.too_old)
            )
        )
        for e, d in zip(chunk, result.decisions, strict=True):
            # an id seen before is never NEW again (it is a duplicate, or too old to check)
            if e.event_id in seen:
                assert d.kind in (DecisionKind.DUPLICATE_ID, DecisionKind.TOO_OLD)
            seen.add(e.event_id)
        carried = sum(s.count for s in result.signals if not s.recovery)
        assert carried == sum(len(d.rule_ids) for d in result.decisions)
    assert state is not None
    assert len(state.seen_ids) <= LIMITS.max_ids
    assert len(state.content) <= LIMITS.max_fingerprints and len(state.hits) <= LIMITS.max_hits


SHORT = StateLimits(
    max_ids=10,
    max_fingerprints=4,
    max_hits=2,
    id_retention=timedelta(hours=3),
    fingerprint_retention=timedelta(hours=1),
    hit_retention=timedelta(hours=2),
)


@settings(max_examples=150, deadline=None)
@given(envelopes())
def test_kept_floors_change_nothing(chunks: list[list[WorkstationEvent]]) -> None:
    """One Stage1 keeps each host's floors between envelopes; a fresh one per envelope cannot:
    both give the same results (expiry and caps both exercised by the short limits)."""
    keeping, state_a, state_b = make_stage(limits=SHORT), None, None
    for chunk in chunks:
        a = keeping.process(batch(*chunk, host="PC-LYON-01"), state_a, NOW)
        b = make_stage(limits=SHORT).process(batch(*chunk, host="PC-LYON-01"), state_b, NOW)
        assert (a.new_state, a.decisions, a.signals, a.digests) == (
            b.new_state, b.decisions, b.signals, b.digests
        )
        state_a, state_b = a.new_state, b.new_state


@settings(max_examples=150, deadline=None)
@given(envelopes(), st.integers(1, 3), st.sampled_from([LIMITS, SHORT]))
def test_parts_of_id_buckets_change_nothing(chunks: list[list[WorkstationEvent]], per_part: int,
                                            limits: StateLimits) -> None:
    """Buckets in parts of one to three ids decide, count and remember as whole buckets do (caps,
    expiry and the trim of a newest bucket alone over the cap exercised by the small limits)."""
    parted = make_stage(limits=limits.model_copy(update={"ids_per_part": per_part}))
    whole = make_stage(limits=limits.model_copy(update={"ids_per_part": 1_000_000}))
    state_p = state_w = None
    for chunk in chunks:
        p = parted.process(batch(*chunk, host="PC-LYON-01"), state_p, NOW)
        w = whole.process(batch(*chunk, host="PC-LYON-01"), state_w, NOW)
        assert (p.decisions, p.signals, p.digests, p.counters) == (w.decisions, w.signals, w.digests, w.counters)
        state_p, state_w = p.new_state, w.new_state
        assert state_p.seen_ids == state_w.seen_ids and state_p.id_horizon_ms == state_w.id_horizon_ms
        assert all(len(part.ids) <= per_part for part in state_p.id_buckets.values())
