"""Fault campaign: the pipeline on private engines under simulated-fleet load, one fault per row.

    .venv/bin/python reliability/faults.py [--hours 24] [--sites 4] [--chunks 24] [--outage 60]
                                           [--only NAME ...] [--json out.json] [--keep]
                                           [--home /var/lib/deskwatch-faults] [--port-base 24000]

Private Kafka and Elasticsearch are started with the project's own stack code on their own home
(``/var/lib/deskwatch-faults``) and ports (24092/24093, 24200/24300); the shared engines are never
touched. Each row has its own topics, indices and groups; the same seeded fleet goes through an
undisturbed reference run first, and each faulty run must find every event exactly once
(sum of digest repeat counts = distinct event ids sent, or a dead letter with a reason) and the
reference's incidents (ids, statuses, event counts).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))  # run as a script: siblings are modules

from deskwatch.components import Component, interrupt_on_sigterm, write_settings_file  # noqa: E402
from deskwatch.producers.simulate import FleetSpec, simulate_fleet, write_inventory_csv, write_jsonl  # noqa: E402
from deskwatch.settings import load_settings  # noqa: E402

from faults_account import Tally  # noqa: E402
from faults_catalog import FAULTS, REFERENCE, Fault  # noqa: E402
from faults_engines import FAULTS_HOME, PrivateStack, private_stack_settings  # noqa: E402
from faults_run import Run, run_settings  # noqa: E402

START = datetime(2026, 11, 23, tzinfo=timezone.utc)


def write_fleet(spec: FleetSpec, folder: Path, chunks: int) -> tuple[Path, Path, list[Path]]:
    """The fleet's events (one file and ``chunks`` slices of it, in order) and inventory CSV."""
    folder.mkdir(parents=True, exist_ok=True)
    sim = simulate_fleet(spec)
    events, inventory = folder / "events.jsonl", folder / "inventory.csv"
    write_jsonl(sim, events)
    write_inventory_csv(sim.assets, inventory)
    lines = events.read_bytes().splitlines(keepends=True)
    size = -(-len(lines) // chunks)
    parts = []
    for i in range(0, len(lines), size):
        parts.append(folder / f"chunk-{i // size:03d}.jsonl")
        parts[-1].write_bytes(b"".join(lines[i:i + size]))
    return events, inventory, parts


class Campaign:
    """The private engines, the fleet files, and the rows run so far."""

    def __init__(self, stack: PrivateStack, folder: Path, fleet: tuple[Path, Path, list[Path]],
                 outage_s: float, pause_s: float = 1.0, timeout_s: float = 180.0) -> None:
        self.stack, self.folder, self.outage_s, self.pause_s, self.timeout_s = stack, folder, outage_s, pause_s, timeout_s
        self.events, self.inventory, self.chunks = fleet
        self.rows: list[Tally] = []

    def run(self, fault: Fault) -> Tally:
        """One row: fresh topics and indices, load, the fault at a third of the load, drain, count."""
        self._engine_for(fault)
        folder = self.folder / f"row-{len(self.rows)}"
        folder.mkdir(parents=True, exist_ok=True)
        s = run_settings(self.stack.clients(load_settings()), folder)
        if fault.leave_on_stop:
            s = s.model_copy(update={"processor": s.processor.model_copy(update={"leave_group_on_stop": True})})
        run = Run(s, folder, self.chunks)
        rejected_before = self.stack.write_rejections() if fault.throttle else 0
        try:
            self._publish_inventory(run)
            self._start(run, fault)
            run.feed(self.pause_s, fault.via_tail, fault.streamed)
            while run.sent_chunks < max(1, len(self.chunks) // 3):
                time.sleep(0.2)
            began = time.monotonic()
            fault.inject(run, self.stack, self.outage_s)
            recover_s: float | None = None
            try:
                recover_s = time.monotonic() - began + run.wait_caught_up(self.timeout_s)
                run.settle(self.timeout_s, sent=len(self.events.read_bytes().splitlines()))
            except TimeoutError:
                pass  # counted as it stands: the row shows what never arrived
            tally = run.tally(fault.name, self.events, recover_s)
        finally:
            run.stop()
        tally.notes += evidence(folder)
        if fault.throttle:
            rejected = self.stack.write_rejections() - rejected_before
            tally.notes.append(f"ES write pool rejected {rejected} shard bulk requests (429)")
            if rejected == 0:  # the row would count as passed without its fault having happened
                tally.missed_fault = "no bulk request was rejected: the throttling never happened"
                tally.notes.append(tally.missed_fault)
        self.rows.append(tally)
        return tally

    def _engine_for(self, fault: Fault) -> None:
        """Restart Elasticsearch when the row needs another write pool than the running one."""
        # One write thread and a queue of one: with (1, 2) a run of 2026-12-05 saw no rejection at
        # all (2 at 60df088), the sink's bulks touching three indices; (1, 1) gave 40 the same day.
        want = (1, 1) if fault.throttle else (None, None)
        have = (self.stack.stack.es_write_threads, self.stack.stack.es_write_queue_size)
        if want != have:
            self.stack.kill("elasticsearch", signal.SIGTERM)
            self.stack.up(self.stack.stack.model_copy(update={"es_write_threads": want[0],
                                                                "es_write_queue_size": want[1]}))

    def _publish_inventory(self, run: Run) -> None:
        config = write_settings_file(run.settings, run.folder / "inventory.yaml")
        c = Component(["inventory", "publish", str(self.inventory)], config, run.folder / "inventory.log")
        if c.proc.wait(180) != 0:
            raise RuntimeError(f"inventory publish failed:\n{c.tail()}")

    def _start(self, run: Run, fault: Fault) -> None:
        run.start("sink", "sink", "run")
        for i in range(1, fault.workers + 1):
            run.start(f"worker-{i}", "processor", "run")
        if fault.via_tail:
            run.tail_file.touch()
            run.start("tail", "ingest", "tail", "--format", "jsonl", str(run.tail_file))


def evidence(folder: Path) -> list[str]:
    """Counts of tell-tale lines in the row's component logs."""
    notes = []
    for log in sorted(folder.glob("*.log")):
        text = log.read_text(errors="replace")
        for marker in ("Error in recovery", "No event received for active tp", "Traceback",
                       "elasticsearch unavailable"):
            if (n := text.count(marker)):
                notes.append(f"{log.name}: {n} x '{marker}'")
    return notes


def table(rows: list[Tally]) -> str:
    """The campaign's table in Markdown."""
    head = ("| fault | sent | events in ES | digests | incidents | lost | duplicated | dead-lettered | "
            "incidents vs reference | recover s |\n|---|---|---|---|---|---|---|---|---|---|\n")
    body = "".join(
        f"| {t.fault} | {t.sent} | {t.events_found} | {len(t.digests)} | {len(t.incidents)} | {t.lost} | "
        f"{t.duplicated} | {sum(t.dead.values())} {dict(t.dead) or ''} | "
        f"{'same' if not t.incident_diff else '; '.join(t.incident_diff[:3])} | {_recover(t)} |\n"
        for t in rows)
    return head + body


def _recover(t: Tally) -> str:
    if t.missed_fault is not None:
        return "fault never happened"
    return "-" if t.fault == REFERENCE.name else "never" if t.recover_s is None else f"{t.recover_s:.1f}"


def campaign(spec: FleetSpec, faults: list[Fault], folder: Path, stack: PrivateStack, chunks: int,
             outage_s: float, keep: bool = False, timeout_s: float = 180.0) -> list[Tally]:
    """Start the private engines, run the reference then every fault, stop the engines."""
    fleet = write_fleet(spec, folder / "fleet", chunks)
    with stack.running(keep):
        c = Campaign(stack, folder, fleet, outage_s, timeout_s=timeout_s)
        reference = c.run(REFERENCE)
        for fault in faults:
            c.run(fault).compare(reference)
            print(table(c.rows[-1:]).splitlines()[-1], flush=True)
    return c.rows


def main(argv: list[str] | None = None) -> int:
    """The full campaign; prints the table and exits non-zero when a row misses."""
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--hours", type=float, default=24)
    p.add_argument("--sites", type=int, default=4)
    p.add_argument("--chunks", type=int, default=24)
    p.add_argument("--outage", type=float, default=60.0)
    p.add_argument("--only", nargs="*", default=None, help="substrings of fault names to run")
    p.add_argument("--json", type=Path, default=None)
    p.add_argument("--keep", action="store_true", help="leave the private engines running")
    p.add_argument("--home", type=Path, default=FAULTS_HOME, help="the private engines' home")
    p.add_argument("--port-base", type=int, default=24000,
                   help="the private engines' ports: base + 92 (Kafka), + 200 (Elasticsearch), ... "
                        "(another base and home run a campaign beside a soak)")
    a = p.parse_args(argv)
    interrupt_on_sigterm()
    spec = FleetSpec(seed=11, start=START, duration=timedelta(hours=a.hours), sites=a.sites, directorates=3,
                     hosts_per_site=(15, 25), noise_events_per_host_per_hour=4.0)
    faults = [f for f in FAULTS if a.only is None or any(o in f.name for o in a.only)]
    began = time.monotonic()
    # A folder of its own, not the second's: campaigns started together (one per private home)
    # wrote their fleets and row logs into one folder, and one reference run read a mixed fleet.
    logs = Path("/tmp/deskwatch-faults")
    logs.mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f"{int(time.time())}-", dir=logs))
    rows = campaign(spec, faults, folder, PrivateStack(private_stack_settings(a.home, a.port_base)), a.chunks,
                    a.outage, a.keep)
    print(table(rows))
    print(f"campaign took {time.monotonic() - began:.0f} s; its fleet and each row's logs are in {folder}")
    for t in rows:
        for note in t.notes:
            print(f"- {t.fault}: {note}")
    if a.json:
        a.json.write_text(json.dumps([{**t.__dict__, "lost": t.lost, "duplicated": t.duplicated} for t in rows],
                                     indent=2, default=str))
    return 0 if all(t.ok for t in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
