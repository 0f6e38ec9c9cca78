"""Input records reach the agents in offset order, each partition from where it was last sought.

faust-streaming's fetch loop can lose input records when partitions move. Seen on the real broker
with two workers and a rebalance in mid-stream (tests/integration/test_processor_recovery.py):

1. A batch is fetched in the consumer thread before the rebalance. It reaches the fetch loop only
   after faust has sought the partition back to its committed offset C.
2. The loop hands over the batch's first record, at offset X > C, and records C+1..X as a "gap",
   which faust treats as offsets that never existed.
3. The records C..X-1 are read again from C, and the loop drops them as below its read offset.
4. The next commit passes over them with the gap's help. They were never processed, and no error
   was raised.

When X is C+1, nothing is filled. The commit then stops at C for good, and the worker's lag never
drains: this is the other way the same race showed. The same class of defect is reported upstream
(faust-streaming issues #216 and #606, robinhood/faust #559).

Our inputs (events, signals, commands) are neither compacted nor transactional. Every offset in
them is a record, so a jump in offsets is never a real gap. ``InputOrder`` keeps the offset each
input partition must deliver next. This is the target of the last seek, or one past the last
record handed over. Each record is then:

- handed over when it is the next one;
- skipped when it is below the next one, as a stale copy that was already handed over or
  re-sought;
- the start of a re-seek when it is beyond the next one: the partition is sought back to the next
  offset, and the batch's further records for it are skipped.

A stream of faust's drops a record, and acknowledges it, when it arrives stamped with an older
consumer generation than the app's, or while faust's flow control is suspended: the next commit
then passes it. A record fetched while an assignment was completing carried the old stamp (the
two-worker run's second diff: a group's first signal, offset 0, never processed). Ordered records
are therefore handed over only while the flow control is active, and stamped with the current
generation once the order check has passed them.

Last, a stream may drop a record with or without acknowledging it, so the consumer acknowledges
an input record only once an agent said it processed it (``processed``), commits only a run of
acknowledged offsets that starts exactly at the committed offset (faust's own rule passed over a
missing first offset), and reads a partition again from its commit when later records were
acknowledged and an earlier one never was (``_heal``).

faust's flow control also empties the streams' queues each time it is told to resume, even while
the flow runs; a recovery's end does so just after seeking the inputs back to their commits, and
the first record handed over in between was lost from its queue (``FlowControl``). It resumes a
running flow without emptying anything.

One case is left: records removed by retention. The partition's first offset is then past the
next one, and the jump is accepted, with an error in the log naming the lost range.

``InOrderConsumer`` runs this check in place of faust's own fetch loop. It is wired through
``InOrderApp`` and ``InOrderTransport``. Other topics, such as the compacted changelogs faust
reads while it recovers, keep faust's behaviour: gaps are allowed, and records below the read
offset are dropped. The loop commits between records, never between taking a record and handing
it over: faust's own loop awaits its commit there, and a whole rebalance can pass inside it.
"""

from __future__ import annotations

import asyncio
import bisect
import enum
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import Any, cast

import faust
import structlog
from faust.transport.consumer import CONSUMER_FETCHING
from faust.types.tuples import ack_lock
from faust.transport.drivers import aiokafka as faust_aiokafka
from faust.types import TP
from mode.utils.objects import cached_property
from mode.utils.queues import FlowControlEvent

log = structlog.get_logger(__name__)


class Step(enum.Enum):
    DELIVER = "deliver"
    SKIP = "skip"  # below the next offset: already handed over, or re-sought
    RESEEK = "reseek"  # beyond the next offset: records in between were not handed over


class InputOrder:
    """The next offset each ordered partition must hand over; pure bookkeeping, no I/O."""

    def __init__(self, topics: Iterable[str]) -> None:
        self.topics = frozenset(topics)
        self._next: dict[TP, int] = {}
        self._origin: dict[TP, int] = {}
        self.revocations = 0  # bumped when partitions leave: a hand-over under way is then stale
        self.reseeks = 0
        self.skipped = 0

    def ordered(self, tp: TP) -> bool:
        return tp.topic in self.topics

    def step(self, tp: TP, offset: int) -> Step:
        """What to do with the record at ``offset`` of an ordered partition."""
        expected = self._next.get(tp)
        if expected is None or offset == expected:
            return Step.DELIVER
        if offset < expected:
            self.skipped += 1
            return Step.SKIP
        self.reseeks += 1
        return Step.RESEEK

    def delivered(self, tp: TP, offset: int) -> None:
        if tp.topic in self.topics:
            self._next[tp] = offset + 1

    def sought(self, tp: TP, offset: int) -> None:
        """The partition's position was set to ``offset``: it is read again from there."""
        if tp.topic in self.topics:
            self._next[tp] = offset
            self._origin[tp] = offset

    def origin(self, tp: TP) -> int | None:
        """Where the partition was last sought to: its first record when nothing is committed."""
        return self._origin.get(tp)

    def sought_committed(self, committed: Mapping[TP, Any]) -> None:
        """After a seek to committed offsets: the client moves only partitions with an offset > 0
        (a fresh partition keeps its position, see ``positions.py``), so only those are set."""
        for tp, offset in committed.items():
            if offset is not None and offset > 0:
                self.sought(tp, int(offset))

    def next_offset(self, tp: TP) -> int | None:
        return self._next.get(tp)

    def forget(self, tps: Iterable[TP]) -> None:
        self.revocations += 1
        for tp in tps:
            self._next.pop(tp, None)
            self._origin.pop(tp, None)


class InOrderConsumer(faust_aiokafka.Consumer):
    """faust's aiokafka consumer whose fetch loop hands ordered partitions over in offset order.

    A position never moves while a record is being handed over (``_moving``): a seek that came
    in between once let a record from before it through after it, and the record's offset then
    replaced the seek's target, so the records the seek meant to read again were skipped.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.order = InputOrder(getattr(self.app, "ordered_topics", ()))
        self._moving = asyncio.Lock()
        self._processed: set[tuple[TP, int]] = set()  # ordered records an agent has finished
        # per ordered partition, the first record whose state an agent staged and has not yet
        # written: no commit passes it (``hold``)
        self._unwritten: dict[TP, int] = {}
        self.unprocessed_acks = 0
        self._healed: dict[TP, float] = {}
        self.heals = 0
        self.output_failure: BaseException | None = None  # why the worker stopped committing

    def _new_consumer_thread(self) -> Any:
        return _FetchWaitThread(self, loop=self.loop, beacon=self.beacon)

    def refuse_and_crash(self, exc: BaseException, why: str) -> None:
        """Commit nothing from now on, say ``why``, and crash the worker (once): the group's offsets
        stay before whatever went wrong, and a restarted worker reads it again."""
        if self.output_failure is None:
            self.output_failure = exc
            log.error(why, error=type(exc).__name__, detail=str(exc)[:300])
            asyncio.ensure_future(self.app.crash(exc))

    async def _commit(self, offsets: Mapping[TP, int]) -> bool:
        if self.output_failure is not None:
            return False
        committed: bool = await super()._commit(offsets)
        return committed

    def processed(self, messages: Iterable[Any]) -> None:
        """The agents' word that these records went through the core and their outputs were sent."""
        self._processed.update((m.tp, m.offset) for m in messages if m.topic in self.order.topics)

    def hold(self, messages: Iterable[Any]) -> None:
        """An agent processed these records and staged their state without writing it yet: no
        commit of their partitions may pass the first of them until ``release``. A crash or a
        rebalance before then reads them again from a commit below them, against the state last
        written."""
        unwritten = self._unwritten
        for m in messages:
            if m.topic in self.order.topics:
                first = unwritten.get(m.tp)
                if first is None or m.offset < first:
                    unwritten[m.tp] = m.offset

    def release(self, tps: Iterable[TP]) -> None:
        """The state of every record held on ``tps`` is written (sent after its outputs): commits
        may pass them."""
        for tp in tps:
            self._unwritten.pop(tp, None)

    def ack(self, message: Any) -> bool:
        """Acknowledge an ordered record only if an agent processed it.

        A stream of faust's acknowledges the records it drops: those it takes from its queue while
        a rebalance has suspended the flow, or stamped with an older generation. The next commit
        then passed over them (a two-worker run lost an event so: its host's state never saw it).
        Refused here, such a record holds its partition's commit where it is; the seek back to
        the commit that ends every rebalance reads it again.
        """
        if message.topic in self.order.topics:
            key = (message.tp, message.offset)
            if key in self._processed:
                self._processed.discard(key)
            else:
                with ack_lock:
                    message.acked = True
                    self._unacked_messages.discard(message)
                self.unprocessed_acks += 1
                log.warning("input record acknowledged without being processed: not committed",
                            topic=message.topic, partition=message.partition, offset=message.offset)
                return False
        return super().ack(message)

    # Every way a position moves goes through one of these three.
    async def _seek(self, partition: TP, offset: int) -> None:
        async with self._moving:
            await super()._seek(partition, offset)
            self.order.sought(partition, offset)

    async def seek_to_committed(self) -> Mapping[TP, int]:
        async with self._moving:
            committed = await super().seek_to_committed()
            self.order.sought_committed(committed)
            return committed

    async def seek_wait(self, partitions: Mapping[TP, int]) -> None:
        async with self._moving:
            await super().seek_wait(partitions)
            for tp, offset in partitions.items():
                self.order.sought(tp, offset)

    async def on_partitions_revoked(self, revoked: set[TP]) -> None:
        """Forget the revoked partitions' positions, then, once faust has waited for its streams,
        their acknowledgements too.

        faust clears a revoked partition's acknowledgements first, then waits for the records in
        flight to be acknowledged. Those late acknowledgements filled the lists again, and the
        next assignment found them there: offsets acknowledged in the old generation, above a
        commit that was never made for them (``_new_offset`` commits nothing for a revoked
        partition). Each rebalance so started with a spurious "not processed" heal and a second
        seek back on every partition the worker kept. The records from the commit are read
        again in the new generation either way, so dropping these acknowledgements loses nothing.
        """
        # Not under ``_moving``: a hand-over blocked on a full queue ends only when the flow
        # stops, which this revocation is about to do. ``revocations`` marks it stale instead.
        self.order.forget(revoked)
        await super().on_partitions_revoked(revoked)
        for tp in revoked:
            self._acked.pop(tp, None)
            self._acked_index.pop(tp, None)
        self._processed = {key for key in self._processed if key[0] not in revoked}
        for tp in revoked:  # their staged state is forgotten too (forget_on_rebalance): read again
            self._unwritten.pop(tp, None)

    def _new_offset(self, tp: TP) -> int | None:
        """The offset to commit for ``tp``: one past the acknowledged run that starts exactly at the
        committed offset (or, with nothing committed, where the partition was sought to).

        faust's own rule commits the first run of acknowledged offsets even when the committed
        offset itself is missing from it, and checks nothing when nothing is committed yet: a
        record that a stream dropped without acknowledging it was so passed over. Here such a hole
        holds the commit, and the partition is read again from the commit (``_heal``).
        """
        if tp.topic not in self.order.topics:
            return super()._new_offset(tp)
        acked, index = self._acked[tp], self._acked_index[tp]
        if not acked:
            return None
        committed = self._committed_offset[tp]
        start = committed if committed is not None else self.order.origin(tp)
        if start is None:
            return None
        acked.sort()
        below = bisect.bisect_left(acked, start)
        index.difference_update(acked[:below])
        del acked[:below]
        if not acked:
            return None
        if acked[0] != start:
            self._heal(tp, start, acked[0])
            return None
        end = start
        while end - start < len(acked) and acked[end - start] == end:
            end += 1
        unwritten = self._unwritten.get(tp)
        if unwritten is not None and unwritten < end:  # their state is not written yet (``hold``)
            if unwritten <= start:
                return None
            end = unwritten
        index.difference_update(acked[: end - start])
        del acked[: end - start]
        return end

    def _heal(self, tp: TP, start: int, first_acked: int) -> None:
        """Records from ``start`` were never acknowledged while later ones were: read them again."""
        now = self.loop.time()
        if now - self._healed.get(tp, -1e9) < 10.0:
            return
        self._healed[tp] = now
        self.heals += 1
        log.warning("input records were not processed; reading the partition again from its commit",
                    topic=tp.topic, partition=tp.partition, commit=start, first_acknowledged=first_acked)
        asyncio.ensure_future(self.seek(tp, start))

    async def _drain_messages(self, fetcher: Any) -> None:
        """Fetch and hand over records until the consumer or the fetcher stops.

        Decision: a cancellation while the app stops ends the fetch quietly. faust's fetcher
        treats a cancellation during a rebalance as a crash, so as to be restarted for the new
        assignment; when the worker is stopping, that crash is re-raised as the worker exits: a
        worker stopped while its group rebalanced (the second of two stopped one after the other)
        logged "We experienced a crash!" with a traceback and exited with 1, 1 run in 3 here.
        During a rebalance while the app runs, the cancellation still reaches faust as before."""
        stopped: tuple[type[BaseException], ...] = (*self.consumer_stopped_errors, asyncio.CancelledError)
        try:
            while not (self._stopped.is_set() or fetcher._stopped.is_set()):
                self.diag.set_flag(CONSUMER_FETCHING)
                await self.sleep(0)
                if self.should_stop:
                    break
                await self._hand_over(self.getmany(timeout=1.0))
                self.diag.unset_flag(CONSUMER_FETCHING)
        except stopped:
            if self.transport.app.should_stop:
                return
            raise
        finally:
            self.diag.unset_flag(CONSUMER_FETCHING)

    async def _hand_over(self, batch: Any) -> None:
        """Hand one fetched batch's records to the agents' channels, in order."""
        order, read = self.order, self._read_offset
        acks_enabled_for = self.app.topics.acks_enabled_for
        commit_every = self._commit_every
        resought: set[TP] = set()
        since_yield = 0
        async for tp, message in batch:
            since_yield += 1
            if since_yield > 100:
                await self.sleep(0)
                since_yield = 0
            offset = message.offset
            if order.ordered(tp):
                if tp in resought:
                    continue
                step = await self._hand_over_ordered(tp, message)
                if step is None:
                    break  # the flow stopped (a rebalance): the record is read again after its seek
                if step is Step.RESEEK:
                    resought.add(tp)
            else:  # faust's own rule: records below the read offset are dropped, jumps are gaps
                r_offset = read.get(tp)
                if r_offset is not None and offset < r_offset:
                    continue
                if r_offset and offset - r_offset > 1 and acks_enabled_for(message.topic):
                    await self._add_gap(tp, r_offset + 1, offset)
                if not await self._deliver(message):
                    break
                read[tp] = offset
            if commit_every is not None and self._n_acked >= commit_every:
                # Between records, never with one in hand: partitions may move while it commits,
                # and the batch's further records are then stale, which the order check sees.
                self._n_acked = 0
                await self.commit()

    async def _hand_over_ordered(self, tp: TP, message: Any) -> Step | None:
        """Deliver, skip or re-seek one record of an ordered partition; None when the flow stopped."""
        order, offset, app = self.order, message.offset, self.app
        while not app.flow_control.is_active():
            # Streams drop (and acknowledge) what reaches them while faust's flow control is
            # suspended (at start, and until a rebalance's recovery ends): wait for it here, not
            # inside the lock, where it would hold up the very seek that precedes the resume.
            waited = await self.wait_first(app.flow_control.acquire(), self.suspend_flow.wait())
            if self.suspend_flow.is_set() or waited.stopped:
                return None
        async with self._moving:
            step = order.step(tp, offset)
            if step is Step.DELIVER:
                if not app.flow_control.is_active():
                    return None
                # A stream also drops (and acknowledges) a record stamped with an older
                # generation than the app's: one fetched before an assignment completed. The
                # order check has just shown this one is the next the partition needs.
                message.generation_id = app.consumer_generation_id
                revocations = order.revocations
                if not await self._deliver(message):
                    return None
                if order.revocations == revocations:
                    self._read_offset[tp] = offset
                    order.delivered(tp, offset)
                return step
        if step is Step.SKIP:
            return step
        if await self._reseek(tp, offset):
            return step
        order.sought(tp, offset)  # retention removed what came before: this record is the next
        return await self._hand_over_ordered(tp, message)

    async def _deliver(self, message: Any) -> bool:
        """Hand one record to the agents' channels; False when the flow stopped first.

        As faust's own loop, the hand-over races the flow's suspension (a full stream queue would
        otherwise hold it through a rebalance), but only when it has to wait: the callback's
        coroutine is first run in place, and most records (room in every queue) are handed over
        in that one step. Only a callback that waits is finished in a task (``_finish``) raced
        against the suspension, the worker's stop and its crash, as ``wait_first`` always did.

        Decision, measured: ``wait_first`` makes four tasks per record and cancels three, 29-46 us
        of CPU per record under uvloop against ~1 us for the step in place (a one-event envelope
        costs the worker ~470 us at live rates, where every record is an envelope)."""
        if not self.flow_active:
            return False
        handed = self.callback(message)  # faust's on_message: a coroutine
        if asyncio.iscoroutine(handed):
            try:
                waits_on = handed.send(None)
            except StopIteration:  # handed over without waiting
                return not (self._stopped.is_set() or self._crashed.is_set())
            handed = _finish(handed, waits_on)
        # a hand-over that waits (or any other awaitable, raced whole as faust does)
        outcome = await self.wait_first(handed, self.suspend_flow.wait())
        return handed in outcome.done

    async def _reseek(self, tp: TP, offset: int) -> bool:
        """Records before ``offset`` were not handed over: seek back to them and return True; or,
        when retention removed them, say so and return False."""
        expected = self.order.next_offset(tp)
        if expected is None:  # the partition left meanwhile: its next owner seeks it
            return True
        first = (await self.earliest_offsets(tp)).get(tp, 0)
        if first > expected:
            log.error("input records removed by retention before they were processed",
                      topic=tp.topic, partition=tp.partition, first_missing=expected, first_present=first)
            return False
        log.warning("input records arrived past the next offset; reading them again from it",
                    topic=tp.topic, partition=tp.partition, next_offset=expected, arrived=offset)
        await self.seek(tp, expected)
        return True


class _FetchWaitThread(faust_aiokafka.AIOKafkaConsumerThread):
    """faust's consumer thread, its aiokafka consumer given the app's ``fetch_max_wait_ms``, and
    a fetch that outlives a rebalance giving its records back (``_fetch_records``).

    faust builds the worker's consumer with ``fetch_max_wait_ms=1500`` and no setting for it. A
    fetch in flight leaves out the partitions that still hold buffered records, and they wait until
    it returns: when nothing arrives for the partitions it asked for, the broker holds it that long.
    aiokafka reads the value when the consumer starts (it builds its fetcher then), so setting it on
    the consumer before that is enough; ``fetch_wait_of`` reads it back for the tests.
    """

    def _create_worker_consumer(self, transport: Any) -> Any:
        consumer = super()._create_worker_consumer(transport)
        wait = getattr(self.app, "fetch_max_wait_ms", None)
        if wait is not None:
            if not hasattr(consumer, "_fetch_max_wait_ms"):
                raise RuntimeError("aiokafka's consumer has no _fetch_max_wait_ms: "
                                   "processor.fetch_max_wait_ms cannot be applied to this version")
            consumer._fetch_max_wait_ms = wait
        return consumer

    async def _fetch_records(self, consumer: Any, active_partitions: Any, timeout: float | None = None,
                             max_records: int | None = None) -> Any:
        """faust's fetch, except that one which outlived a rebalance gives its records back.

        faust's fetch loop asks this thread for records and waits for them up to a second. A
        rebalance stops that loop (``_stop_fetcher``), which cancels the wait but not the fetch:
        the fetch goes on here and takes whatever arrives, with nobody left to hand it over. A new
        assignment's recovery starts at once (faust's recovery delay is 0), so the records it
        sought its changelog partitions back to could be taken by the fetch of the generation
        before: the client's position then sat at the partition's end, faust had handed over none
        of its records, and the recovery waited for them for good. That was the disk store's
        recovery stall on the fault rows "1 of 2 workers SIGKILLed for good" (each stalled
        partition had been a standby there, fetched in the generation before). So a fetch that
        returns after the group's generation changed, or after partitions were revoked, seeks each
        still-assigned partition it took records from back to its first one and returns nothing:
        a caller still waiting fetches them again, and the partitions are where a seek left them.
        The thread's calls interleave only at awaits: no seek comes between the fetch's return and
        these seeks."""
        order = cast(InOrderConsumer, self.consumer).order
        generation, revocations = self.app.consumer_generation_id, order.revocations
        records = await super()._fetch_records(consumer, active_partitions, timeout=timeout, max_records=max_records)
        if records and (self.app.consumer_generation_id != generation or order.revocations != revocations):
            assigned = consumer.assignment()
            back = {tp: batch[0].offset for tp, batch in records.items() if batch and tp in assigned}
            for tp, offset in back.items():
                consumer.seek(tp, offset)
            log.warning("a fetch outlived a rebalance: its records given back",
                        records=sum(len(batch) for batch in records.values()),
                        partitions=[f"{tp.topic}[{tp.partition}]@{offset}" for tp, offset in sorted(back.items())])
            return {}
        return records


def fetch_wait_of(consumer: Any) -> int:
    """The fetch wait an aiokafka consumer was built with (``_FetchWaitThread``)."""
    return int(consumer._fetch_max_wait_ms)


class InOrderTransport(faust_aiokafka.Transport):
    Consumer = InOrderConsumer


class FlowControl(FlowControlEvent):
    """faust's flow control, except that a resume empties the streams' queues only when the flow was
    suspended.

    mode's ``resume`` empties every queue it manages each time it is called, and faust calls it
    again while the flow already runs: when a table recovery ends, after seeking the inputs back to
    their commits (and when standbys resume). A record handed over between that seek and that
    resume was emptied from its stream's queue, neither processed nor acknowledged. It was always
    the first record after the commit (the worker's heal read the partition again, with the
    partition's later records already processed: about one row run in ten of the fault campaign
    "1 of 2 workers SIGKILLed for good", and once an incident left open that the reference
    resolved, its host's failure read after its recovery). Queues still hold only the current
    generation's records then: faust empties them itself when a rebalance suspends the flow, and
    our hand-over waits while it is suspended.
    """

    def resume(self) -> None:
        if self.is_active():
            return
        super().resume()


# Decision: a bound on the write at stop, well inside a supervisor's stop grace (systemd's 90 s,
# Kubernetes' 30 s). It waits for the outputs of the batches it covers, then for the state records
# and the commit: well under a second against a live broker. Past it (a broker gone), the stop goes
# on and the next start reads those records again, as without the write.
WRITE_ON_STOP_TIMEOUT_S = 15.0


class InOrderApp(faust.App):
    """A faust App whose consumer hands ``ordered_topics`` over in offset order, and whose flow
    control does not drop what is queued when told to resume a flow that runs (``FlowControl``)."""

    def __init__(self, *args: Any, ordered_topics: Iterable[str] = (), fetch_max_wait_ms: int | None = None,
                 **kwargs: Any) -> None:
        self.ordered_topics = frozenset(ordered_topics)
        self.fetch_max_wait_ms = fetch_max_wait_ms  # None: faust's own 1,500 ms
        # what the agents staged and have not written yet, written by each when the worker stops
        self.writes_on_stop: list[Callable[[], Awaitable[None]]] = []
        super().__init__(*args, **kwargs)

    async def _consumer_wait_empty(self, consumer: Any, logger: Any) -> None:
        """faust's wait for the streams (every record taken acknowledged, then a commit); when the
        worker stops cleanly, then each agent's staged states are written and committed past.

        Its fetcher and flow are stopped by then, so no record comes after the write. Not at a
        rebalance (the same wait; the revoked partitions' staged states are forgotten and read
        again by their next owner) nor in a crash: a worker whose output was lost must not write
        the state that says it was sent, and one crashed for another reason stops as before.
        """
        await super()._consumer_wait_empty(consumer, logger)
        clean = self._stopped.is_set() and not self._crashed.is_set()
        if not (clean and self.writes_on_stop) or getattr(consumer, "output_failure", None) is not None:
            return
        try:
            await asyncio.wait_for(self._write_staged(consumer), WRITE_ON_STOP_TIMEOUT_S)
        except Exception as exc:  # noqa: BLE001 - the stop goes on; the next start reads those records again
            log.warning("staged states not written at stop; their records are read again at the next start",
                        error=type(exc).__name__, detail=str(exc)[:300])

    async def _write_staged(self, consumer: Any) -> None:
        for write in self.writes_on_stop:
            await write()
        await consumer.commit_and_end_transactions()

    def _new_transport(self) -> Any:
        return InOrderTransport(self.conf.broker_consumer, self)

    @cached_property
    def flow_control(self) -> FlowControlEvent:
        return FlowControl(loop=self.loop)


def output_failed(app: Any, exc: BaseException) -> None:
    """An output batch was lost: commit nothing from now on, and stop the worker.

    faust's commit waits for the producer's ``flush``, which returns when every batch is done,
    delivered or failed, then commits. Without this a batch that expired (no leader for its
    partition until the producer's request timeout) or that the broker refused would be
    committed past: its input never read again.
    """
    stop_worker(app, exc, "an output batch was not delivered; no offset is committed from now on, stopping")


def stop_worker(app: Any, exc: BaseException, why: str) -> None:
    """Stop the worker, an ``InOrderConsumer`` committing nothing from now on (else: crash the app)."""
    consumer = app.consumer
    if isinstance(consumer, InOrderConsumer):
        consumer.refuse_and_crash(exc, why)
    else:
        asyncio.ensure_future(app.crash(exc))


def hold_unwritten(app: Any, events: Iterable[Any]) -> None:
    """Tell an ``InOrderConsumer`` that an agent staged ``events``' state without writing it yet
    (no-op for another consumer)."""
    consumer = app.consumer
    if isinstance(consumer, InOrderConsumer):
        consumer.hold(event.message for event in events)


def release_unwritten(app: Any, tps: Iterable[TP]) -> None:
    """Tell an ``InOrderConsumer`` that the state held on ``tps`` is written (no-op for another consumer)."""
    consumer = app.consumer
    if isinstance(consumer, InOrderConsumer):
        consumer.release(tps)


def mark_processed(app: Any, events: Iterable[Any]) -> None:
    """Tell an ``InOrderConsumer`` that an agent finished ``events`` (no-op for another consumer)."""
    consumer = app.consumer
    if isinstance(consumer, InOrderConsumer):
        consumer.processed(event.message for event in events)


async def _finish(coro: Any, waits_on: Any) -> Any:
    """Run a coroutine that was stepped once by hand (and is waiting on ``waits_on``) to its end,
    as a task would have: wait for each future it yields (None: one turn of the loop), then step
    it again, letting it read the future's outcome itself. A cancellation of this task cancels
    that future and is thrown into the coroutine, so it cleans up (an ``asyncio.Queue.put``
    withdraws its waiter) as it would in a task."""
    while True:
        try:
            if waits_on is None:
                await asyncio.sleep(0)
            else:
                waits_on._asyncio_future_blocking = False  # as a task resets it (it set it to yield)
                await asyncio.wait((waits_on,))  # done either way: the coroutine reads its result
        except BaseException as exc:  # noqa: BLE001 - thrown into the coroutine, which decides
            if isinstance(exc, asyncio.CancelledError) and waits_on is not None:
                waits_on.cancel()  # as a task's cancellation cancels the future it waits on
            try:
                waits_on = coro.throw(exc)
            except StopIteration as done:
                return done.value
            continue
        try:
            waits_on = coro.send(None)
        except StopIteration as done:
            return done.value
