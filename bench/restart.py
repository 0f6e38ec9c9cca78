"""How long a processor worker takes to come back: its tables recovered at a first start and at a
restart on the same data dir, per state store.

A seeded fleet's tables are built with the real cores (bench/memory.py's ``build_states``) and
written to the changelogs as a worker writes them; then ``deskwatch processor run`` is started and
timed from its start to its log's "tables recovered" (recovery over), stopped with SIGTERM and started
again on the same data dir. With the memory store every start reads every changelog record; with
the disk store (processors/disk_store.py) a restart reads on from the offsets it kept. The disk
store's own count of the records each recovery read is printed beside the time.

``python -m bench.restart --hosts 20000 --events 400000 --store memory disk``
"""

from __future__ import annotations

import argparse
import re
import signal
import tempfile
import time
import uuid
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import orjson

from bench.memory import build_states, fleet, publish_inventory, write_changelogs
from deskwatch.components import Component, write_settings_file
from deskwatch.processors.host_table import HOST_STATE_TABLE
from deskwatch.schemas.asset import Asset
from deskwatch.settings import STATE_STORES, Settings, load_settings
from deskwatch.topics import delete_topics, ensure_topics

READY = "tables recovered"


class RestartBenchError(RuntimeError):
    """A worker did not become ready, or exited."""


@dataclass
class Start:
    """One start of the worker: seconds to ready, and the changelog records its recovery read
    (the disk store says; None with the memory store)."""

    seconds: float
    records_read: int | None


def start_once(config: Path, folder: Path, name: str, disk: bool, timeout_s: float = 900) -> Start:
    """Start a worker, wait for its recovery to end, stop it with SIGTERM."""
    log = folder / f"{name}.log"
    began = time.monotonic()
    worker = Component(["processor", "run"], config, log)
    try:
        while not (log.exists() and READY in log.read_text(errors="replace")):
            if not worker.running():
                raise RestartBenchError(f"the worker exited:\n{worker.tail()}")
            if time.monotonic() - began > timeout_s:
                raise RestartBenchError(f"not ready in {timeout_s:.0f} s:\n{worker.tail()}")
            time.sleep(0.1)
        ready = time.monotonic() - began
        counts: list[int] = []
        for _ in range(50):  # the disk store says what it read just after the recovery's end
            counts = [int(n) for n in re.findall(r"records_read=(\d+)", log.read_text(errors="replace"))]
            if len(counts) >= 2 or not disk:
                break
            time.sleep(0.1)
    finally:
        code = worker.stop(signal.SIGTERM, timeout=60)
    if code != 0:
        raise RestartBenchError(f"the worker stopped with {code}:\n{worker.tail()}")
    return Start(ready, sum(counts) if counts else None)


def measure_store(base: Settings, folder: Path, hosts: int, events: int, store: str,
                  built: tuple[dict[str, Any], dict[str, Any]], assets: list[Asset]) -> dict[str, Any]:
    """Changelogs of the built tables, then a first start and a restart of one worker on them."""
    tag = uuid.uuid4().hex[:8]
    s = base.separate(f"bench-restart-{tag}", folder)
    s = s.model_copy(update={"processor": s.processor.model_copy(update={
        "tick_interval_s": 3600.0, "state_store": store, "datadir": folder / "data"})})
    ensure_topics(s.kafka)
    config = write_settings_file(s, folder / "settings.yaml")
    host_states, group_states = built
    try:
        publish_inventory(config, assets, folder)
        size = write_changelogs(s, {HOST_STATE_TABLE: host_states, "groups": group_states})
        first = start_once(config, folder, "first", store == "disk")
        again = start_once(config, folder, "restart", store == "disk")
    finally:
        delete_topics(s.kafka, s.kafka.topic_prefix, f"{s.processor.app_id}-")
    figure = {"store": store, "hosts": hosts, "events": events, "changelog_mib": round(size / 2**20, 1),
              "first": asdict(first), "restart": asdict(again),
              "restart_over_first": round(again.seconds / first.seconds, 3)}
    print(f"  {store:6} store: first start ready in {first.seconds:6.1f} s{_read(first)}; "
          f"restart {again.seconds:6.1f} s{_read(again)} ({figure['restart_over_first']:.2f} of the first)",
          flush=True)
    return figure


def _read(start: Start) -> str:
    return "" if start.records_read is None else f", {start.records_read:,} records read"


def measure(hosts: int, events: int, stores: tuple[str, ...], reps: int) -> dict[str, Any]:
    base = load_settings()
    started = time.monotonic()
    sim = fleet(hosts, events)
    probe = base.separate("bench-restart-build", Path(tempfile.gettempdir()))
    host_states, group_states, _, seen = build_states(sim, events, probe)
    print(f"restart bench: {hosts:,} hosts, {seen:,} events -> {len(host_states):,} host and "
          f"{len(group_states):,} group states (built in {time.monotonic() - started:.0f} s)", flush=True)
    figures = []
    for rep in range(reps):
        for store in stores:
            with tempfile.TemporaryDirectory(prefix="dw-restart-") as tmp:
                figures.append({"rep": rep, **measure_store(base, Path(tmp), hosts, seen, store,
                                                            (host_states, group_states), sim.assets)})
    return {"method": __doc__, "figures": figures}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hosts", type=int, default=20_000)
    parser.add_argument("--events", type=int, default=400_000)
    parser.add_argument("--store", nargs="+", choices=STATE_STORES, default=list(STATE_STORES))
    parser.add_argument("--reps", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args()
    result = measure(args.hosts, args.events, tuple(args.store), args.reps)
    if args.json:
        args.json.write_bytes(orjson.dumps(result, option=orjson.OPT_INDENT_2))


if __name__ == "__main__":
    main()
