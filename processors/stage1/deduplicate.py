"""Content dedup: fold repeats of one fingerprint within its window into a count.

Windows are aligned to the epoch (state.ContentWindow says why): an event's window is
``window_start = time - time mod window``. A fingerprint keeps its newest window whole and up to
``EARLIER_MAX`` older ones as ``[start, count, first seen, last seen]`` (epoch microseconds,
exact: a digest's times are the same whichever order its events came in), so a late event in one
of them is its repeat, as it was in event-time order.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum

from deskwatch.processors.construct import constructor
from deskwatch.processors.stage1.state import ContentWindow, EarlierWindow

LINKS_MAX = 16
# Older windows a fingerprint remembers. A one-event envelope read after its host's next eight
# reaches back at most eight windows of a fingerprint, a 50-event one (10 minutes) ~16 of the
# default pack's 10-minute windows; 16 entries are ~0.8 KiB of JSON for a fingerprint that
# repeats in every window, before compression.
EARLIER_MAX = 16
# Every value below is typed already, and this runs once per event: no validation pass.
_window = constructor(ContentWindow)

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_US = timedelta(microseconds=1)


class ContentOutcome(StrEnum):
    FIRST = "first"  # never seen (or forgotten): opens a window
    EXPIRED = "expired"  # seen, but in an earlier window: opens a new one
    REPEAT = "repeat"  # in a window it remembers: counted
    EARLIER = "earlier"  # late, in an older window it does not remember: a window of its own


def count_content(
    previous: ContentWindow | None,
    when: datetime,
    window: timedelta,
    rule_ids: tuple[str, ...],
    group_keys: tuple[str, ...],
) -> tuple[ContentOutcome, ContentWindow, ContentWindow]:
    """One more event with this fingerprint at ``when`` (event time): the outcome, the fingerprint's
    state after it, and the window the event counted in (the state's newest, or an older one)."""
    window_s = max(1, int(window.total_seconds()))
    when_us = _to_us(when)
    start_us = when_us - when_us % (window_s * 1_000_000)
    if previous is None:
        opened = _opened(start_us, window_s, when, rule_ids, group_keys, ())
        return ContentOutcome.FIRST, opened, opened
    if previous.window_s != window_s:  # the rules' window changed: the old ones are not comparable
        opened = _opened(start_us, window_s, when, rule_ids, group_keys, ())
        return ContentOutcome.EXPIRED, opened, opened
    previous_us = _to_us(previous.window_start)
    if start_us == previous_us or (previous_us % (window_s * 1_000_000) and previous.holds(when)):
        counted = _window(
            window_start=previous.window_start,
            window_s=window_s,
            first_seen=min(previous.first_seen, when),
            last_seen=max(previous.last_seen, when),
            count=previous.count + 1,
            rule_ids=_union(previous.rule_ids, rule_ids),
            group_keys=_union(previous.group_keys, group_keys),
            earlier=previous.earlier,
        )
        return ContentOutcome.REPEAT, counted, counted
    if start_us > previous_us:
        pushed = (previous_us, previous.count, _to_us(previous.first_seen), _to_us(previous.last_seen))
        opened = _opened(start_us, window_s, when, rule_ids, group_keys, (pushed, *previous.earlier[: EARLIER_MAX - 1]))
        return ContentOutcome.EXPIRED, opened, opened
    return _late(previous, start_us, when_us, window_s, rule_ids, group_keys)


def _late(
    previous: ContentWindow,
    start_us: int,
    when_us: int,
    window_s: int,
    rule_ids: tuple[str, ...],
    group_keys: tuple[str, ...],
) -> tuple[ContentOutcome, ContentWindow, ContentWindow]:
    """An event in a window older than the newest: a repeat of a remembered one, else the first of
    its own, remembered in start order; past ``EARLIER_MAX``, the oldest other is forgotten."""
    earlier = list(previous.earlier)
    outcome = ContentOutcome.EARLIER
    at = len(earlier)
    for i, (start, count, first, last) in enumerate(earlier):
        if start == start_us:
            outcome, at = ContentOutcome.REPEAT, i
            earlier[i] = (start, count + 1, min(first, when_us), max(last, when_us))
            break
        if start < start_us:
            at = i
            break
    if outcome is ContentOutcome.EARLIER:
        earlier.insert(at, (start_us, 1, when_us, when_us))
        if len(earlier) > EARLIER_MAX:  # forget the oldest other, so its next late events count into it
            drop = len(earlier) - (2 if at == len(earlier) - 1 else 1)
            del earlier[drop]
            at -= drop < at
    entry = earlier[at]
    kept = _window(**{**previous.__dict__, "earlier": tuple(earlier)})
    counted = _window(
        window_start=_utc(entry[0]),
        window_s=window_s,
        first_seen=_utc(entry[2]),
        last_seen=_utc(entry[3]),
        count=entry[1],
        rule_ids=_union(previous.rule_ids, rule_ids),
        group_keys=_union(previous.group_keys, group_keys),
        earlier=(),
    )
    return outcome, kept, counted


def _opened(
    start_us: int,
    window_s: int,
    when: datetime,
    rule_ids: tuple[str, ...],
    group_keys: tuple[str, ...],
    earlier: tuple[EarlierWindow, ...],
) -> ContentWindow:
    return _window(
        window_start=_utc(start_us),
        window_s=window_s,
        first_seen=when,
        last_seen=when,
        count=1,
        rule_ids=rule_ids[:LINKS_MAX],
        group_keys=group_keys[:LINKS_MAX],
        earlier=earlier,
    )


def _to_us(when: datetime) -> int:
    return (when - _EPOCH) // _US


def _utc(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def _union(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    if all(item in old for item in new):
        return old
    return tuple(dict.fromkeys((*old, *new)))[:LINKS_MAX]
