"""Soak: the whole pipeline in live time for a long run, on the real engines.

    .venv/bin/python reliability/soak.py [--minutes 30] [--hosts 300] [--rate 100] [--seed 5]
        [--kill-processor-at MINUTE ...] [--kill-sink-at MINUTE ...] [--kill-kafka-at MINUTE ...]
        [--stop-es-at MINUTE ...] [--outage 30] [--sample 60] [--json out.json]

What a deployment sees and neither the fault campaign nor the benchmarks do: events whose times
are now, read by ``deskwatch ingest tail`` as they are written, and a processor whose ticker runs
at its own period on wall time, so windows close and timers fire while events flow (live ticks).
A simulated fleet (every scenario, at midday of a working day on its clock) starts a minute
after launch; a writer appends each JSON line to the tailed file once the wall clock reaches its
``@timestamp``.
``deskwatch processor run`` and ``deskwatch sink run`` work on the project's engines (``deskwatch
stack up``), on topics, indices and groups of the run's own prefix, deleted at the end.
``--kill-processor-at`` and ``--kill-sink-at`` SIGKILL the processor or the sink at those minutes
and start it again at once.
``--kill-kafka-at`` SIGKILLs the broker and ``--stop-es-at`` stops Elasticsearch (SIGTERM) for
``--outage`` seconds (the broker 10 at most), then starts it again; with either, the run uses the
fault campaign's private engines (``faults_engines.PrivateStack``, ports 24xxx), started for it and
stopped after, so the shared stack is never touched. The components keep the product's default
settings through it: what a deployment whose broker or search server restarts in working hours sees.

Every ``--sample`` seconds one line: events written, each component's RSS and CPU share since the
last line, and the records the processor and the sink have yet to commit. At the end, once the
pipeline has drained:
- events: sent (distinct ids) against the sum of the digests' repeat counts in Elasticsearch, and
  the dead letters by reason: lost and duplicated, as the fault campaign counts them;
- incidents: those in Elasticsearch against an in-process replay of the same events through both
  cores (``processors/evaluate/replay.py``, ticks every tick period of event time, up to the run's
  end): the same ids, status and event count; each set scored against the simulator's truth as
  ``deskwatch evaluate incidents`` scores it;
- memory: each component process's RSS from a quarter of its sampled life (the run's, for the
  first) to the run's end (or its stop), and the growth per hour between them.
Exit status 0 only when nothing was lost or duplicated and the incidents are the replay's.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import psutil
from elasticsearch.helpers import scan

from faults_account import IncidentKey, dead_letters, incident_diff, unaccounted
from faults_engines import PrivateStack

from deskwatch.components import Component, interrupt_on_sigterm, write_settings_file
from deskwatch.connect import elasticsearch_client
from deskwatch.processors.evaluate.incidents import IncidentScore, score
from deskwatch.processors.evaluate.replay import replay
from deskwatch.processors.rules import load_default_pack
from deskwatch.producers.simulate import FleetSpec, Simulation, simulate_fleet, write_inventory_csv
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.incident import Incident
from deskwatch.settings import Settings, load_settings
from deskwatch.sinks.elasticsearch.templates import delete_indices, events_alias, history_alias, incidents_alias
from deskwatch.stack import ensure_up
from deskwatch.topics import delete_topics, ensure_topics, pipeline_lag_known

WRITE_EVERY_S = 0.05
DRAIN_TIMEOUT_S = 600.0


class SoakError(RuntimeError):
    """A component could not start, or the pipeline did not drain."""


@dataclass(frozen=True)
class Plan:
    """What one soak runs: the fleet, its pace, and the faults asked for."""

    minutes: float = 30.0
    hosts: int = 300
    rate: float = 100.0  # events/s the fleet's noise adds up to (its scenarios come on top)
    seed: int = 5
    sample_s: float = 60.0
    lead_s: float = 60.0  # launch to the fleet's first event: the components start and join first
    kill_processor_at: tuple[float, ...] = ()  # minutes of the fleet's time
    kill_sink_at: tuple[float, ...] = ()
    kill_kafka_at: tuple[float, ...] = ()  # SIGKILL the broker, start it again after ``outage_s`` (10 s at most)
    stop_es_at: tuple[float, ...] = ()  # stop Elasticsearch, start it again after ``outage_s``
    outage_s: float = 30.0

    def faults(self) -> list[tuple[float, str]]:
        """(minute, what) of every fault asked for, in time order."""
        return sorted([(m, "processor") for m in self.kill_processor_at] + [(m, "sink") for m in self.kill_sink_at]
                      + [(m, "kafka") for m in self.kill_kafka_at] + [(m, "elasticsearch") for m in self.stop_es_at])

    @property
    def engine_faults(self) -> bool:
        """Faults of the engines themselves run on private ones, never on the shared stack."""
        return bool(self.kill_kafka_at or self.stop_es_at)


@dataclass
class Sample:
    """One line of the run's progress."""

    minute: float
    written: int
    lag_processor: int | None  # None: the broker could not tell the group's commits then
    lag_sink: int | None
    rss_mib: dict[str, float]
    cpu_share: dict[str, float]  # of one core, since the previous sample
    pids: dict[str, int]


@dataclass
class Outcome:
    """What the run ends with."""

    sent: int = 0
    events_found: int = 0
    digests: int = 0
    dead: dict[str, int] = field(default_factory=dict)
    incidents: int = 0
    replay_incidents: int = 0
    incident_diff: list[str] = field(default_factory=list)
    live_score: dict[str, Any] = field(default_factory=dict)
    replay_score: dict[str, Any] = field(default_factory=dict)
    restarts: list[str] = field(default_factory=list)
    drain_s: float = 0.0
    samples: list[Sample] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return unaccounted(self.sent, self.events_found, sum(self.dead.values()))[0]

    @property
    def duplicated(self) -> int:
        return unaccounted(self.sent, self.events_found, sum(self.dead.values()))[1]

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.duplicated == 0 and not self.incident_diff


def fleet(seed: int, start: datetime, minutes: float, hosts: int, rate: float) -> Simulation:
    """Every scenario over ``minutes`` from ``start``, ~``rate`` events/s, in a working day's
    midday on the fleet's clock (``working_midday_offset``)."""
    return simulate_fleet(FleetSpec(seed=seed, start=start, duration=timedelta(minutes=minutes), hosts=hosts,
                                    noise_events_per_host_per_hour=rate * 3600 / hosts,
                                    utc_offset_hours=working_midday_offset(start)))


def working_midday_offset(start: datetime) -> int:
    """The UTC offset (-12 to +14 hours, the zones in use) that puts ``start`` nearest to noon on a
    weekday, on the fleet's clock: laptops awake, the noise at its working-hours rate.

    Local noon alone was not enough: a soak started at 01:22 UTC on a Saturday ran on Saturday
    noon at +11, where the fleet sends ~a fifth of its weekday noise (60,730 events in 40 minutes
    at --rate 110); -12 puts it on Friday 13:22. Where no zone is on a weekday (Saturday noon
    UTC), the nearest noon is kept."""
    utc = start.astimezone(UTC)

    def distance(offset: int) -> tuple[bool, float]:
        local = utc + timedelta(hours=offset)
        return local.weekday() >= 5, abs(local.hour + local.minute / 60 - 12)

    return min(range(-12, 15), key=distance)


def timed_lines(sim: Simulation) -> tuple[list[tuple[float, bytes]], int]:
    """(epoch seconds of its ``@timestamp``, JSON line) for every event, in time order; and how
    many distinct event ids they carry."""
    docs = [(orjson.loads(line), line) for line in sim.events.json_lines()]
    ids = {doc["event"]["id"] for doc, _ in docs}
    return [(datetime.fromisoformat(doc["@timestamp"]).timestamp(), line) for doc, line in docs], len(ids)


class Writer(threading.Thread):
    """Appends each line to the file once the wall clock reaches its time."""

    def __init__(self, path: Path, lines: list[tuple[float, bytes]]) -> None:
        super().__init__(daemon=True)
        self._path, self._lines = path, lines
        self.written = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with self._path.open("ab") as out:
            while self.written < len(self._lines) and not self.stop.is_set():
                now, due = time.time(), self.written
                while due < len(self._lines) and self._lines[due][0] <= now:
                    due += 1
                if due > self.written:
                    out.write(b"".join(line + b"\n" for _, line in self._lines[self.written:due]))
                    out.flush()
                    self.written = due
                self.stop.wait(WRITE_EVERY_S)


def usage_of(pid: int) -> tuple[float, float]:
    """Resident set size in MiB and user + system CPU seconds of ``pid`` (zeros when it is gone)."""
    try:
        proc = psutil.Process(pid)
        with proc.oneshot():
            return proc.memory_info().rss / 2**20, sum(proc.cpu_times()[:2])
    except psutil.NoSuchProcess:
        return 0.0, 0.0


class Pipeline:
    """The run's components, restarted when killed or when one exits on its own."""

    def __init__(self, config: Path, folder: Path, tailed: Path) -> None:
        self.components = {
            "processor": Component(["processor", "run"], config, folder / "processor.log"),
            "sink": Component(["sink", "run"], config, folder / "sink.log"),
            "tail": Component(["ingest", "tail", "--format", "jsonl", str(tailed)], config, folder / "tail.log"),
        }
        self.restarts: list[str] = []
        self._cpu: dict[str, tuple[int, float]] = {}
        self._at = time.monotonic()

    def check(self, minute: float) -> None:
        """Restart a component that exited, as a service manager would; the run says so."""
        for name, c in list(self.components.items()):
            if not c.running():
                self.restarts.append(f"{name} exited {c.proc.returncode} at minute {minute:.1f}:\n{c.tail(8)}")
                self.components[name] = c.again()

    def kill(self, name: str, minute: float) -> None:
        """SIGKILL one component and start it again at once."""
        c = self.components[name]
        c.stop(signal.SIGKILL)
        self.restarts.append(f"{name} SIGKILLed at minute {minute:.1f} (asked)")
        self.components[name] = c.again()

    def usage(self) -> tuple[dict[str, float], dict[str, float], dict[str, int]]:
        """RSS in MiB, CPU share of one core since the last call, and pid, per component."""
        now, elapsed = time.monotonic(), max(time.monotonic() - self._at, 1e-9)
        rss, share = {}, {}
        for name, c in self.components.items():
            pid = c.proc.pid
            rss[name], cpu = usage_of(pid)
            before_pid, before = self._cpu.get(name, (pid, 0.0))
            share[name] = max(0.0, cpu - (before if before_pid == pid else 0.0)) / elapsed
            self._cpu[name] = (pid, cpu)
        self._at = now
        return rss, share, {name: c.proc.pid for name, c in self.components.items()}

    def stop(self) -> None:
        for c in self.components.values():
            c.stop()


def run(base: Settings, plan: Plan, folder: Path, engines: PrivateStack | None = None) -> Outcome:
    """One soak; the components are stopped and the run's topics and indices deleted after it.
    ``base`` points at the engines; ``engines`` is the private stack the engine faults hit."""
    if plan.engine_faults and engines is None:
        raise SoakError("faults of Kafka or Elasticsearch need the private engines (faults_engines.PrivateStack)")
    s = base.separate(f"soak-{uuid.uuid4().hex[:8]}", folder)
    start = datetime.fromtimestamp(int(time.time() + plan.lead_s), UTC)
    sim = fleet(plan.seed, start, plan.minutes, plan.hosts, plan.rate)
    lines, distinct = timed_lines(sim)
    print(f"fleet: {len(sim.hosts)} hosts, {len(lines):,} events over {plan.minutes:g} min from "
          f"{start:%H:%M:%S} UTC, {len(sim.truth)} problems injected", flush=True)
    ensure_topics(s.kafka)
    config = write_settings_file(s, folder / "settings.yaml")
    write_inventory_csv(sim.assets, folder / "inventory.csv")
    inventory = Component(["inventory", "publish", str(folder / "inventory.csv")], config, folder / "inventory.log")
    if inventory.proc.wait(300) != 0:
        raise SoakError(f"inventory publish failed:\n{inventory.tail()}")
    tailed = folder / "fleet.jsonl"
    tailed.touch()
    pipeline, writer = Pipeline(config, folder, tailed), Writer(tailed, lines)
    out = Outcome(sent=distinct)
    try:
        writer.start()
        out.samples = _watch(s, plan, pipeline, writer, start, len(lines), engines)
        out.drain_s = _drain(s, pipeline, plan.minutes)
        end = datetime.now(UTC)
        pipeline.stop()
        _account(s, sim, out, end, base.processor.tick_interval_s)
        out.restarts = pipeline.restarts
    finally:
        writer.stop.set()
        pipeline.stop()
        delete_indices(elasticsearch_client(s.elasticsearch), f"{s.elasticsearch.index_prefix}-")
        delete_topics(s.kafka, s.kafka.topic_prefix, f"{s.processor.app_id}-")
    return out


def _watch(s: Settings, plan: Plan, pipeline: Pipeline, writer: Writer, start: datetime,
           total: int, engines: PrivateStack | None) -> list[Sample]:
    """Sample until every line is written; inject the faults at their minutes."""
    samples: list[Sample] = []
    faults = plan.faults()
    next_sample = time.monotonic() + plan.sample_s
    while writer.written < total:
        minute = (time.time() - start.timestamp()) / 60
        pipeline.check(minute)
        if faults and minute >= faults[0][0]:
            _inject(faults.pop(0)[1], plan, pipeline, engines, minute)
            continue
        if time.monotonic() >= next_sample:
            samples.append(_sample(s, pipeline, writer, minute))
            next_sample = max(next_sample + plan.sample_s, time.monotonic())  # none owed for an outage
        time.sleep(0.5)
    return samples


def _inject(what: str, plan: Plan, pipeline: Pipeline, engines: PrivateStack | None, minute: float) -> None:
    """One fault; returns once what it stopped runs again (the writer keeps writing meanwhile)."""
    if what in ("processor", "sink"):
        pipeline.kill(what, minute)
        return
    assert engines is not None
    began = time.monotonic()
    fault, done = {"kafka": (engines.kafka_killed, "SIGKILLed"), "elasticsearch": (engines.es_stopped, "stopped")}[what]
    fault(plan.outage_s)  # the campaign's rows
    pipeline.restarts.append(f"{what} {done} at minute {minute:.1f}, "
                             f"running again {time.monotonic() - began:.0f} s later (asked)")
    print(f"[{minute:6.1f} min] {pipeline.restarts[-1]}", flush=True)


def _lag(s: Settings) -> tuple[int | None, int | None]:
    """The pipeline's lag, or None for both while the broker cannot tell the groups' commits."""
    return pipeline_lag_known(s) or (None, None)


def _sample(s: Settings, pipeline: Pipeline, writer: Writer, minute: float) -> Sample:
    lag = _lag(s)
    rss, share, pids = pipeline.usage()
    sample = Sample(round(minute, 2), writer.written, lag[0], lag[1], rss, share, pids)
    print(f"[{minute:6.1f} min] written {writer.written:>9,}  lag processor {_count(lag[0]):>6} sink {_count(lag[1]):>6}  "
          + "  ".join(f"{n} {rss[n]:5.0f} MiB {share[n]:4.0%}" for n in rss), flush=True)
    return sample


def _count(n: int | None) -> str:
    return "unknown" if n is None else f"{n:,}"


def _drain(s: Settings, pipeline: Pipeline, minute: float) -> float:
    """Seconds from the last line written until the processor and the sink committed everything."""
    began = time.monotonic()
    time.sleep(2.0)  # the tail's linger and its last envelopes
    while (lag := _lag(s)) != (0, 0):
        pipeline.check(minute)
        if time.monotonic() - began > DRAIN_TIMEOUT_S:
            raise SoakError(f"not drained {DRAIN_TIMEOUT_S:.0f} s after the last line: lag {lag}")
        time.sleep(1.0)
    drained = time.monotonic() - began
    time.sleep(3.0)  # the sink's last refresh
    return drained


def _account(s: Settings, sim: Simulation, out: Outcome, end: datetime, tick_s: float) -> None:
    """Events, dead letters and incidents found, against what was sent and an in-process replay."""
    client = elasticsearch_client(s.elasticsearch)
    for alias in (events_alias(s.elasticsearch), incidents_alias(s.elasticsearch), history_alias(s.elasticsearch)):
        client.indices.refresh(index=alias)
    counted = client.search(index=events_alias(s.elasticsearch), size=0, track_total_hits=True,
                            aggs={"events": {"sum": {"field": "repeat_count"}}})
    out.events_found = int(counted["aggregations"]["events"]["value"])
    out.digests = int(counted["hits"]["total"]["value"])
    out.dead = dict(dead_letters(s))
    live = {h["_id"]: Incident.model_validate(h["_source"])
            for h in scan(client, index=incidents_alias(s.elasticsearch), query={"query": {"match_all": {}}})}
    changes = [IncidentChange.model_validate(h["_source"])
               for h in scan(client, index=history_alias(s.elasticsearch), query={"query": {"match_all": {}}})]
    reference = replay(iter(sim.events), load_default_pack(), sim.assets, timedelta(seconds=tick_s),
                       source="simulator", until=end)
    out.incidents, out.replay_incidents = len(live), len(reference.incidents)
    rules = {i: x.rule_id for i, x in (*reference.incidents.items(), *live.items())}
    out.incident_diff = incident_diff(keyed(live), keyed(reference.incidents), rules)
    out.live_score = _figures(score(live, changes, sim.truth, out.sent))
    out.replay_score = _figures(score(reference.incidents, reference.changes, sim.truth, reference.events))


def keyed(incidents: dict[str, Incident]) -> dict[str, IncidentKey]:
    """Each incident's (status, event count), what two runs must agree on."""
    return {i: (x.status.value, x.event_count) for i, x in incidents.items()}


def _figures(scored: IncidentScore) -> dict[str, Any]:
    return {"found": scored.found, "injected": scored.injected, "precision": round(scored.precision, 4),
            "recall": round(scored.recall, 4), "top_level": scored.top_level,
            "missed": [t.scenario for t in scored.missed]}


def memory_growth(samples: list[Sample], name: str) -> list[tuple[Sample, Sample]]:
    """Per process of component ``name`` (a restart starts another), its first and last sample
    from a quarter of its sampled life on: the first process fills its state as the first hosts
    and windows arrive, a restarted one reloads it from the changelogs first (a span from its
    start counted that reload as growth: +368 MiB/h over the 14 minutes after a restart)."""
    lives: dict[int, list[Sample]] = {}
    for x in samples:
        lives.setdefault(x.pids[name], []).append(x)
    spans = []
    for life in lives.values():
        settled = [x for x in life if x.minute >= life[0].minute + (life[-1].minute - life[0].minute) / 4]
        if settled[-1].minute > settled[0].minute:
            spans.append((settled[0], settled[-1]))
    return spans


def _growth(name: str, first: Sample, last: Sample) -> str:
    per_hour = (last.rss_mib[name] - first.rss_mib[name]) / ((last.minute - first.minute) / 60)
    return (f"{name} {first.rss_mib[name]:.0f} -> {last.rss_mib[name]:.0f} MiB, minute {first.minute:.1f} "
            f"to {last.minute:.1f} ({per_hour:+.0f} MiB/h)")


def report(out: Outcome) -> str:
    """The run's closing lines."""
    lines = [f"events: sent {out.sent:,}, found in Elasticsearch {out.events_found:,} ({out.digests:,} digests), "
             f"dead-lettered {sum(out.dead.values())} {out.dead or ''}; lost {out.lost}, duplicated {out.duplicated}",
             f"drained {out.drain_s:.1f} s after the last line",
             f"incidents: {out.incidents} live, {out.replay_incidents} in the replay; "
             f"{'the same ids, statuses and counts' if not out.incident_diff else f'{len(out.incident_diff)} differ'}",
             *(f"  {d}" for d in out.incident_diff[:20]),
             f"scored against the truth: live {out.live_score}", f"                          replay {out.replay_score}"]
    if out.samples:
        lines += [f"memory: {_growth(name, first, last)}" for name in out.samples[-1].pids
                  for first, last in memory_growth(out.samples, name)]
        known_p = [x.lag_processor for x in out.samples if x.lag_processor is not None]
        known_s = [x.lag_sink for x in out.samples if x.lag_sink is not None]
        unknown = sum(1 for x in out.samples if x.lag_processor is None)
        lines.append(f"lag at its most: processor {max(known_p, default=0):,}, sink {max(known_s, default=0):,}"
                     + (f" ({unknown} samples unknown: the broker could not tell the commits)" if unknown else ""))
    lines += [f"restart: {r.splitlines()[0]}" for r in out.restarts]
    return "\n".join(lines)


@contextmanager
def engines_for(plan: Plan, base: Settings) -> Iterator[tuple[Settings, PrivateStack | None]]:
    """The engines a soak runs on: the local stack (started if need be), or, to stop or kill an
    engine in it, private ones of its own, stopped after it."""
    if not plan.engine_faults:
        ensure_up(base.stack, lambda msg: print(msg, flush=True))
        yield base, None
        return
    engines = PrivateStack()
    with engines.running():
        yield engines.clients(base), engines


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    d = Plan()
    p.add_argument("--minutes", type=float, default=d.minutes)
    p.add_argument("--hosts", type=int, default=d.hosts)
    p.add_argument("--rate", type=float, default=d.rate, help="events/s the fleet's noise adds up to")
    p.add_argument("--seed", type=int, default=d.seed)
    p.add_argument("--sample", type=float, default=d.sample_s, help="seconds between progress lines")
    p.add_argument("--lead", type=float, default=d.lead_s,
                   help="seconds from launch to the fleet's first event: the components start and join first")
    p.add_argument("--kill-processor-at", type=float, nargs="*", default=[], metavar="MINUTE")
    p.add_argument("--kill-sink-at", type=float, nargs="*", default=[], metavar="MINUTE")
    p.add_argument("--kill-kafka-at", type=float, nargs="*", default=[], metavar="MINUTE",
                   help="SIGKILL the broker (then start it again); runs on private engines, as the fault campaign")
    p.add_argument("--stop-es-at", type=float, nargs="*", default=[], metavar="MINUTE",
                   help="stop Elasticsearch for --outage seconds; runs on private engines")
    p.add_argument("--outage", type=float, default=d.outage_s, help="seconds an engine stays down (Kafka: 10 at most)")
    p.add_argument("--json", type=Path, default=None)
    a = p.parse_args(argv)
    interrupt_on_sigterm()
    plan = Plan(a.minutes, a.hosts, a.rate, a.seed, a.sample, a.lead, kill_processor_at=tuple(a.kill_processor_at),
                kill_sink_at=tuple(a.kill_sink_at), kill_kafka_at=tuple(a.kill_kafka_at),
                stop_es_at=tuple(a.stop_es_at), outage_s=a.outage)
    began = time.monotonic()
    with engines_for(plan, load_settings()) as (settings, engines), \
            tempfile.TemporaryDirectory(prefix="dw-soak-") as tmp:
        out = run(settings, plan, Path(tmp), engines)
    print(report(out))
    print(f"soak took {time.monotonic() - began:.0f} s")
    if a.json:
        a.json.write_text(json.dumps({**asdict(out), "lost": out.lost, "duplicated": out.duplicated,
                                      "plan": asdict(plan)}, indent=2, default=str))
    return 0 if out.ok else 1


if __name__ == "__main__":
    sys.exit(main())
