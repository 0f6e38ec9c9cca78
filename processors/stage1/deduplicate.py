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


def count_content(
    previous: ContentWindow | None,
    when: datetime,
    window: timedelta,
    rule_ids: tuple[str, ...],
    group_keys: tuple[str, ...],
) -> tuple[ContentOutcome, ContentWindow]:
    """The window after one more event with this fingerprint at ``when`` (event time)."""
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
    return (ContentOutcome.FIRST if previous is None else ContentOutcome.EXPIRED), opened


def _union(old: tuple[str, ...], new: tuple[str, ...]) -> tuple[str, ...]:
    if all(item in old for item in new):
        return old
    return tuple(dict.fromkeys((*old, *new)))[:LINKS_MAX]
