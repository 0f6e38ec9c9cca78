"""Content dedup: fold repeats of one fingerprint within its window into a count."""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from deskwatch.processors.construct import constructor
from deskwatch.processors.stage1.state import ContentWindow

LINKS_MAX = 16
# Every value below is typed already, and this runs once per event: no validation pass.
_window = constructor(ContentWindow)


class ContentOutcome(StrEnum):
    FIRST = "first"  # never seen (or forgotten): opens a window
    EXPIRED = "expired"  # seen, but its window ended: opens a new window
    REPEAT = "repeat"  # inside the open window: counted
    EARLIER = "earlier"  # late, a window's length or more before the open one: a window of its own


def count_content(
    previous: ContentWindow | None,
    when: datetime,
    window: timedelta,
    rule_ids: tuple[str, ...],
    group_keys: tuple[str, ...],
) -> tuple[ContentOutcome, ContentWindow]:
    """The window after one more event with this fingerprint at ``when`` (event time).

    Decision: a late event a window's length or more before the open window is not its repeat,
    and its own window (``EARLIER``) does not replace the open one (the caller keeps it aside).
    Every earlier event used to count as a repeat of the open window, and an envelope read again
    after the host's later ones (a worker reading a partition again from its commit) so changed
    incidents' ``deduplicated_count``: 8 of 100 such moves on the recovery tests' fleet
    (2026-12-03)."""
    if previous is not None and previous.holds(when):
        return ContentOutcome.REPEAT, _window(
            window_start=previous.window_start,
            window_s=previous.window_s,
            count=previous.count + 1,
            first_seen=min(previous.first_seen, when),
            last_seen=max(previous.last_seen, when),
            rule_ids=_union(previous.rule_ids, rule_ids),
            group_keys=_union(previous.group_keys, group_keys),
        )
    opened = _window(
        window_start=when,
        window_s=max(1, int(window.total_seconds())),
        first_seen=when,
        last_seen=when,
        count=1,
        rule_ids=rule_ids[:LINKS_MAX],
        group_keys=group_keys[:LINKS_MAX],
    )
    if previous is None:
        return ContentOutcome.FIRST, opened
    return (ContentOutcome.EARLIER if when < previous.window_start else ContentOutcome.EXPIRED), opened


def _union(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    if all(item in old for item in new):
        return old
    return tuple(dict.fromkeys((*old, *new)))[:LINKS_MAX]
