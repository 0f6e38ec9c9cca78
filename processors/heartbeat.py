"""A worker's heartbeat: one log line per interval saying what the worker is doing.

faust runs quiet, so a worker that waits (for partitions, a table recovery, a rebalance) and one
that has nothing to do looked the same in its log. The line is written from a daemon thread, not
a faust timer, so it also appears while the worker is starting or its event loop is blocked; a
phase other than processing/idle that lasts past ``stall_after_s`` is logged as a warning.

A worker that keeps waiting past ``exit_after_s`` exits (``on_exit``, code ``os.EX_TEMPFAIL``, 75) so its
supervisor starts a fresh one. faust has states it does not leave by itself: a broker killed while
a worker starts left one in a rebalance whose offset lookup timed out after the broker was back,
its consumer thread crashed and never stopped. A new process joins the group again and reads from
the committed offsets; everything it re-reads is idempotent downstream. Table recovery is not
counted: a large changelog legitimately takes long, and faust's recovery times out on its own.
faust sets ``rebalancing`` through the recovery as well, so ``in_recovery`` is read first.

``on_stall`` (resume the inputs, stalls.py) runs only for a *stalled* worker: records waiting on its
input partitions, none read, neither rebalancing nor recovering, for ``stall_after_s``. Run during
a table recovery, it let the agents read input before the state was recovered: a memory bench's
worker recovering 100k hosts' state for more than 60 s processed ~46 % of the hosts' envelopes
against no state at all (their exact duplicates became new events).
Nor is having no partition: a worker beyond the partition count stands by. A faust app that was
told to stop or crashed is "stopping", whatever else it reports: a CI run's worker had its start
fail ("got Future attached to a different loop") while Kafka was away, began to stop, never
finished, and, holding no partition, would otherwise have waited forever.

A table recovery that reads nothing for ``stall_after_s`` (its offsets unchanged while a changelog
partition is short of its end) has those partitions read again (``on_recovery_stall``, stall.py),
at most once per ``stall_after_s``.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from kafka import TopicPartition

from deskwatch.topics import OffsetReader, unread_offsets
from deskwatch.settings import KafkaSettings

# (topic, partition, next offset it needs) of each input partition with records past it
Waiting = tuple[tuple[str, int, int], ...]
# (changelog topic, partition, last offset applied or -1, offset needed) of each partition a table recovery still reads
Recovering = tuple[tuple[str, int, int, int], ...]

log = structlog.get_logger(__name__)

# How long one beat waits for the broker to tell its group's commits (a third of the default
# 15 s interval: a beat that cannot tell logs "heartbeat unreadable" and the next one asks again).
COMMITS_WAIT_S = 5.0


@dataclass(frozen=True)
class Pulse:
    """What the worker reported at one instant (counters are totals since start)."""

    started: bool
    in_recovery: bool
    rebalancing: bool
    assigned: int
    received: int
    committed: int
    behind: int = 0  # records on the assigned partitions past what the worker has read
    flow_active: bool = True  # faust's consumer flow (stopped during a rebalance)
    paused: int = 0  # assigned input partitions faust holds paused
    fetching: int = -1  # assigned input partitions faust fetches from (-1: all assigned, not narrowed yet)
    waiting: Waiting = ()  # the input partitions with records past what it read
    stopping: bool = False  # faust's app was told to stop, or crashed
    loop_delay_s: float = 0.0  # the event loop's longest delay since the previous pulse (loop_watch.py)
    hosts_cached: tuple[int, int] = (0, 0)  # decoded host states cached, and their estimated bytes
    groups_cached: tuple[int, int] = (0, 0)  # the same for group states (stage 2)
    stored_bytes: int | None = None  # the tables' records on disk (processor.state_store: disk), else None
    recovering: Recovering = ()  # the changelog partitions a table recovery under way still reads


Offsets = Callable[[list[tuple[str, int]]], tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]]


def read_pulse(app: Any, inputs: frozenset[str], offsets: Offsets, loop_delay: Callable[[], float] = lambda: 0.0,
               hosts_cached: Callable[[], tuple[int, int]] = lambda: (0, 0),
               groups_cached: Callable[[], tuple[int, int]] = lambda: (0, 0),
               stored_bytes: Callable[[], int | None] = lambda: None) -> Pulse:
    """Read the faust app's state and its monitor's counters (plain attribute reads), and how far
    the ends of its assigned ``inputs`` partitions are past what it read (``offsets``: the first
    offset still needed, the log's start or the group's commit, and the end: ``kafka_offsets``).
    Changelog partitions are assigned too, but only read while recovering: not counted.
    ``loop_delay``: the event loop's longest delay since the last call (``LoopWatch.take``);
    ``hosts_cached``: the host states' cache, count and estimated bytes (``ModelTable.cached``);
    ``groups_cached``: the group states' cache, the same way;
    ``stored_bytes``: the tables' records on disk, ``None`` with the memory store (disk_store.py)."""
    monitor = app.monitor
    try:
        assigned = [(tp.topic, tp.partition) for tp in app.consumer.assignment() if tp.topic in inputs]
    except Exception:  # noqa: BLE001 - no consumer yet while the app starts
        assigned = []
    read = {(tp.topic, tp.partition): int(o) + 1 for tp, o in dict(monitor.tp_read_offsets).items()}
    committed = {(tp.topic, tp.partition): int(o) for tp, o in dict(monitor.tp_committed_offsets).items()}
    waiting: list[tuple[str, int, int]] = []
    behind = 0
    if assigned:
        beginnings, ends = offsets(assigned)
        for tp in assigned:
            nxt = max(read.get(tp, 0), committed.get(tp, 0), beginnings.get(tp, 0))  # the next record it needs
            if ends.get(tp, 0) > nxt:
                behind += ends[tp] - nxt
                # A stalled partition is re-read from its commit: records read since may never
                # have reached an agent (a queue cleared by a rebalance), and re-reads are idempotent.
                waiting.append((*tp, max(committed.get(tp, 0), beginnings.get(tp, 0))))
    consumer = getattr(app, "consumer", None)
    active = getattr(consumer, "_active_partitions", None)  # faust internals, read for diagnosis only
    return Pulse(
        flow_active=bool(getattr(consumer, "flow_active", True)),
        paused=sum(1 for tp in set(getattr(consumer, "_paused_partitions", ())) if tp.topic in inputs),
        fetching=-1 if active is None else sum(1 for tp in set(active) if tp.topic in inputs),
        started=bool(getattr(app, "started", False)),
        stopping=bool(getattr(app, "should_stop", False)),  # mode: stopped or crashed
        in_recovery=bool(getattr(app, "in_recovery", False)),
        rebalancing=bool(getattr(app, "rebalancing", False)),
        assigned=len(assigned),
        received=int(monitor.messages_received_total),
        committed=sum(committed.values()),
        behind=behind,
        waiting=tuple(sorted(waiting)),
        loop_delay_s=loop_delay(),
        hosts_cached=hosts_cached(),
        groups_cached=groups_cached(),
        stored_bytes=stored_bytes(),
        recovering=recovery_remaining(app),
    )


def recovery_remaining(app: Any) -> Recovering:
    """The changelog partitions a table recovery under way has not read to their end: (topic,
    partition, last offset read or -1, offset it needs), from faust's recovery service (internals,
    read as they are)."""
    if not getattr(app, "in_recovery", False):
        return ()
    try:
        recovery = app.tables.recovery
        offsets, highwaters = dict(recovery.active_offsets), dict(recovery.active_highwaters)
        tps = set(recovery.active_tps)
    except Exception:  # noqa: BLE001 - no tables, or faust's recovery not started yet
        return ()
    remaining = []
    for tp in tps:
        have, need = offsets.get(tp), highwaters.get(tp)
        have = -1 if have is None else int(have)
        if need is not None and have < int(need):
            remaining.append((tp.topic, tp.partition, have, int(need)))
    return tuple(sorted(remaining))


def phase(before: Pulse, now: Pulse) -> str:
    """The worker's phase over one interval, waiting states first."""
    if now.received > before.received:
        return "processing"
    if now.stopping:
        return "stopping"
    if not now.started:
        return "starting"
    if now.in_recovery:  # faust recovers tables inside a rebalance: both flags are set meanwhile
        return "recovering"
    if now.rebalancing:
        return "rebalancing"
    if now.assigned == 0:
        return "no partitions"
    if now.behind > 0:
        return "stalled"  # records wait on its partitions and it read none of them
    return "idle"


WORKING = frozenset({"processing", "idle"})
PATIENT = frozenset({"recovering", "no partitions"})  # waits that never lead to an exit


def exit_now(code: int) -> None:
    """Leave the process at once: flush what was logged, skip threads that would never join."""
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)  # noqa: SLF001 - a stuck faust thread would hold a normal exit forever


class Heartbeat:
    """Logs the phase and counters every ``interval_s``; warns when a waiting phase lasts."""

    def __init__(self, app: Any, interval_s: float, stall_after_s: float, read: Callable[[Any], Pulse],
                 clock: Callable[[], float] = time.monotonic, on_stall: Callable[[Any, Pulse], None] = lambda app, pulse: None,
                 exit_after_s: float | None = None, on_exit: Callable[[int], None] = exit_now,
                 on_recovery_stall: Callable[[Any, Pulse], None] = lambda app, pulse: None) -> None:
        self._app, self._interval, self._stall_after = app, interval_s, stall_after_s
        self._read, self._clock, self._on_stall = read, clock, on_stall
        self._on_recovery_stall = on_recovery_stall
        self._recovery_read_at: float | None = None  # when the recovery's offsets last moved
        self._exit_after, self._on_exit = exit_after_s, on_exit
        self._stop = threading.Event()
        self._last = Pulse(False, False, False, 0, 0, 0)
        self._waiting_since: float | None = None
        self._stuck_since: float | None = None  # waiting in a phase that is not PATIENT
        self._stalled_since: float | None = None  # in the "stalled" phase
        self._stall_handled = False  # on_stall ran in this stalled stretch

    def start(self) -> None:
        """Beat in a daemon thread (faust creates its monitor lazily: do it here, in the caller's thread)."""
        _ = self._app.monitor
        threading.Thread(target=self._run, daemon=True, name="heartbeat").start()

    def stop(self) -> None:
        self._stop.set()

    def _run(self) -> None:
        self._waiting_since = self._stuck_since = self._clock()  # a worker starts waiting
        while not self._stop.wait(self._interval):
            self.beat()

    def _recovery_still(self, current: str, now: Pulse) -> float | None:
        """How long a table recovery under way has read nothing, once that reaches ``stall_after_s``;
        the count then starts afresh, so its partitions are read again at most that often."""
        if current != "recovering" or not now.recovering:
            self._recovery_read_at = None
            return None
        if self._recovery_read_at is None or now.recovering != self._last.recovering:
            self._recovery_read_at = self._clock()
            return None
        still = self._clock() - self._recovery_read_at
        if still < self._stall_after:
            return None
        self._recovery_read_at = self._clock()
        return still

    def beat(self) -> str:
        """Read the worker once, log the line, return the phase."""
        try:
            now = self._read(self._app)
        except Exception as exc:  # noqa: BLE001 - a heartbeat never takes the worker down
            log.warning("processor heartbeat unreadable", error=repr(exc))
            return "unknown"
        current = phase(self._last, now)
        fields = {"phase": current, "assigned": now.assigned, "received": now.received, "behind": now.behind,
                  "received_since_last": now.received - self._last.received, "committed": now.committed,
                  "flow_active": now.flow_active, "paused": now.paused, "fetching": now.fetching,
                  "loop_delay_ms": round(now.loop_delay_s * 1000),
                  "hosts_cached": now.hosts_cached[0], "hosts_cached_mib": round(now.hosts_cached[1] / 2**20, 1),
                  "groups_cached": now.groups_cached[0], "groups_cached_mib": round(now.groups_cached[1] / 2**20, 1)}
        if now.stored_bytes is not None:
            fields["stored_on_disk_mib"] = round(now.stored_bytes / 2**20, 1)
        recovery_still = self._recovery_still(current, now)
        self._last = now
        if recovery_still is not None:
            log.warning("table recovery reads nothing", still_s=round(recovery_still, 1),
                        partitions=[f"{t}[{p}] at {have} of {need}" for t, p, have, need in now.recovering])
            self._on_recovery_stall(self._app, now)
        if current != "stalled":
            self._stalled_since, self._stall_handled = None, False
        elif self._stalled_since is None:
            self._stalled_since = self._clock()
        if current in WORKING:
            self._waiting_since = self._stuck_since = None
            log.info("processor heartbeat", **fields)
            return current
        since = self._waiting_since = self._waiting_since if self._waiting_since is not None else self._clock()
        waited = self._clock() - since
        # A table recovery restarts the count that leads to an exit (see the module's note), and so
        # does having no partition: a worker beyond the partition count stands by, and its exit
        # would make the whole group rebalance every few minutes.
        if current in PATIENT:
            self._stuck_since = None
        elif self._stuck_since is None:
            self._stuck_since = self._clock()
        stuck = self._clock() - self._stuck_since if self._stuck_since is not None else 0.0
        if self._exit_after is not None and stuck >= self._exit_after:
            log.error("processor exits: waited too long", waited_s=round(waited, 1), exit_code=os.EX_TEMPFAIL, **fields)
            self._on_exit(os.EX_TEMPFAIL)
        elif waited >= self._stall_after:
            log.warning("processor not processing", waited_s=round(waited, 1), **fields)
            stalled = self._clock() - self._stalled_since if self._stalled_since is not None else -1.0
            if stalled >= self._stall_after and not self._stall_handled:  # once per stalled stretch
                self._stall_handled = True
                self._on_stall(self._app, now)
        else:
            log.info("processor heartbeat", **fields)
        return current


def kafka_offsets(kafka: KafkaSettings, group: str) -> Offsets:
    """The first offset of each partition the worker may still need, and its end, through one
    kafka-python consumer and admin client made on first use.

    The first needed is past the log's start and past ``group``'s commit, read from the broker:
    after a restart faust's monitor knows no commit until the worker makes one, and an input whose
    every record was committed before the restart read as wholly behind (a demo's 75 envelopes,
    for minutes, while the worker had nothing to do)."""
    reader = OffsetReader(kafka, "deskwatch-heartbeat")

    def offsets(tps: list[tuple[str, int]]) -> tuple[dict[tuple[str, int], int], dict[tuple[str, int], int]]:
        consumer, admin = reader.clients()
        # Commits the broker cannot tell raise (a "heartbeat unreadable" line), not a worker judged
        # stalled from the log's start and sought back to it.
        first, ends = unread_offsets(consumer, admin, group, [TopicPartition(t, p) for t, p in tps],
                                     timeout_s=COMMITS_WAIT_S)
        return ({(tp.topic, tp.partition): o for tp, o in first.items()},
                {(tp.topic, tp.partition): o for tp, o in ends.items()})

    return offsets
