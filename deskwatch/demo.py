"""``deskwatch demo``: a small simulated fleet through producer → processor → sink → search.

The fleet's inventory is published first (sites, directorates, device classes: the site-wide rules
count a site's hosts from it), then its events: the office hours 06:00-14:00 UTC of the latest
weekday on which they are over. So the lifecycle's clock (ticks at the wall clock: quiet timeouts,
lifetimes) meets them as it would a recent day of a live fleet's; with events of a fixed past day
(until 2026-12-02), every incident was resolved as quiet at the first tick of any later run. The
same seed and hours every day: run again the same day, the demo replays the same events, which
the pipeline recognises (no incident changes).

Decision: the demo lists the incidents last seen since its day's start (``DemoRun.start``), and
says how many others the indices hold. The engines keep their data between runs, so on a later
day the indices also hold the incidents of the earlier days' runs, and a listing of everything
showed 75 incidents for the run's nine problems (2026-12-02).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path

import click

from deskwatch.components import Component, write_settings_file
from deskwatch.settings import Settings
from deskwatch.stack.progress import ElapsedReport
from deskwatch.topics import ensure_topics, pipeline_lag_known

DEMO_HOURS = 8
# Restarts of a worker that exits with os.EX_TEMPFAIL (processors/heartbeat.py) before the demo
# gives up: one is what a stuck consumer needs; more means something is wrong that waits won't fix.
RESTARTS_MAX = 3


def demo_start(now: datetime) -> datetime:
    """06:00 UTC of the latest weekday whose ``DEMO_HOURS`` from then have passed by ``now`` (the
    simulated fleet works on weekdays: a Sunday's would be nearly silent)."""
    day = now.astimezone(timezone.utc).replace(hour=6, minute=0, second=0, microsecond=0)
    while day + timedelta(hours=DEMO_HOURS) > now or day.weekday() >= 5:
        day -= timedelta(days=1)
    return day


@dataclass(frozen=True)
class DemoRun:
    """What a demo run published: the start of its simulated day, and the problems it injected."""

    start: datetime
    injected: int
    truth: Path  # the simulator's record of them


def write_demo_fleet(folder: Path, now: datetime) -> tuple[Path, Path, int, int]:
    """Simulate the demo fleet into ``folder``; return the events and inventory files, the events
    and the injected incidents."""
    from deskwatch.producers.simulate.simulate import simulate_fleet
    from deskwatch.producers.simulate.spec import FleetSpec
    from deskwatch.producers.simulate.write import write_inventory_csv, write_jsonl, write_truth_json

    spec = FleetSpec(seed=7, start=demo_start(now), duration=timedelta(hours=DEMO_HOURS), sites=4, directorates=3,
                     hosts_per_site=(12, 25), noise_events_per_host_per_hour=2.0)
    sim = simulate_fleet(spec)
    folder.mkdir(parents=True, exist_ok=True)
    events = folder / "events.jsonl"
    count = write_jsonl(sim, events)
    inventory = folder / "inventory.csv"
    write_inventory_csv(sim.assets, inventory)
    write_truth_json(sim.truth, folder / "truth.json")
    return events, inventory, count, len(sim.truth)


def run_demo(settings: Settings, folder: Path, timeout_s: float = 300) -> DemoRun:
    """Produce the demo fleet, run processor and sink until both have drained, then stop them."""
    report = ElapsedReport()
    ensure_topics(settings.kafka)
    now = datetime.now(timezone.utc)
    events, inventory, count, injected = write_demo_fleet(folder, now)
    report(f"simulated {count} events on the demo fleet ({injected} injected problems) → {events}")
    config = write_settings_file(settings, folder / "settings.yaml")
    # The inventory before the events: stage 1 enriches each event from what it has read of it.
    for args, log in ((["inventory", "publish", str(inventory)], "inventory.log"),
                      (["produce", "--format", "jsonl", str(events)], "produce.log")):
        step = Component(args, config, folder / "logs" / log)
        if step.proc.wait() != 0:
            raise click.ClickException(f"`deskwatch {' '.join(args[:2])}` failed:\n{step.tail()}")
        report(step.tail(1))
    workers = [Component(args, config, folder / "logs" / f"{args[0]}.log")
               for args in (["processor", "run"], ["sink", "run"])]
    try:
        _wait_drained(settings, workers, report, timeout_s)
    finally:
        for w in workers:
            w.stop()
    report("processor and sink stopped; incidents are in Elasticsearch")
    return DemoRun(start=demo_start(now), injected=injected, truth=folder / "truth.json")


def _wait_drained(settings: Settings, workers: list[Component], report: ElapsedReport, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    last = ""
    restarts = idle = 0
    while time.monotonic() < deadline:
        restarts = restart_exited(workers, restarts, report)
        # stage 2's signals and commands too: a parent's claim (on signals) reaches its children after stage 1
        # is done (a demo stopped at the events' end once left a child unabsorbed); and every
        # topic the sink indexes: `incident changes` reads the events index
        lag = pipeline_lag_known(settings)
        lag_p, lag_s = lag or (-1, -1)
        line = (f"waiting: processor {lag_p} records behind, sink {lag_s} records behind" if lag
                else "waiting: the broker cannot tell the groups' commits yet")
        if line != last:
            report(line)
            last = line
        # twice in a row, a second apart: the lags are read topic after topic, not at one instant
        idle = idle + 1 if lag_p == 0 and lag_s == 0 else 0
        if idle >= 2 and _incidents_present(settings):
            return
        time.sleep(1.0)
    raise click.ClickException(f"the pipeline did not drain within {timeout_s:.0f}s\n"
                               + "\n".join(w.tail(20) for w in workers))


def restart_exited(workers: list[Component], restarts: int, report: Callable[[str], None]) -> int:
    """Replace, in ``workers``, each that exited asking for a restart (``os.EX_TEMPFAIL``: a
    processor whose heartbeat saw it stuck), as a service manager would, up to
    ``RESTARTS_MAX`` in all; any other exit is an error. Returns the restarts made so far."""
    for i, w in enumerate(workers):
        if w.running():
            continue
        command = f"`deskwatch {' '.join(w.args)}`"
        if w.proc.returncode != os.EX_TEMPFAIL or restarts >= RESTARTS_MAX:
            raise click.ClickException(f"{command} exited with code {w.proc.returncode}:\n{w.tail()}")
        restarts += 1
        report(f"{command} exited asking for a restart (code {os.EX_TEMPFAIL}); "
               f"restarting it ({restarts} of at most {RESTARTS_MAX}); its log: {w.log}")
        workers[i] = w.again()
    return restarts


def _incidents_present(settings: Settings) -> bool:
    from deskwatch.connect import elasticsearch_client
    from deskwatch.sinks.elasticsearch.templates import incidents_alias

    client = elasticsearch_client(settings.elasticsearch)
    alias = incidents_alias(settings.elasticsearch)
    if not client.indices.exists_alias(name=alias):
        return False
    client.indices.refresh(index=alias)
    return int(client.count(index=alias)["count"]) > 0
