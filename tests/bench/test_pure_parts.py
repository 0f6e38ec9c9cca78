"""The pure parts of the bench: option handling, percentiles, stamping, and the memory envelopes."""

from __future__ import annotations

import math
import os
import signal
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import pytest

import bench.__main__ as bench_command
from bench.__main__ import ORDER, TINY, Volumes, parse, run_all, selected, volumes
from bench.latency import percentile, refresh_seconds, stamp
from bench.memory import LINGER, changelog, envelopes, fleet


@pytest.mark.parametrize(("text", "seconds"), [("1s", 1.0), ("500ms", 0.5), ("2m", 120.0), ("30", 30.0)],
                         ids=["seconds", "millis", "minutes", "bare"])
def test_refresh_seconds(text: str, seconds: float) -> None:
    assert refresh_seconds(text) == seconds


@pytest.mark.parametrize(("values", "q", "expected"), [
    ([5.0], 99, 5.0), ([1.0, 2.0, 3.0], 50, 2.0), ([3.0, 1.0, 2.0, 4.0], 50, 2.5),
    (list(map(float, range(101))), 99, 99.0), ([0.0, 10.0], 99, 9.9),
], ids=["one", "odd-median", "even-median-unsorted", "p99-of-101", "interpolated"])
def test_percentile(values: list[float], q: float, expected: float) -> None:
    assert percentile(values, q) == pytest.approx(expected)


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError):
        percentile([], 50)


def test_stamp_sets_only_the_timestamp() -> None:
    line = b'{"@timestamp":"2026-11-23T08:00:04Z","host":{"name":"PC-1"},"message":"m"}'
    now = datetime(2026, 11, 29, 15, 0, 1, 250_000, tzinfo=UTC)
    doc = orjson.loads(stamp(line, now))
    assert doc == {"@timestamp": "2026-11-29T15:00:01.250000Z", "host": {"name": "PC-1"}, "message": "m"}
    assert datetime.fromisoformat(doc["@timestamp"]) == now


VOLUME_CASES = [
    ("defaults", [], Volumes()),
    ("tiny", ["--tiny"], TINY),
    ("override", ["--e2e-events", "500", "--memory-hosts", "10", "20", "--latency-rate", "7.5"],
     Volumes(e2e_events=500, memory_hosts=(10, 20), latency_rate=7.5)),
    ("tiny-then-override", ["--tiny", "--reps", "2"], Volumes(**{**TINY.__dict__, "reps": 2})),
]


@pytest.mark.parametrize(("argv", "expected"), [c[1:] for c in VOLUME_CASES], ids=[c[0] for c in VOLUME_CASES])
def test_volumes(argv: list[str], expected: Volumes) -> None:
    assert volumes(parse(argv)) == expected


def test_scenarios_run_in_the_fixed_order_and_unknown_ones_are_refused() -> None:
    assert selected("memory, latency,e2e") == ["e2e", "latency", "memory"]
    assert selected(",".join(ORDER)) == list(ORDER)
    with pytest.raises(SystemExit, match="unknown scenario"):
        selected("e2e,throughput")


def test_a_scenario_whose_baseline_client_is_missing_says_to_install_the_bench_extra(
        monkeypatch: pytest.MonkeyPatch) -> None:
    def missing(v: Volumes, results: object) -> None:
        raise ModuleNotFoundError("No module named 'confluent_kafka'", name="confluent_kafka")

    monkeypatch.setattr(bench_command, "run_processor", missing)
    results = run_all(["processor"], TINY)
    assert "confluent_kafka" in results.errors["processor"]
    assert "`make bench` installs it" in results.errors["processor"]


def test_changelog_topic_names_follow_faust() -> None:
    assert changelog("bench-mem-1", "hosts") == "bench-mem-1-hosts-changelog"


def test_memory_envelopes_keep_every_event_once_and_respect_the_limits() -> None:
    sim = fleet(50, 2_000)
    batches = list(envelopes(sim, 1_500))
    ids = [e.event.id for batch, _ in batches for e in batch.events]
    assert len(ids) == len(set(ids)) == 1_500
    assert all(len(batch.events) <= 500 and {e.host.name for e in batch.events} == {batch.host} for batch, _ in batches)
    for batch, now in batches:  # an envelope's time is never before its events, and within one linger
        newest = max(e.timestamp for e in batch.events)
        assert newest <= now <= min(e.timestamp for e in batch.events) + LINGER + timedelta(seconds=1)
    per_host = Counter(b.host for b, _ in batches)  # one working hour, one linger: one envelope per host
    assert set(per_host.values()) == {1} and len(per_host) == len({e.host.name for b, _ in batches for e in b.events})


def test_cpu_split_counts_a_launchers_children() -> None:
    """Elasticsearch's launcher runs the server as a child: its CPU must be found from the launcher's pid."""
    import subprocess
    import time

    from bench.e2e import with_descendants

    launcher = subprocess.Popen(["sh", "-c", "sleep 30 & wait"])
    found = [launcher.pid]
    try:
        deadline = time.monotonic() + 5
        while len(found := with_descendants(launcher.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert found[0] == launcher.pid and len(found) == 2
        assert "sleep" in open(f"/proc/{found[1]}/cmdline").read()
    finally:
        for pid in reversed(found):  # the child first, then the launcher: only what this test started
            os.kill(pid, signal.SIGKILL)
        launcher.wait()


def test_state_write_measures_both_ways_per_hour() -> None:
    from bench.state_write import one_host_day, run
    from deskwatch.processors.rules import load_default_pack
    from deskwatch.processors.stage1 import Stage1, count_populations

    events, sim = one_host_day(100.0, 2)
    rules = load_default_pack()
    hours = run(events, Stage1(rules, {a.host: a for a in sim.assets}, count_populations(sim.assets, rules)))
    assert sum(h.envelopes for h in hours) == len(events) > 100
    assert hours[-1].ids > hours[0].ids > 0
    last = hours[-1]
    assert last.split_bytes < last.whole_bytes, "after an hour, parts cost less than the whole state"


@pytest.mark.parametrize("kind", ["memory", "disk"])
def test_state_cache_bench_reads_every_host_back_and_the_byte_bound_keeps_fewer(tmp_path: Path, kind: str) -> None:
    from bench.state_cache import child, fleet_records, host_at_cap, read_records, write_records
    from deskwatch.processors.host_table import decoded_bytes

    state = host_at_cap(20.0)
    records = fleet_records(state, 30)
    keys = {key for key, _ in records}
    assert len(keys) == len(records), "every copy's records under its own host's keys"
    path = tmp_path / "records.bin"
    write_records(path, records)
    assert list(read_records(path)) == records
    unbounded = child(path, 30, None, kind)
    assert unbounded["cached"] == 30 and unbounded["estimated_mib"] == 0
    assert unbounded["store_mib"] * 2**20 == pytest.approx(sum(len(v) for _, v in records))
    bound = decoded_bytes(state) * 10  # room for ten hosts' states
    bounded = child(path, 30, bound, kind)
    assert bounded["cached"] == 10 and bounded["estimated_mib"] * 2**20 <= bound


def test_the_state_cache_benchs_copies_share_no_id_with_each_other() -> None:
    """Copies of one host sharing ids weighed ~40 % less than a fleet's hosts (the JSON parser
    shares equal strings): each copy's ids and fingerprints are its own."""
    from bench.state_cache import fleet_records, host_at_cap
    from deskwatch.processors.host_table import HostStateTable
    from bench.state_write import Store

    store = Store("host-state")
    store.data.update(fleet_records(host_at_cap(20.0), 3))
    table = HostStateTable(store)
    states = [table.get(f"PC-{n:06d}") for n in range(3)]
    assert all(s is not None for s in states)
    ids = [set(s.seen_ids) for s in states if s is not None]
    fingerprints = [set(s.content) for s in states if s is not None]
    assert len(ids[0]) > 100 and not ids[0] & ids[1] and not ids[1] & ids[2]
    assert len(fingerprints[0]) > 10 and not fingerprints[0] & fingerprints[1]


def test_ticks_bench_times_both_rounds_and_they_agree(capsys: pytest.CaptureFixture[str]) -> None:
    from bench.ticks import main

    main(["--hosts", "300", "--events", "3000", "--reps", "1", "--partitions", "3"])
    out = capsys.readouterr().out
    assert "round, schedule (due keys only)" in out and "ratio every key / schedule" in out
    assert "input: " in out and " groups (" in out


def test_cpu_of_an_exited_component_is_read_at_its_wait() -> None:
    """The producer exits before the pipeline drains: its CPU must come from the wait, not /proc."""
    import subprocess
    import sys

    from bench.e2e import cpu_seconds, reap

    busy = subprocess.Popen([sys.executable, "-c", "import time\nend = time.process_time() + 0.3\n"
                             "while time.process_time() < end: pass\nraise SystemExit(3)"])
    code, cpu = reap(busy)
    assert (code, busy.returncode) == (3, 3)
    assert cpu >= 0.25
    assert cpu_seconds([busy.pid]) == 0.0  # what the split read before: the entry is gone


def test_group_state_bench_grows_each_case_as_it_says() -> None:
    from bench.group_state import child, grow

    pending = grow("pending", 4, 60)
    assert len(pending.window) == 60 and pending.incident is None, "four hosts stay below both thresholds"
    opened = child("open", 30, 60, 5)
    assert opened["open"] and opened["hosts"] == 30 and opened["absorb_targets"] == 30
    assert opened["estimate_kib"] > 0
    # The RSS change is read, but its sign is not the test's to assert: in the suite's own process,
    # five small states beside whatever the collector frees meanwhile, it read -192 KiB in CI
    # (2026-12-06). The bench reads it in a fresh child over 300 copies (main).
    assert math.isfinite(opened["rss_kib"])


def test_state_growth_bench_keeps_each_count_under_its_cap() -> None:
    from bench.state_growth import run

    lines = run(hours=0.3, hosts=8, rate=10.0, id_cap=100, every_min=6.0)
    assert len(lines) >= 2 and lines[-1]["events"] > lines[0]["events"] > 0
    assert lines[-1]["ids_max"] == 100, "the busiest host reached the cap"
    for line in lines:
        assert 0 < line["ids_max"] <= 100 and line["ids"] <= 100 * line["hosts"], "the id cap binds"
        assert line["earlier"] <= 16 * line["windows"], "each window keeps at most 16 earlier ones"
        assert line["rss_mib"] > 0 and line["hosts_mib"] > 0


def test_the_backlog_benchs_baseline_sends_every_write_and_the_sink_gets_its_own_back() -> None:
    from bench.sink_backlog import SINK_BATCH, every_write_sent
    from deskwatch.sinks.elasticsearch import consume
    from deskwatch.sinks.elasticsearch.coalesce import Coalesced
    from deskwatch.sinks.elasticsearch.encode import BulkItem

    items = [BulkItem("i", "doc", version, b"{}", f"t:0:{version}", b"{}") for version in (1, 3, 2)]
    assert [item.version for item in Coalesced(items).heads] == [3]  # the sink as built: the newest
    with every_write_sent():
        batch = getattr(consume, SINK_BATCH)(items)  # what the sink's loop makes its batches with, in the block
        assert (batch.heads, batch.held, batch.instead_of(items[1])) == (items, 0, None)
    assert getattr(consume, SINK_BATCH) is Coalesced


def test_the_backlog_bench_refuses_runs_that_left_different_documents() -> None:
    from bench.sink_backlog import CatchUp, report

    same = CatchUp(True, 10, 9, 1, 1.0, 0.5, 0.5, docs=8, versions=20)
    with pytest.raises(SystemExit, match="different documents"):
        report([same, CatchUp(False, 10, 10, 0, 1.1, 0.5, 0.6, docs=8, versions=19)])
