"""The faults, one row each: how a run is set up for it and how it is injected.

``inject`` returns once the fault is over (the engine or component restarted, or the loss
accepted); the time to recover is measured from its start until every group has drained.
"""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass

from faults_engines import PrivateStack
from faults_run import Run

from deskwatch.members import remove
from deskwatch.processors.group_member import group_instance_id

Inject = Callable[[Run, PrivateStack, float], None]


@dataclass(frozen=True)
class Fault:
    """One row: its name, what it does, and the run's shape around it."""

    name: str
    inject: Inject
    workers: int = 1
    via_tail: bool = False
    throttle: bool = False  # ES restarted with a tiny write pool for this row
    streamed: bool = False  # chunks reach the producer over its standard input, over seconds
    leave_on_stop: bool = False  # the workers run with processor.leave_group_on_stop


def _none(run: Run, stack: PrivateStack, outage_s: float) -> None:
    """The undisturbed reference."""


def _kafka_sigkill(run: Run, stack: PrivateStack, outage_s: float) -> None:
    stack.kafka_killed(outage_s)


def _kafka_sigterm(run: Run, stack: PrivateStack, outage_s: float) -> None:
    stack.kill("kafka", signal.SIGTERM)  # a clean shutdown, then straight back
    stack.up()


def _worker_sigkill(run: Run, stack: PrivateStack, outage_s: float) -> None:
    run.restart("worker-1", signal.SIGKILL)


def _worker_lost(run: Run, stack: PrivateStack, outage_s: float) -> None:
    run.kill("worker-2", signal.SIGKILL)  # never restarted: worker-1 takes its partitions over


def _worker_removed(run: Run, stack: PrivateStack, outage_s: float) -> None:
    """As ``_worker_lost``, then what an operator does for a worker stopped for good: remove its
    static member (``deskwatch members remove``), so worker-1 need not wait out its session."""
    run.kill("worker-2", signal.SIGKILL)
    time.sleep(2.0)
    instance_id = group_instance_id(run.worker_settings("worker-2").processor, socket.gethostname())
    assert instance_id is not None, "the campaign's workers are static members"
    remove(run.settings, "processor", instance_id, "fault campaign: worker-2 lost for good")


def _worker_stopped_leaving(run: Run, stack: PrivateStack, outage_s: float) -> None:
    """A worker stopped for good as a service manager stops it (SIGTERM), its settings saying so
    (``processor.leave_group_on_stop``): it removes its own static member once stopped, and
    worker-1 need not wait out its session, with no operator in the loop."""
    run.kill("worker-2", signal.SIGTERM)


def _sink_sigkill(run: Run, stack: PrivateStack, outage_s: float) -> None:
    """SIGKILL the sink while it writes (a third of the load is in, more arriving), then start it
    again: its uncommitted batch is written a second time, and versioned writes make that harmless."""
    run.restart("sink", signal.SIGKILL)


def _es_stopped(run: Run, stack: PrivateStack, outage_s: float) -> None:
    stack.es_stopped(outage_s)


def _tail_sigkill(run: Run, stack: PrivateStack, outage_s: float) -> None:
    run.restart("tail", signal.SIGKILL)


def _batch_sigkill(run: Run, stack: PrivateStack, outage_s: float) -> None:
    """SIGKILL the feeder's producer 1.5 s into a streamed chunk: it has published envelopes and is
    still publishing (lines keep arriving for ``STREAM_S``); the feeder sends the chunk again."""
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        c = run.producing
        if c is not None and c.running() and time.monotonic() - run.producing_since > 1.5:
            c.proc.send_signal(signal.SIGKILL)
            return
        time.sleep(0.05)
    raise TimeoutError("no producer was sending within 60 s")


REFERENCE = Fault("undisturbed (reference)", _none)
FAULTS: tuple[Fault, ...] = (
    Fault("kafka SIGKILL + restart", _kafka_sigkill),
    Fault("kafka SIGTERM + restart", _kafka_sigterm),
    Fault("worker SIGKILL + restart", _worker_sigkill),
    Fault("1 of 2 workers SIGKILLed for good", _worker_lost, workers=2),
    Fault("1 of 2 workers SIGKILLed for good, then removed", _worker_removed, workers=2),
    Fault("1 of 2 workers stopped for good, leave_group_on_stop", _worker_stopped_leaving, workers=2,
          leave_on_stop=True),
    Fault("sink SIGKILL + restart", _sink_sigkill),
    Fault("elasticsearch stopped, restarted", _es_stopped),
    Fault("elasticsearch throttling (429)", _none, throttle=True),
    Fault("producer (ingest tail) SIGKILL + restart", _tail_sigkill, via_tail=True),
    Fault("producer batch in flight SIGKILL + resend", _batch_sigkill, streamed=True),
)
