"""Keep a host's state bounded: expire by event time, then cap, oldest first.

Eviction of seen ids raises the id horizon, so an evicted id can never come back as NEW: an event
older than the horizon is rejected as too old to check, and a replay stays a no-op.
"""

from __future__ import annotations

from datetime import datetime
from operator import attrgetter

from deskwatch.processors.stage1.state import ContentWindow, RuleHit, StateLimits

# min(map(attrgetter)) runs in C: these checks run once per envelope over up to 1000 windows.
_LAST_SEEN = attrgetter("last_seen")


def to_ms(when: datetime) -> int:
    """Epoch milliseconds of an aware datetime."""
    return round(when.timestamp() * 1000)


def bound_ids(
    ids: dict[str, int], horizon_ms: int, watermark: datetime | None, limits: StateLimits
) -> tuple[dict[str, int], int]:
    """Drop ids older than the retention or beyond the cap; return them and the new horizon."""
    if watermark is not None:
        horizon_ms = max(horizon_ms, to_ms(watermark - limits.id_retention))
    if ids and min(ids.values()) < horizon_ms:  # min() in C: this runs on every envelope
        ids = {key: ts for key, ts in ids.items() if ts >= horizon_ms}
    if len(ids) > limits.max_ids:
        times = sorted(ids.values(), reverse=True)
        cutoff = times[limits.max_ids]  # the newest time that must go; ties go with it
        horizon_ms = max(horizon_ms, cutoff + 1)
        ids = {key: ts for key, ts in ids.items() if ts > cutoff}
    return ids, horizon_ms


def bound_content(
    content: dict[str, ContentWindow], watermark: datetime | None, limits: StateLimits
) -> dict[str, ContentWindow]:
    """Drop fingerprints quiet for longer than the retention, then the least recently seen."""
    if watermark is not None:
        cutoff = watermark - limits.fingerprint_retention
        if content and min(map(_LAST_SEEN, content.values())) < cutoff:
            content = {fp: w for fp, w in content.items() if w.last_seen >= cutoff}
    if len(content) > limits.max_fingerprints:
        newest = sorted(
            content.items(), key=lambda item: (item[1].last_seen, item[0]), reverse=True
        )
        content = dict(newest[: limits.max_fingerprints])
    return content


def bound_hits(
    hits: dict[str, RuleHit], watermark: datetime | None, limits: StateLimits
) -> dict[str, RuleHit]:
    """Drop rule hits older than the retention, then the least recently hit."""
    if watermark is not None:
        cutoff = watermark - limits.hit_retention
        if hits and min(map(_LAST_SEEN, hits.values())) < cutoff:
            hits = {key: h for key, h in hits.items() if h.last_seen >= cutoff}
    if len(hits) > limits.max_hits:
        newest = sorted(hits.items(), key=lambda item: (item[1].last_seen, item[0]), reverse=True)
        hits = dict(newest[: limits.max_hits])
    return hits
