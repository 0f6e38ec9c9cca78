"""Host envelopes: flushed by count, bytes, linger and at the end; never mixing hosts."""

from __future__ import annotations

from datetime import datetime, timezone

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from deskwatch.producers.envelope import EnvelopeLimits, Enveloper, WireEnveloper, enveloped
from deskwatch.schemas import EventBatch, WorkstationEvent


def _ev(host: str, n: int) -> WorkstationEvent:
    return WorkstationEvent.model_validate({
        "@timestamp": datetime(2026, 11, 29, tzinfo=timezone.utc), "host": {"name": host},
        "event": {"id": f"{host}-{n}", "code": "1", "provider": "p"},
    })


@pytest.mark.parametrize(("limits", "sizes", "full_after"), [
    (EnvelopeLimits(3, 10**9, 60), [10, 10, 10], 3),
    (EnvelopeLimits(100, 25, 60), [10, 10, 10], 3),
    (EnvelopeLimits(1, 10**9, 60), [10], 1),
], ids=["by-count", "by-bytes", "single"])
def test_envelope_is_full_by_count_or_bytes(limits: EnvelopeLimits, sizes: list[int], full_after: int) -> None:
    env = Enveloper(limits, "src")
    results = [env.add(_ev("PC-1", i), size, now=0.0) for i, size in enumerate(sizes)]
    assert all(r is None for r in results[: full_after - 1])
    full = results[full_after - 1]
    assert full is not None and [e.event.id for e in full.events] == [f"PC-1-{i}" for i in range(full_after)]
    assert env.pending_events == 0


def test_envelopes_never_mix_hosts_and_linger_flushes_stale_ones() -> None:
    env = Enveloper(EnvelopeLimits(100, 10**9, linger_s=1.0), "src")
    env.add(_ev("PC-1", 0), 1, now=0.0)
    env.add(_ev("PC-2", 0), 1, now=0.8)
    env.add(_ev("PC-1", 1), 1, now=0.9)
    due = env.due(now=1.0)
    assert [(b.host, len(b.events)) for b in due] == [("PC-1", 2)]
    rest = env.drain()
    assert [(b.host, len(b.events), b.source) for b in rest] == [("PC-2", 1, "src")]
    assert env.pending_events == 0 and env.drain() == []


def test_events_by_event_time_leave_due_before_the_event_that_finds_them_stale_and_full_with_the_last() -> None:
    def at(host: str, n: int, second: float) -> WorkstationEvent:
        return _ev(host, n).model_copy(update={"timestamp": datetime.fromtimestamp(1_800_000_000 + second, timezone.utc)})

    events = [at("PC-1", 0, 0.0), at("PC-2", 0, 0.5), at("PC-2", 1, 0.6), at("PC-1", 1, 2.0), at("PC-3", 0, 2.1)]
    env = Enveloper(EnvelopeLimits(2, 10**9, linger_s=1.0), "src")
    sent = [(b.host, [e.event.id for e in b.events], round(now.timestamp() - 1_800_000_000, 3))
            for b, now in enveloped(events, env)]
    assert sent == [("PC-2", ["PC-2-0", "PC-2-1"], 0.6),  # full with its second event
                    ("PC-1", ["PC-1-0"], 2.0)]  # stale when the event at 2.0 comes, sent before it
    assert [(b.host, len(b.events)) for b in env.drain()] == [("PC-1", 1), ("PC-3", 1)]  # left open


def _wire_vs_models(limits: EnvelopeLimits, source: str, events: list[WorkstationEvent]) -> list[tuple[bytes, bytes]]:
    """(wire envelope, the model envelope's own JSON) pairs, fed the same events and clock."""
    wire, models = WireEnveloper(limits, source), Enveloper(limits, source)
    pairs = []
    for i, ev in enumerate(events):
        w, m = wire.add(ev, 10, now=float(i)), models.add(ev, 10, now=float(i))
        assert (w is None) == (m is None)
        if w is not None and m is not None:
            pairs.append((w, m))
    pairs += zip(wire.due(len(events) + 1.0), models.due(len(events) + 1.0), strict=True)
    assert wire.pending_events == 0 and wire.drain() == []
    for w, m in pairs:
        assert (w.host, w.source, w.count) == (m.host, m.source, len(m.events))
    return [(w.value, m.model_dump_json(by_alias=True, exclude_none=True).encode()) for w, m in pairs]


@pytest.mark.parametrize(("source", "hosts"), [
    ("src", ["PC-1", "PC-1", "PC-2", "PC-1"]),
    ('C:\\logs\\"quoted" é\u2028', ["PC-é", "PC-\"2\"", "PC-é"]),
], ids=["plain", "escapes-and-unicode"])
def test_wire_envelopes_are_the_event_batch_json(source: str, hosts: list[str]) -> None:
    events = [_ev(h, i) for i, h in enumerate(hosts)]
    pairs = _wire_vs_models(EnvelopeLimits(2, 10**9, linger_s=0.5), source, events)
    assert len(pairs) >= 2
    for wire, expected in pairs:
        assert wire == expected
        assert EventBatch.model_validate_json(wire).events  # and it decodes as the contract says


def test_wire_enveloper_checks_the_source_like_event_batch() -> None:
    with pytest.raises(ValidationError):
        WireEnveloper(EnvelopeLimits(1, 1, 1.0), "s" * 513)


def test_events_encoded_elsewhere_make_the_same_envelopes() -> None:
    """add_encoded (events encoded by parse.offload) and add (models) give byte-identical envelopes."""
    events = [_ev(h, i) for i, h in enumerate(["PC-1", "PC-2", "PC-1", "PC-1"])]
    limits = EnvelopeLimits(2, 10**9, linger_s=0.5)
    models, encoded = WireEnveloper(limits, "src"), WireEnveloper(limits, "src")
    from_models = [models.add(e, 10, 0.0) for e in events] + models.drain()
    from_bytes = [encoded.add_encoded(e.host.name, e.model_dump_json(by_alias=True, exclude_none=True).encode(), 10, 0.0)
                  for e in events] + encoded.drain()
    assert from_bytes == from_models
    assert [len(EventBatch.model_validate_json(b.value).events) for b in from_bytes if b is not None] == [2, 1, 1]


def _full_scan_due(opened: dict[str, float], now: float, linger: float) -> list[str]:
    """What ``due`` must send: every envelope open for at least the linger, in opening order."""
    return [host for host, at in opened.items() if now - at >= linger]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["PC-1", "PC-2", "PC-3", "PC-4"]),
                          st.floats(-0.5, 2.0), st.booleans()), max_size=60))
def test_due_sends_exactly_the_stale_envelopes_whatever_the_clock_does(
        steps: list[tuple[str, float, bool]]) -> None:
    """Early stop in opening order equals a full scan, also when the clock goes back."""
    env, linger, now = Enveloper(EnvelopeLimits(3, 10**9, linger_s=1.0), "src"), 1.0, 0.0
    opened: dict[str, float] = {}
    counts: dict[str, int] = {}
    for n, (host, step, ask) in enumerate(steps):
        now += step
        if ask:
            expected = _full_scan_due(opened, now, linger)
            assert [(b.host, len(b.events)) for b in env.due(now)] == [(h, counts[h]) for h in expected]
            for h in expected:
                del opened[h], counts[h]
        opened.setdefault(host, now)
        counts[host] = counts.get(host, 0) + 1
        if env.add(_ev(host, n), 1, now) is not None:  # full by count: sent, closed
            assert counts[host] == 3
            del opened[host], counts[host]
    assert sorted((b.host, len(b.events)) for b in env.drain()) == sorted(counts.items())


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["PC-1", "PC-2", "PC-3", "PC-4", "PC-5"]), st.booleans()), max_size=80),
       st.integers(1, 12))
def test_past_the_bound_the_oldest_envelopes_go_until_a_tenth_is_free(
        steps: list[tuple[str, bool]], bound: int) -> None:
    """``past_bound`` against a model: below the bound nothing; at it or past it, the envelopes in
    opening order (a host whose envelope was sent reopens last) until at most 9/10 of it stay
    open; the others stay open, every event in one envelope only, in its order."""
    env, keep = WireEnveloper(EnvelopeLimits(4, 10**9, linger_s=60.0), "src"), bound * 9 // 10
    opened: dict[str, list[str]] = {}  # the model: host -> its open event ids, in opening order
    sent: list[str] = []
    for n, (host, ask) in enumerate(steps):
        if ask:
            out = env.past_bound(bound)
            expected: list[str] = []
            left = sum(map(len, opened.values()))
            if left >= bound:
                for h, ids in opened.items():
                    if left <= keep:
                        break
                    expected.append(h)
                    left -= len(ids)
            assert [b.host for b in out] == expected
            for b in out:
                ids = opened.pop(b.host)
                assert [e.event.id for e in EventBatch.model_validate_json(b.value).events] == ids
                sent += ids
            assert env.pending_events == sum(map(len, opened.values()))
        opened.setdefault(host, []).append(f"{host}-{n}")
        full = env.add(_ev(host, n), 1, 0.0)
        if full is not None:  # full by count: sent, closed
            assert len(opened[host]) == 4
            sent += opened.pop(host)
    rest = [str(e.event.id) for b in env.drain() for e in EventBatch.model_validate_json(b.value).events]
    assert sorted(sent + rest) == sorted(f"{h}-{n}" for n, (h, _) in enumerate(steps))
