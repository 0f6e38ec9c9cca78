"""Keep a host's state bounded: expire by event time, then cap, oldest first.

Eviction of seen ids raises the id horizon, so an evicted id can never come back as NEW: an event
older than the horizon is rejected as too old to check, and a replay stays a no-op. Seen ids go a
bucket at a time (the horizon moves to the bucket's end), except in a host's newest bucket.

Each function takes a *floor*, a lower bound on the times it holds (None when it holds nothing,
or when no bound is known): when the floor is at or past the expiry cutoff nothing can expire and
the entries are not visited. It returns the new floor. Entries only ever get newer or go, so
stage 1 carries the floor from one envelope of a host to the next instead of rescanning.
"""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter
from typing import TypeVar

from deskwatch.processors.stage1.state import ContentWindow, IdBucket, RuleHit, StateLimits

_LAST_SEEN = attrgetter("last_seen")
W = TypeVar("W", ContentWindow, RuleHit)


def to_ms(when: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return round(when.timestamp() * 1000)


def bound_id_buckets(
    buckets: dict[int, IdBucket],
    horizon_ms: int,
    watermark: datetime | None,
    limits: StateLimits,
    width_ms: int,
) -> tuple[dict[int, IdBucket], int]:
    """Drop the buckets wholly older than the retention, then the oldest beyond the cap; the
    parts of buckets (keyed by start + part number, state.py) and the new horizon. A bucket goes
    with all its parts. A newest bucket alone over the cap is trimmed by event time."""
    if watermark is not None:
        horizon_ms = max(horizon_ms, to_ms(watermark - limits.id_retention))
    if buckets and bucket_start(min(buckets), width_ms) + width_ms <= horizon_ms:
        buckets = {key: b for key, b in buckets.items() if bucket_start(key, width_ms) + width_ms > horizon_ms}
    total = sum(len(b.ids) for b in buckets.values())
    if total <= limits.max_ids:
        return buckets, horizon_ms
    by_start: dict[int, list[int]] = {}
    for key in sorted(buckets):
        by_start.setdefault(bucket_start(key, width_ms), []).append(key)
    starts = list(by_start)
    while total > limits.max_ids and len(starts) > 1:
        oldest = starts.pop(0)
        total -= sum(len(buckets[key].ids) for key in by_start[oldest])
        horizon_ms = max(horizon_ms, oldest + width_ms)
    kept = {key: buckets[key] for start in starts for key in by_start[start]}
    if total > limits.max_ids:  # one bucket left: trim its ids by time, then part them again
        start = starts[0]
        every = {eid: ms for key in by_start[start] for eid, ms in kept.pop(key).ids.items()}
        ids, horizon_ms, _ = bound_ids(every, horizon_ms, None, limits)
        kept.update(_parts(start, ids, limits.ids_per_part, width_ms))
    return kept, horizon_ms


def bucket_start(ms: int, width_ms: int) -> int:
    """The start of the id bucket an event time, or a part's key (start + part number), is in."""
    return ms - ms % width_ms


def _parts(start: int, ids: dict[str, int], per_part: int, width_ms: int) -> dict[int, IdBucket]:
    """``ids`` as the parts of the bucket at ``start``, in their order (the last part takes the
    rest if a bucket's width in ms could not number them all)."""
    items = list(ids.items())
    count = min(max(1, -(-len(items) // per_part)), width_ms)
    return {start + n: IdBucket.model_construct(ids=dict(items[n * per_part : None if n == count - 1 else (n + 1) * per_part]),
                                                hashed=True)
            for n in range(count)}


def bound_ids(
    ids: dict[str, int],
    horizon_ms: int,
    watermark: datetime | None,
    limits: StateLimits,
    floor: int | None = None,
) -> tuple[dict[str, int], int, int | None]:
    """Drop ids older than the retention or beyond the cap; the ids, new horizon and new floor."""
    if watermark is not None:
        horizon_ms = max(horizon_ms, to_ms(watermark - limits.id_retention))
    if ids and (floor is None or floor < horizon_ms):
        if min(ids.values()) < horizon_ms:  # min() in C
            ids = {key: ts for key, ts in ids.items() if ts >= horizon_ms}
        floor = min(ids.values(), default=None)
    if len(ids) > limits.max_ids:
        times = sorted(ids.values(), reverse=True)
        cutoff = times[limits.max_ids]  # the newest time that must go; ties go with it
        horizon_ms = max(horizon_ms, cutoff + 1)
        ids = {key: ts for key, ts in ids.items() if ts > cutoff}
        floor = cutoff + 1
    return ids, horizon_ms, floor if ids else None


def bound_content(
    content: dict[str, ContentWindow],
    watermark: datetime | None,
    limits: StateLimits,
    floor: datetime | None = None,
) -> tuple[dict[str, ContentWindow], datetime | None]:
    """Drop fingerprints quiet for longer than the retention, then the least recently seen."""
    cutoff = None if watermark is None else watermark - limits.fingerprint_retention
    return _bound_by_last_seen(content, cutoff, limits.max_fingerprints, floor)


def bound_hits(
    hits: dict[str, RuleHit],
    watermark: datetime | None,
    limits: StateLimits,
    floor: datetime | None = None,
) -> tuple[dict[str, RuleHit], datetime | None]:
    """Drop rule hits older than the retention, then the least recently hit."""
    cutoff = None if watermark is None else watermark - limits.hit_retention
    return _bound_by_last_seen(hits, cutoff, limits.max_hits, floor)


def _bound_by_last_seen(
    entries: dict[str, W], cutoff: datetime | None, cap: int, floor: datetime | None
) -> tuple[dict[str, W], datetime | None]:
    if cutoff is not None and entries and (floor is None or floor < cutoff):
        oldest = min(map(_LAST_SEEN, entries.values()))  # in C: up to a thousand entries
        if oldest < cutoff:
            entries = {key: e for key, e in entries.items() if e.last_seen >= cutoff}
            oldest = min(map(_LAST_SEEN, entries.values()), default=None)
        floor = oldest
    if len(entries) > cap:
        newest = sorted(entries.items(), key=lambda item: (item[1].last_seen, item[0]), reverse=True)
        entries = dict(newest[:cap])
        floor = newest[cap - 1][1].last_seen
    return entries, floor if entries else None
