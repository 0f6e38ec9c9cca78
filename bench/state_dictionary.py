"""Write the sample records zstd's dictionary for stored state is made of (a new version only).

    .venv/bin/python -m bench.state_dictionary processors/state_dictionary_v2.ndjson

processors/state_codec.py compresses every state record with a raw-content dictionary: text the
small records share (field names, rule ids, titles and remediation hints, timestamp shapes), so a
300-byte content shard costs ~90 bytes instead of ~170 without one. A record written with a
dictionary can only be read with the very same bytes, so a dictionary file is never edited: a new
one is a new version (its own prefix byte in state_codec.py), and the old one stays to read old
changelogs. This script made ``state_dictionary_v1.ndjson``: the final states of a seeded,
simulated hour of a 2,000-host fleet with every scenario, through the stage-1 and stage-2 cores, one
record per kind: each rule's smallest group state (up to 4 KiB), the smallest id bucket, then a median host header
and content shard, the most frequent kinds last (zstd reaches the end of a dictionary most cheaply).
v1's host header is the format before 2026-12-01 (the state's JSON without ids); run now, the
script writes today's (processors/host_table.py ``HostHeader``).
"""

from __future__ import annotations

import argparse
from collections import defaultdict
from datetime import UTC, datetime, timedelta
from pathlib import Path

from deskwatch.processors.encode import encode
from deskwatch.processors.host_table import state_records
from deskwatch.processors.state_codec import unpack
from deskwatch.producers.simulate import FleetSpec, simulate_fleet
from deskwatch.settings import load_settings

from bench.memory import build_states


MAX_GROUP = 4_096


def median(values: list[bytes]) -> bytes:
    return sorted(values, key=len)[len(values) // 2]


def sample_records() -> list[bytes]:
    """One record of each kind as JSON, in dictionary order (rarest first)."""
    spec = FleetSpec(seed=7, start=datetime(2026, 11, 23, 8, tzinfo=UTC), duration=timedelta(hours=1),
                     hosts=2_000, noise_events_per_host_per_hour=10)
    hosts, groups, _, _ = build_states(simulate_fleet(spec), 10**9, load_settings())
    by_rule: dict[str, list[bytes]] = defaultdict(list)
    for state in groups.values():
        by_rule[state.rule_id].append(encode(state))
    by_kind: dict[str, list[bytes]] = defaultdict(list)
    for host, host_state in hosts.items():
        for key, value in state_records(host, host_state):  # as stored: compressed, so unpacked
            by_kind[key[:1].decode()].append(unpack(value))
    rarest_first = sorted(by_rule.values(), key=len)
    # A rule's smallest group state; a fleet-wide group (one per fleet, tens of KB of host names,
    # its own text rather than shared text) is left out.
    kept = [record for record in (min(v, key=len) for v in rarest_first) if len(record) <= MAX_GROUP]
    return kept + [min(by_kind["i"], key=len)] + [median(by_kind[k]) for k in ("h", "c")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    out: Path = parser.parse_args().out
    if out.exists():
        raise SystemExit(f"{out} exists: a dictionary is never rewritten, write a new version")
    records = sample_records()
    out.write_bytes(b"\n".join(records) + b"\n")
    print(f"{out}: {len(records)} records, {out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
