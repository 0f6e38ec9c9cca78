"""The noise stream: every host's everyday events, merged in time order with bounded memory.

One heap entry per host (its next event time) instead of one generator per host keeps 100k hosts
in a few megabytes. Each host's events are a Poisson process whose rate follows office hours;
since the exponential is memoryless, restarting the draw at each boundary is exact. Laptops log
nothing while asleep and a Power-Troubleshooter 1 when they wake.
"""

from __future__ import annotations

import heapq
from bisect import bisect
from collections.abc import Iterator, Sequence
from itertools import accumulate
from random import Random

from deskwatch.producers.simulate.calendar import WorkCalendar
from deskwatch.producers.simulate.fleet import Host
from deskwatch.producers.simulate.noise_catalog import WAKE
from deskwatch.producers.simulate.vocabulary import Planned, Template

_WAKE_JITTER_S = 1800.0  # laptops open within half an hour of office hours beginning


class NoiseStream:
    """Iterate the noise of a fleet in time order; each iteration starts afresh from the seed."""

    def __init__(
        self,
        hosts: Sequence[Host],
        calendar: WorkCalendar,
        per_host_per_hour: float,
        until: float,
        seed: str,
        templates: list[tuple[Template, float]],
    ) -> None:
        self._hosts = hosts
        self._calendar = calendar
        self._rate = per_host_per_hour / 3600.0
        self._until = until
        self._seed = seed
        self._templates = [t for t, _ in templates]
        self._cumulative = list(accumulate(w for _, w in templates))

    def __iter__(self) -> Iterator[Planned]:
        if self._rate <= 0 or not self._hosts:
            return
        rng = Random(self._seed)
        heap = [self._first(i, h.device_class, rng) for i, h in enumerate(self._hosts)]
        heapq.heapify(heap)
        templates, cumulative, total = self._templates, self._cumulative, self._cumulative[-1]
        hosts, until = self._hosts, self._until
        while heap:
            t, index, waking = heap[0]
            if t >= until:
                heapq.heappop(heap)
                continue
            yield t, index, WAKE if waking else templates[bisect(cumulative, rng.random() * total)]
            heapq.heapreplace(heap, self._after(t, index, hosts[index].device_class, rng))

    def _first(self, index: int, device_class: str, rng: Random) -> tuple[float, int, bool]:
        """A host's first event: a draw from the start, or its wake-up if it starts asleep."""
        if not self._calendar.awake(device_class, 0.0):
            return self._wake(0.0, index, rng)
        return self._after(0.0, index, device_class, rng)

    def _after(
        self, t: float, index: int, device_class: str, rng: Random
    ) -> tuple[float, int, bool]:
        """The host's next event after ``t``: noise, or a wake-up after a night asleep."""
        calendar = self._calendar
        while True:
            boundary = calendar.next_boundary(t)
            factor = calendar.rate_factor(device_class, t)
            if factor > 0.0:
                candidate = t + rng.expovariate(self._rate * factor)
                if candidate < boundary:
                    return candidate, index, False
            if device_class == "laptop" and calendar.is_work_time(t):
                return self._wake(boundary, index, rng)
            t = boundary

    def _wake(self, t: float, index: int, rng: Random) -> tuple[float, int, bool]:
        """The wake-up of a sleeping laptop at the next office hours."""
        return self._calendar.next_work_start(t) + rng.uniform(0.0, _WAKE_JITTER_S), index, True
