"""What a decoded group state (stage 2) weighs in RSS, next to ``decoded_bytes``'s estimate.

    .venv/bin/python -m bench.group_state

In process, no Kafka. The default pack's ``gpo-failure-site`` rule (5 hosts or 20 % of a site in
30 minutes) gets signals from one site of 1,000 hosts through ``Stage2``:
  pending   four hosts send N signals in 30 minutes: below both thresholds, so the window grows
            (to WINDOW_CAP entries at most)
  open      H hosts send two signals each: the incident opens at the fifth host and its group
            gathers host names, source ids and the per-host groups it absorbs
  recovering  as open, then every host but one sends a recovery: the live incident keeps each
            recovered host's name and time
Each case runs in a child process of its own, which decodes ``--copies`` distinct copies of the
final state (ids and host names changed per copy, as different groups' are) and prints the RSS
they added per state; the estimate that bounds the worker's cache of them is printed beside it.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import re
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil

from deskwatch.processors.rules import load_default_pack
from deskwatch.processors.stage2 import GroupState, Stage2
from deskwatch.processors.stage2.state import decoded_bytes
from deskwatch.schemas.signal import Signal

RULE = "gpo-failure-site"
SITE_HOSTS = 1000
T0 = datetime(2026, 12, 7, 8, 0, tzinfo=UTC)
CASES = ([("pending", 4, n) for n in (5, 100, 600, 1500)] + [("open", h, 2 * h) for h in (1, 20, 300, 1000)]
         + [("recovering", h, 2 * h) for h in (300, 1000)])


def grow(kind: str, hosts: int, signals: int) -> GroupState:
    """The group's state after ``signals`` signals from ``hosts`` hosts, spread over 30 minutes
    (pending) or two hours (open)."""
    rules = load_default_pack()
    rule = next(r for r in rules if r.id == RULE)
    core = Stage2({r.id: r for r in rules})
    span = timedelta(minutes=30 if kind == "pending" else 120)
    recoveries = hosts - 1 if kind == "recovering" else 0
    state: GroupState | None = None
    for i in range(signals + recoveries):
        when = T0 + span * i / signals
        host = f"pc-{i % hosts:05d}"
        source = hashlib.sha1(f"{host}{i}".encode()).hexdigest()  # noqa: S324 - an id, as stage 1's are
        sig = Signal(rule_id=rule.id, rule_version=rule.version, group_key=f"{RULE}|asset.site=lyon",
                     group={"asset.site": "lyon"}, host=host, device_class="workstation", fingerprint="f" * 16,
                     provider="Microsoft-Windows-GroupPolicy", event_code="1058", first_seen=when, last_seen=when,
                     count=1, distinct=1, population=SITE_HOSTS, recovery=i >= signals,
                     sample_message="The processing of Group Policy failed: cannot read gpt.ini", source_id=source)
        state = core.on_signal(state, sig, when).state
    assert state is not None
    return state


def child(kind: str, hosts: int, signals: int, copies: int) -> dict[str, float]:
    state = grow(kind, hosts, signals)
    text = state.model_dump_json()
    hexid = re.compile(r'"[0-9a-f]{6}([0-9a-f]{10,})"')

    def copy(k: int) -> str:  # another group's: other ids, other host names
        return hexid.sub(lambda m: f'"{k:06x}{m.group(1)}"', text).replace('"pc-', f'"c{k}-pc-')

    jsons = [copy(k) for k in range(copies)]
    process = psutil.Process()
    before = process.memory_info().rss
    decoded = [GroupState.model_validate_json(j) for j in jsons]
    rss: int = process.memory_info().rss
    assert len(decoded) == copies
    return {"window": len(state.window), "hosts": len(state.hosts), "recent_ids": len(state.recent_source_ids),
            "absorb_targets": len(state.absorb_targets), "recovered": len(state.recovered),
            "open": state.incident is not None,
            "json_kib": len(text) / 1024, "rss_kib": (rss - before) / copies / 1024,
            "estimate_kib": decoded_bytes(state) / 1024}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--copies", type=int, default=300)
    parser.add_argument("--child", nargs=4, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        kind, hosts, signals, copies = args.child
        print(json.dumps(child(kind, int(hosts), int(signals), int(copies))))
        return
    print(f"{'case':>10} {'hosts':>5} {'signals':>7} | {'window':>6} {'hosts':>5} {'ids':>4} {'absorbs':>7} "
          f"{'recovered':>9} {'open':>5} | {'JSON KiB':>8} {'RSS KiB':>8} {'estimate':>8} {'ratio':>5}")
    for kind, hosts, signals in CASES:
        out = subprocess.run([sys.executable, "-m", "bench.group_state", "--child", kind, str(hosts), str(signals),
                              str(args.copies)], check=True, capture_output=True, text=True,
                             cwd=Path(__file__).parent.parent).stdout
        r = json.loads(out)
        print(f"{kind:>10} {hosts:>5} {signals:>7} | {r['window']:>6} {r['hosts']:>5} {r['recent_ids']:>4} "
              f"{r['absorb_targets']:>7} {r['recovered']:>9} {r['open']!s:>5} | {r['json_kib']:>8.1f} {r['rss_kib']:>8.1f} "
              f"{r['estimate_kib']:>8.1f} {r['estimate_kib'] / r['rss_kib']:>5.2f}")


if __name__ == "__main__":
    main()
