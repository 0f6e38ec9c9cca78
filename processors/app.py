"""The faust application: thin agents over the pure core, wired from the topology declaration.

Agents consume raw bytes and validate themselves (faust would ack and drop a record that fails to
decode), run with concurrency=1 (more can commit past an in-flight event), and write each table
key once per input record (faust's cost is per record and per table write).
"""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any, NamedTuple

import faust
import structlog

from deskwatch.connect import faust_broker_options
from deskwatch.logs import collapse_repeats
from deskwatch.members import leave
from deskwatch.processors.changelogs import changelog_ids, changelog_topics, prepare
from deskwatch.processors.changelogs import check as check_changelogs
from deskwatch.processors.collect import pace_collector
from deskwatch.processors.host_table import HostStateTable
from deskwatch.processors.heartbeat import Heartbeat, exit_now, kafka_offsets, read_pulse
from deskwatch.processors.in_order import InOrderApp
from deskwatch.processors.disk_store import remember_changelog_ids, stored_bytes
from deskwatch.processors.group_member import group_instance_id, hold_datadir
from deskwatch.processors.loop_watch import LoopWatch
from deskwatch.processors.positions import seek_fresh_inputs_to_beginning
from deskwatch.processors.progress import InputProgress
from deskwatch.processors.rules import load_configured
from deskwatch.processors.rules.host_change import load_changes
from deskwatch.processors.run_stage1 import attach_stage1
from deskwatch.processors.run_stage2 import attach_stage2
from deskwatch.processors.stage1 import Stage1, StateLimits, count_populations
from deskwatch.processors.stage2 import GroupState, Stage2
from deskwatch.processors.stall import on_recovery_stall, on_stall
from deskwatch.processors.tick import attach_ticker
from deskwatch.processors.views import DecodedMapping, DerivedMapping, ModelTable
from deskwatch.processors.wiring import Wiring, declare
from deskwatch.schemas.asset import Asset
from deskwatch.schemas.command import Silence
from deskwatch.settings import Settings
from deskwatch.topology import COMMANDS, EVENTS, SIGNALS

log = structlog.get_logger(__name__)


class Built(NamedTuple):
    """What ``build_app`` makes: the app, its topics and tables, and the host and group states' views."""

    app: faust.App
    wiring: Wiring
    host_states: HostStateTable
    group_states: ModelTable[GroupState]


def build_app(settings: Settings) -> Built:
    """A faust App configured from the settings tree, with its agents attached (no I/O yet)."""
    # In offset order: faust's own fetch loop can skip input records when partitions move (in_order.py).
    app = InOrderApp(settings.processor.app_id, ordered_topics=input_topics(settings),
                     fetch_max_wait_ms=settings.processor.fetch_max_wait_ms, **_app_options(settings))
    rules = load_configured(settings.processor.rule_files)
    populations = DerivedMapping(lambda: count_populations(inventory.values(), rules))  # rebuilt on change
    wiring = declare(app, settings, on_inventory_change=populations.invalidate)
    inventory = DecodedMapping(wiring.inventory, Asset)
    limits = StateLimits(max_ids=settings.processor.host_max_event_ids,
                         max_fingerprints=settings.processor.host_max_fingerprints)
    stage1 = Stage1(rules, inventory, populations, limits, floors_max=settings.processor.state_cache_max,
                    changes=load_changes(settings.processor.change_file))
    stage2 = Stage2({rule.id: rule for rule in rules}, DecodedMapping(wiring.silences, Silence))
    host_states = attach_stage1(app, wiring, stage1, settings.processor)
    group_states = attach_stage2(app, wiring, stage2, COMMANDS.name(settings.kafka), settings.processor)
    # The ticker's clients are made on its first tick, on the leader only (no I/O here).
    progress = InputProgress(settings.kafka, settings.processor.app_id, EVENTS.name(settings.kafka))
    attach_ticker(app, wiring, settings.processor.tick_interval_s, progress)
    seek_fresh_inputs_to_beginning(app, input_topics(settings))
    check_changelogs(app, input_topics(settings), changelog_topics(settings))
    say_recovered(app)
    return Built(app, wiring, host_states, group_states)


def say_recovered(app: faust.App) -> None:
    """Log the end of each table recovery, with either store: from then the worker processes."""

    # mode calls a receiver as receiver(sender, *args, signal=..., **kwargs)
    @app.on_rebalance_complete.connect
    async def _recovered(sender: Any, /, *args: Any, **kwargs: Any) -> None:
        log.info("tables recovered", rebalance=app.rebalancing_count)


def input_topics(settings: Settings) -> frozenset[str]:
    """The topics the agents read (the tables' changelogs are read only while recovering)."""
    return frozenset(t.name(settings.kafka) for t in (EVENTS, SIGNALS, COMMANDS))


# 16 KiB (faust's default) makes a produce request per few records: outputs and changelog writes
# of a whole batch travel together instead. A host's whole state write must fit one record batch
# to be atomic (processors/outbox.py); the largest StateLimits allows does (tests/processors/stage1).
PRODUCER_BATCH_BYTES = 1_048_576


def _app_options(settings: Settings) -> dict[str, object]:
    k, p = settings.kafka, settings.processor
    return {
        **faust_broker_options(k),
        "store": "memory://",
        "topic_partitions": k.partitions,
        "topic_replication_factor": k.replication_factor,
        "processing_guarantee": "at_least_once",
        "consumer_group_instance_id": group_instance_id(p, socket.gethostname()),
        "broker_session_timeout": p.session_timeout_s,
        "consumer_auto_offset_reset": "earliest",
        "web_enabled": p.web_enabled,  # off by default; when on, localhost only
        "web_bind": p.web_host,
        "web_port": p.web_port,
        "datadir": str(p.datadir),
        "broker_commit_every": p.commit_every,
        "broker_commit_interval": p.commit_interval_s,
        "broker_max_poll_records": p.fetch_max_records,  # bounds: ProcessorSettings.batch_max_records
        "stream_buffer_maxsize": p.input_buffer_records,
        "producer_linger_ms": p.producer_linger_ms,
        "producer_max_batch_size": PRODUCER_BATCH_BYTES,
        # A host's state is one changelog record: let the producer send what the topic accepts.
        "producer_max_request_size": p.state_max_record_bytes,
        "table_cleanup_interval": 3600.0,
    }


def run_worker(settings: Settings) -> None:
    """Run one processor worker until SIGTERM/SIGINT."""
    use_event_loop(settings.processor.event_loop)
    datadir_lock = hold_datadir(settings.processor.datadir)  # noqa: F841 - held until the process ends
    app, wiring, host_states, group_states = build_app(settings)
    p, offsets = settings.processor, kafka_offsets(settings.kafka, settings.processor.app_id)
    # the id `deskwatch members remove processor <member>` takes when this worker is gone for good
    member = group_instance_id(p, socket.gethostname())
    log.info("processor worker starting", group=p.app_id, member=member, datadir=str(p.datadir),
             state_store=p.state_store)
    inputs = input_topics(settings)
    prepare(settings, member, inputs)  # its changelogs exist before its group first assigns them
    if p.state_store == "disk":  # what tells a database on disk whether its changelog is still the one
        remember_changelog_ids(changelog_ids(settings))
    loop = LoopWatch()
    Heartbeat(app, p.heartbeat_interval_s, p.heartbeat_stall_after_s,
              lambda a: read_pulse(a, inputs, offsets, loop.take, lambda: host_states.cached,
                                   lambda: group_states.cached, lambda: stored_bytes(wiring.host_state, wiring.groups)),
              on_stall=lambda a, pulse: on_stall(a, inputs, pulse.waiting, p.heartbeat_resume_stalled),
              exit_after_s=p.heartbeat_exit_after_s,
              on_recovery_stall=lambda a, pulse: on_recovery_stall(a, pulse.recovering, p.heartbeat_resume_stalled)).start()
    wiring.inventory.start()  # the inventory and silences are loaded before the first event
    wiring.silences.start()
    pace_collector()  # after the startup objects exist, so the freeze covers them
    worker = _Worker(app, loglevel=settings.logging.level, quiet=True)
    worker.repeat_window_s = settings.logging.engine_repeat_window_s
    worker.loop_watch = loop
    try:
        worker.execute_from_commandline()
    except SystemExit as done:  # how faust's worker always ends
        # A crashed faust consumer thread that never stopped would hold a normal interpreter exit
        # forever (seen after a broker was killed while the worker started): leave at once, with
        # the code the interpreter would give (None is 0, anything but an int is 1).
        code = done.code if done.code is not None else 0
        if code == 0 and p.leave_group_on_stop:  # stopped as asked (SIGTERM/SIGINT), its offsets committed
            leave(settings, "processor", member)
        exit_now(code if isinstance(code, int) else 1)


class _Worker(faust.Worker):
    """faust's worker, whose root log handlers (set up by mode, replacing ours) collapse the
    engines' repeated lines as every other component's do (deskwatch/logs.py), and which runs the
    loop watch (loop_watch.py) from the loop's start."""

    repeat_window_s: float = 0.0
    loop_watch: LoopWatch | None = None
    _watching: asyncio.Future[None] | None = None

    async def on_execute(self) -> None:
        """The loop watch's task starts with the loop, before the app and its tables' recovery
        (an app task would start only once the worker has started)."""
        await super().on_execute()
        if self.loop_watch is not None:
            self._watching = asyncio.ensure_future(self.loop_watch.run())

    def on_setup_root_logger(self, logger: logging.Logger, level: int) -> None:
        super().on_setup_root_logger(logger, level)
        collapse_repeats(logger.handlers, self.repeat_window_s)


def use_event_loop(kind: str) -> None:
    """Install uvloop's event loop policy before faust creates its loop (or keep asyncio's)."""
    if kind == "uvloop":
        import uvloop

        asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())
