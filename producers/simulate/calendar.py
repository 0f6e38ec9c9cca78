"""Office hours in stream offsets: when laptops are awake and how busy each device class is.

Times are float seconds from the simulation's start; the arithmetic works on local epoch seconds
so a million lookups cost no ``datetime`` objects.
"""

from __future__ import annotations

from datetime import datetime

_DAY = 86_400.0
_THURSDAY = 3  # 1970-01-01 was a Thursday; Monday = 0

# Noise rate multiplier outside office hours: desktops mostly idle or off, servers always busy,
# laptops asleep (no events at all).
OFF_HOURS_FACTOR = {"workstation": 0.15, "laptop": 0.0, "server": 1.0}


class WorkCalendar:
    """Weekday office hours ``[begin, end)`` local time, for offsets from ``start``."""

    def __init__(
        self, start: datetime, utc_offset_hours: float, work_hours: tuple[int, int]
    ) -> None:
        self._origin = start.timestamp() + utc_offset_hours * 3600.0
        self._begin = work_hours[0] * 3600.0
        self._end = work_hours[1] * 3600.0

    def is_work_time(self, t: float) -> bool:
        """True on a weekday between the office hours."""
        local = self._origin + t
        day = local // _DAY
        second = local - day * _DAY
        return (day + _THURSDAY) % 7 < 5 and self._begin <= second < self._end

    def next_boundary(self, t: float) -> float:
        """The first offset after ``t`` where office hours begin or end."""
        local = self._origin + t
        day = local // _DAY
        second = local - day * _DAY
        base = day * _DAY - self._origin
        if second < self._begin:
            return base + self._begin
        if second < self._end:
            return base + self._end
        return base + _DAY + self._begin

    def next_work_start(self, t: float) -> float:
        """The next offset at or after ``t`` that lies in office hours."""
        probe = t
        for _ in range(16):
            if self.is_work_time(probe):
                return probe
            probe = self.next_boundary(probe)
        raise AssertionError("no office hours within a fortnight")  # begin < end is validated

    def work_end(self, t: float) -> float:
        """The end of the office period containing ``t`` (``t`` must be in office hours)."""
        return self.next_boundary(t)

    def rate_factor(self, device_class: str, t: float) -> float:
        """The noise rate multiplier of a device class at ``t``."""
        return 1.0 if self.is_work_time(t) else OFF_HOURS_FACTOR[device_class]

    def awake(self, device_class: str, t: float) -> bool:
        """False only for a laptop outside office hours."""
        return device_class != "laptop" or self.is_work_time(t)

    def work_periods(self, until: float) -> list[tuple[float, float]]:
        """The office periods ``(begin, end)`` that overlap ``[0, until)``, clipped to it."""
        periods: list[tuple[float, float]] = []
        t = 0.0 if self.is_work_time(0.0) else self.next_boundary(0.0)
        while t < until:
            if self.is_work_time(t):
                end = self.next_boundary(t)
                periods.append((t, min(end, until)))
                t = end
            else:
                t = self.next_boundary(t)
        return periods
