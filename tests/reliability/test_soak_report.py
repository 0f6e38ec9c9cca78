"""The soak's memory figures: growth per process, a restart starting a new span."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "reliability"))

from soak import Sample, memory_growth  # noqa: E402


def sample(minute: float, rss: float, pid: int) -> Sample:
    return Sample(minute, 0, 0, 0, {"processor": rss}, {"processor": 0.1}, {"processor": pid})


def test_growth_is_per_process_from_a_quarter_of_its_life() -> None:
    """The restarted process (pid 11) reloads its state by minute 22: not growth."""
    samples = [sample(1, 50, 10), sample(11, 130, 10), sample(19, 146, 10), sample(20, 86, 11),
               sample(22, 172, 11), sample(30, 200, 11), sample(44, 220, 11)]
    spans = memory_growth(samples, "processor")
    assert [(a.minute, b.minute) for a, b in spans] == [(11, 19), (30, 44)]


def test_a_process_sampled_once_has_no_span() -> None:
    spans = memory_growth([sample(0, 1, 1), sample(10, 1, 1), sample(20, 2, 1), sample(40, 3, 2)], "processor")
    assert [(a.minute, b.minute) for a, b in spans] == [(10, 20)]


def test_the_fleets_clock_is_a_weekdays_midday_whenever_a_zone_has_one() -> None:
    from datetime import UTC, datetime, timedelta

    from soak import working_midday_offset

    def local(start: datetime) -> datetime:
        return start + timedelta(hours=working_midday_offset(start))

    friday = local(datetime(2026, 12, 5, 1, 22, tzinfo=UTC))  # a Saturday in UTC
    assert (friday.weekday(), friday.hour) == (4, 13), "Friday 13:22 at -12, not Saturday noon at +11"
    tuesday = local(datetime(2026, 12, 8, 0, 17, tzinfo=UTC))
    assert (tuesday.weekday(), tuesday.hour) == (0, 12), "Monday 12:17 at -12"
    noon = local(datetime(2026, 12, 8, 12, 5, tzinfo=UTC))
    assert (noon.weekday(), noon.hour) == (1, 12)
    saturday = local(datetime(2026, 12, 5, 12, 0, tzinfo=UTC))  # -12 .. +14 are all the weekend
    assert saturday.weekday() == 5 and saturday.hour == 12
