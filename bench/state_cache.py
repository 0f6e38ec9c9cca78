"""The decoded host states a stage-1 worker keeps, for a fleet of hosts at their id cap.

    .venv/bin/python -m bench.state_cache [--hosts 600] [--events-per-hour 400] [--store memory disk]

In process, no Kafka. One simulated host's day (bench/state_write.py's busiest host) goes
through ``Stage1`` (to its id cap at 400 events an hour). Its state is written, as the
processor's table stores it, under ``--hosts`` host names, each copy with ids and fingerprints
of its own, as different hosts' are (the JSON parser shares equal strings: copies with the same
ids weighed ~40 % less than a fleet's hosts do). Each mode then reads every host back through a
``HostStateTable`` (the decode a worker makes when a host sends), in a child process of its own,
and prints that process's RSS, the cache's count and estimated bytes, and the RSS the reads added
per state kept:
  count bound   ``state_cache_max`` alone (10,000), as before 2026-12-04
  byte bound    with ``state_cache_max_mib`` (256 by default) as well
and the decode a host costs once the cache has dropped it. ``--store`` names where the records are
kept, each mode once per store: ``memory`` (a dict, as faust's memory store keeps them) and
``disk`` (``processor.state_store: disk``, RocksDB in a temporary folder: processors/disk_store.py).
The child streams the records into its store, so its RSS holds what the store keeps of them.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterable, Iterator
from pathlib import Path

import psutil

from bench.state_write import Store, one_host_day
from deskwatch.processors.disk_store import DiskMapping
from deskwatch.processors.host_table import HostStateTable, decoded_bytes, state_records
from deskwatch.processors.rules import load_default_pack
from deskwatch.processors.stage1 import HostState, IdBucket, Stage1, count_populations
from deskwatch.schemas.envelope import EventBatch
from deskwatch.settings import STATE_STORES, ProcessorSettings


def host_at_cap(per_hour: float) -> HostState:
    """One simulated host's state after a day at ``per_hour`` events an hour."""
    events, sim = one_host_day(per_hour, 24)
    rules = load_default_pack()
    core = Stage1(rules, {a.host: a for a in sim.assets}, count_populations(sim.assets, rules))
    host, state = events[0].host.name, None
    for e in events:
        state = core.process(EventBatch(host=host, source="bench", events=[e]), state, e.timestamp).new_state
    assert state is not None
    return state


def fleet_records(state: HostState, hosts: int) -> list[tuple[bytes, bytes]]:
    """The stored records of ``hosts`` copies of ``state``, host ``PC-<n>``: each copy's id keys
    and fingerprints (hex digits) XORed with a mask of its own, so that they differ from every
    other copy's and stay as random as a host's own (a shared prefix would compress in the store)."""
    records: list[tuple[bytes, bytes]] = []
    for n in range(hosts):
        mask = int.from_bytes(hashlib.blake2b(n.to_bytes(8, "big"), digest_size=16).digest(), "big")

        def other(digits: str, mask: int = mask) -> str:
            return f"{int(digits, 16) ^ (mask >> (128 - 4 * len(digits))):0{len(digits)}x}"

        buckets = {start: IdBucket(ids={other(key): ms for key, ms in bucket.ids.items()}, hashed=True)
                   for start, bucket in state.id_buckets.items()}
        content = {other(fp): window for fp, window in state.content.items()}
        name = f"PC-{n:06d}"
        records += state_records(name, state.model_copy(update={"host": name, "id_buckets": buckets, "content": content}))
    return records


_LENGTHS = struct.Struct(">II")


def write_records(path: Path, records: Iterable[tuple[bytes, bytes]]) -> None:
    """Records as (key length, value length, key, value) frames: a child reads them one by one."""
    with path.open("wb") as f:
        for key, value in records:
            f.write(_LENGTHS.pack(len(key), len(value)) + key + value)


def read_records(path: Path) -> Iterator[tuple[bytes, bytes]]:
    with path.open("rb") as f:
        while head := f.read(_LENGTHS.size):
            klen, vlen = _LENGTHS.unpack(head)
            yield f.read(klen), f.read(vlen)


def child(records_file: Path, hosts: int, max_bytes: int | None, kind: str = "memory") -> dict[str, float]:
    store = Store("host-state")
    with tempfile.TemporaryDirectory(prefix="deskwatch-state-cache-") as folder:
        disk = DiskMapping(Path(folder) / "host-state.rocksdb") if kind == "disk" else None
        if disk is not None:
            store.data = disk  # type: ignore[assignment]  # a mapping of bytes to bytes, as the dict
        for key, value in read_records(records_file):
            store.data[key] = value
        try:
            return _read_back(store, hosts, max_bytes)
        finally:
            if disk is not None:
                disk.close()


def _read_back(store: Store, hosts: int, max_bytes: int | None) -> dict[str, float]:
    table = HostStateTable(store, ProcessorSettings().state_cache_max, max_bytes)
    names = [f"PC-{n:06d}" for n in range(hosts)]
    before = _rss_mib()
    started = time.perf_counter()
    for name in names:
        assert table.get(name) is not None
        table.flush(lambda *a: None)  # the end of the worker's batch: the cache evicts here
    read_s = time.perf_counter() - started
    count, estimated = table.cached
    rss = _rss_mib()
    return {"rss_mib": rss, "per_state_mib": (rss - before) / max(count, 1),
            "store_mib": sum(len(v) for v in store.data.values()) / 2**20,
            "cached": count, "estimated_mib": estimated / 2**20, "decode_ms": read_s / hosts * 1000}


def _rss_mib() -> float:
    rss: int = psutil.Process().memory_info().rss  # as the other benches read it
    return rss / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--hosts", type=int, default=600)
    parser.add_argument("--events-per-hour", type=float, default=400.0)
    parser.add_argument("--store", nargs="+", choices=STATE_STORES, default=["memory"],
                        help="where the child keeps the records (each mode once per store)")
    parser.add_argument("--bounds", nargs="+", choices=["count", "byte"], default=["count", "byte"],
                        help="the cache bounds to run (the count bound alone holds every host decoded)")
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        path, hosts, max_bytes, kind = args.child
        print(json.dumps(child(Path(path), int(hosts), int(max_bytes) or None, kind)))
        return
    state = host_at_cap(args.events_per_hour)
    handle, name = tempfile.mkstemp(prefix="deskwatch-state-cache-", suffix=".records")  # private (0600)
    os.close(handle)
    path = Path(name)
    bound = ProcessorSettings().state_cache_max_mib << 20
    print(f"{args.hosts} hosts, each one host's day at {args.events_per_hour:g} events an hour: "
          f"{len(state.seen_ids):,} ids, {len(state.content)} content windows "
          f"({sum(len(w.earlier) for w in state.content.values()):,} earlier windows in them), {len(state.hits)} hits, "
          f"estimated {decoded_bytes(state) / 2**20:.2f} MiB decoded")
    try:
        write_records(path, fleet_records(state, args.hosts))
        for kind in args.store:
            for mode, max_bytes in (("count bound", 0), ("byte bound", bound)):
                if mode.split()[0] not in args.bounds:
                    continue
                out = subprocess.run([sys.executable, "-m", "bench.state_cache", "--child", str(path), str(args.hosts),
                                      str(max_bytes), kind],
                                     check=True, capture_output=True, text=True, cwd=Path(__file__).parent.parent).stdout
                r = json.loads(out)
                print(f"{mode:>12}, {kind:>6} store: RSS {r['rss_mib']:,.0f} MiB, store {r['store_mib']:,.0f} MiB, "
                      f"{r['cached']:,.0f} states cached (estimated {r['estimated_mib']:,.0f} MiB, "
                      f"{r['per_state_mib']:.2f} MiB of RSS each), {r['decode_ms']:.1f} ms a host read")
    finally:
        path.unlink(missing_ok=True)


if __name__ == "__main__":
    main()
