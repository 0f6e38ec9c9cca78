"""Timestamps of the source formats: ISO 8601 text and RFC 3164's year-less stamps."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, tzinfo
from typing import Final

MONTHS: Final[dict[str, int]] = {
    name: number
    for number, name in enumerate(
        ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"), 1
    )
}
# A year-less Feb 29 may have to go back 8 years to fit (1900 and 2100 are not leap years).
YEARS_TRIED: Final = 8
FUTURE_SLACK: Final = timedelta(days=1)  # clocks of senders and collector disagree a little


def parse_iso(text: str, tz: tzinfo) -> datetime | None:
    """Parse ISO 8601 text (``Z``, offsets, 7-digit fractions); naive text is read in ``tz``."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except (ValueError, TypeError, AttributeError):
        return None
    return parsed.replace(tzinfo=tz) if parsed.tzinfo is None else parsed


def place_in_year(
    month: int, day: int, clock: time, *, tz: tzinfo, year: int | None, reference: datetime
) -> datetime | None:
    """The aware timestamp for a year-less date: ``year`` if given, else the latest year that
    puts it not after ``reference`` + 1 day. None when no such date exists (e.g. Feb 30)."""
    if year is not None:
        return _combine(year, month, day, clock, tz)
    limit = reference + FUTURE_SLACK
    start = limit.astimezone(tz).year
    for candidate in range(start, start - YEARS_TRIED, -1):
        stamp = _combine(candidate, month, day, clock, tz)
        if stamp is not None and stamp <= limit:
            return stamp
    return None


def _combine(year: int, month: int, day: int, clock: time, tz: tzinfo) -> datetime | None:
    try:
        return datetime.combine(date(year, month, day), clock, tzinfo=tz)
    except ValueError:
        return None
