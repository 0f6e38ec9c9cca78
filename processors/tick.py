"""The ticker: a leader-only timer that writes a Tick into every partition of ``signals``.

Ticks are records, so quiet timeouts and window ends fire on idle partitions, and a replay or a
restarted worker sees the same ticks in the same order. (Stage 1 has no time-based transition,
so ``events`` gets no ticks.) A tick carries wall time held back to the oldest input stage 1 has
not read (``progress.py``): a worker catching up a backlog ends no timer its backlog would have
kept running. While the broker cannot tell stage 1's commits (a restarted broker reading them
back) the ticker sends none, for up to ``COMMITS_UNKNOWN_PAUSE``, rather than wall time.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Final

import faust
import structlog

from deskwatch.processors.progress import InputProgress, paused_tick, tick_time
from deskwatch.processors.wiring import Wiring
from deskwatch.schemas.envelope import Tick
from deskwatch.topics import CommitsUnknownError

log = structlog.get_logger(__name__)

# Ticks further behind wall time than this are reported: stage 1 is reading a backlog.
BEHIND_REPORTED: Final = timedelta(minutes=1)


@dataclass
class TickerSaid:
    """What the ticker has said in its log, so each change is said once."""

    behind: bool = False  # ticks held back to a backlog
    wall_time: bool = False  # ticks carry wall time: stage 1's progress unreadable
    commits_unknown_since: datetime | None = None  # ticks paused since then


def attach_ticker(app: faust.App, wiring: Wiring, interval_s: float, progress: InputProgress) -> None:
    said = TickerSaid()

    # faust's App.timer is annotated to return a bare Callable, which mypy calls untyped
    @app.timer(interval=interval_s, on_leader=True, name="ticker")  # type: ignore[untyped-decorator]
    async def ticker() -> None:
        now = datetime.now(timezone.utc)
        try:
            oldest = await asyncio.to_thread(progress.oldest_unread)
        except CommitsUnknownError as exc:  # a broker reading its commits back: pause, then wall time
            if said.commits_unknown_since is None:
                said.commits_unknown_since = now
                log.warning("ticks paused: the broker cannot tell stage 1's commits yet", error=str(exc))
            if paused_tick(now, said.commits_unknown_since) is None:
                return
            if not said.wall_time:
                log.warning("ticks carry wall time: stage 1's commits unknown too long", error=str(exc))
                said.wall_time = True
            oldest = None
        except Exception as exc:  # noqa: BLE001 - any other failure to read it: wall time, as before, said once
            if not said.wall_time:
                log.warning("ticks carry wall time: stage 1's progress could not be read", error=str(exc))
                said.wall_time = True
            oldest = None
        else:
            if said.commits_unknown_since is not None:
                log.info("ticks resumed: stage 1's commits known again",
                         paused_s=round((now - said.commits_unknown_since).total_seconds()))
                said.commits_unknown_since = None
            if said.wall_time:
                log.info("ticks held back to stage 1's progress again")
                said.wall_time = False
        at = tick_time(now, oldest)
        behind = now - at >= BEHIND_REPORTED
        if behind != said.behind:
            if behind:
                log.info("ticks held back: stage 1 is reading a backlog", tick_time=at.isoformat(),
                         behind_s=round((now - at).total_seconds()))
            else:
                log.info("ticks at wall time again: stage 1 caught up")
            said.behind = behind
        for partition in range(wiring.partitions):
            tick = Tick(wall_time=at, partition=partition)
            await wiring.signals.send(value=tick.model_dump_json().encode(), partition=partition)
