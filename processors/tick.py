"""The ticker: a leader-only timer that writes a Tick into every partition of ``signals``.

Ticks are records, so quiet timeouts and window ends fire on idle partitions, and a replay or a
restarted worker sees the same ticks in the same order. (Stage 1 has no time-based transition,
so ``events`` gets no ticks.)
"""

from __future__ import annotations

from datetime import datetime, timezone

import faust

from deskwatch.processors.wiring import Wiring
from deskwatch.schemas.envelope import Tick


def attach_ticker(app: faust.App, wiring: Wiring, interval_s: float) -> None:
    # faust's App.timer is annotated to return a bare Callable, which mypy calls untyped
    @app.timer(interval=interval_s, on_leader=True, name="ticker")  # type: ignore[untyped-decorator]
    async def ticker() -> None:
        now = datetime.now(timezone.utc)
        for partition in range(wiring.partitions):
            tick = Tick(wall_time=now, partition=partition)
            await wiring.signals.send(value=tick.model_dump_json().encode(), partition=partition)
