"""Absorption and the lifecycle converge: any delivery order the broker allows, with replays,
ends with the same incidents (status, counts, opening, children, absorbed_count, parent_id).

Orders are those Kafka allows: each channel (one stage-1 partition into one group, one group's
commands to another) stays in order, channels interleave freely, and a rewind re-delivers a
channel's last records as a consumer restarting from its committed offset does. See
``interleave.py``. The reference delivers signals in event-time order and each command at once.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from random import Random

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from deskwatch.processors.evaluate.simulated import EVALUATION_START
from deskwatch.processors.rules import load_default_pack
from deskwatch.processors.stage1 import HostState, Stage1, count_populations
from deskwatch.processors.stage2 import Stage2, child_group_key
from deskwatch.producers.envelope import EnvelopeLimits, Enveloper
from deskwatch.producers.simulate import FleetSpec, simulate_fleet
from deskwatch.schemas.incident import Incident
from deskwatch.schemas.signal import Signal

from tests.fleets import RECOVERY_FLEET

from .build import Policy, at, signal
from .interleave import Outcome, comparable, run_backlog, run_crashing, run_in_order, run_shuffled

PARENT = Policy(
    id="fleet-disk", min_hosts=2, absorbs=("disk-full",), window=timedelta(minutes=10),
    reopen_window=timedelta(minutes=20), flap_threshold=3,
)
SITE = {"site": "paris"}
HOSTS = ("a", "b", "c", "d", "e")
Event = tuple[float, str, bool]  # minute, host, recovery


@st.composite
def fleets(draw: st.DrawFn, recoveries: bool) -> list[Event]:
    """Each host's failures (and, if asked, recoveries) over two hours, in event-time order."""
    events: list[Event] = []
    for host in draw(st.lists(st.sampled_from(HOSTS), min_size=1, max_size=5, unique=True)):
        minutes = draw(st.lists(st.integers(0, 120), min_size=1, max_size=6, unique=True))
        for minute in sorted(minutes):
            recovery = recoveries and draw(st.integers(0, 3)) == 0
            events.append((float(minute) + HOSTS.index(host) / 10, host, recovery))
    return sorted(events)


def _signals(events: list[Event], parent_recovers: bool) -> list[tuple[Signal, datetime]]:
    """One event matches both rules: a signal into the site group and one into the host's."""
    out = []
    for minute, host, recovery in events:
        if parent_recovers or not recovery:
            out.append(signal(minute, host, rule="fleet-disk", group=SITE, recovery=recovery))
        child = signal(minute, host, group={"host.name": host}, recovery=recovery)
        assert child.group_key == child_group_key("disk-full", host)
        out.append(child)
    return [(s, s.last_seen) for s in out]  # record time = event time


def _stage(child_min_events: int) -> Stage2:
    return Stage2({"fleet-disk": PARENT, "disk-full": Policy(min_events=child_min_events)})


@settings(max_examples=150, deadline=None)
@given(fleets(recoveries=True), st.integers(1, 2), st.randoms(use_true_random=False),
       st.sampled_from([0.0, 0.1]))
def test_groups_and_commands_in_any_order_with_replays_give_the_same_incidents(
    events: list[Event], child_min_events: int, rng: Random, rewinds: float
) -> None:
    # Each group's own signals in one order (parent recoveries included: they resolve it and
    # release the children); groups, commands and replays interleaved at random.
    stage, signals = _stage(child_min_events), _signals(events, parent_recovers=True)
    want = run_in_order(stage, signals)
    got = run_shuffled(stage, signals, rng, rewinds, partitions=1)
    assert comparable(got.incidents) == comparable(want.incidents)


@settings(max_examples=150, deadline=None)
@given(fleets(recoveries=True), st.integers(1, 2), st.randoms(use_true_random=False),
       st.sampled_from([0.0, 0.1]))
def test_hosts_reaching_the_site_group_in_any_order_give_the_same_incidents(
    events: list[Event], child_min_events: int, rng: Random, rewinds: float
) -> None:
    # Every host on its own stage-1 partition: the site group sees the hosts' hits in any order.
    stage, signals = _stage(child_min_events), _signals(events, parent_recovers=False)
    want = run_in_order(stage, signals)
    got = run_shuffled(stage, signals, rng, rewinds, partitions=64)
    assert comparable(got.incidents) == comparable(want.incidents)


@settings(max_examples=150, deadline=None)
@given(fleets(recoveries=True), st.integers(1, 2), st.integers(0, 2**32), st.sampled_from([1, 64]))
def test_groups_crashing_between_state_writes_give_the_same_incidents(
    events: list[Event], child_min_events: int, seed: int, partitions: int
) -> None:
    # A group's state rolls back to one it held earlier and its channels deliver again what they
    # delivered since, in a new interleaving, while what it sent meanwhile stays sent. As the two
    # tests above: one stage-1 partition with the parent's recoveries, or one per host without.
    stage, signals = _stage(child_min_events), _signals(events, parent_recovers=partitions == 1)
    want = run_in_order(stage, signals)
    # The order's own seed, not hypothesis's random: a draw per delivery made its input too large.
    got = run_crashing(stage, signals, Random(seed), crashes=0.05, partitions=partitions)
    assert comparable(got.incidents) == comparable(want.incidents)


@settings(max_examples=150, deadline=None)
@given(fleets(recoveries=True), st.integers(1, 2), st.integers(0, 2**32), st.sampled_from([1, 64]))
def test_every_change_applied_in_order_ends_at_each_incidents_last_status(
    events: list[Event], child_min_events: int, seed: int, partitions: int
) -> None:
    # What README's Downstream section tells a subscriber: the status to keep is the incident's
    # last change's, every change applied in order, even when a replay in another order (two
    # logs read again, as until 2026-12-07) sends a revision again with another transition
    # (skipping an id read before, sinks/webhook/cloudevents.ce_id, can end elsewhere: 9 of
    # 3,000 such runs, 2026-12-07).
    stage, signals = _stage(child_min_events), _signals(events, parent_recovers=partitions == 1)
    got = run_crashing(stage, signals, Random(seed), crashes=0.05, partitions=partitions)
    status = {change.incident_id: change.to_status for change in got.changes}
    assert status == {incident.id: incident.status for incident in got.incidents.values()}


@settings(max_examples=300, deadline=None)
@given(fleets(recoveries=True), st.integers(1, 2), st.integers(0, 2**32), st.sampled_from([1, 64]))
def test_a_group_reading_its_log_again_after_a_crash_sends_each_revision_as_before(
    events: list[Event], child_min_events: int, seed: int, partitions: int
) -> None:
    # A group reads one log (its partition of signals: stage 1's signals, other groups' commands,
    # operators' commands forwarded); a crash reads it again from the state's position or before,
    # in its order. Every revision it sends again is the one it sent, and the incidents end as in
    # stage 1's order.
    stage, signals = _stage(child_min_events), _signals(events, parent_recovers=partitions == 1)
    got = run_crashing(stage, signals, Random(seed), crashes=0.05, partitions=partitions, in_log_order=True)
    assert _other_content(got) == []
    assert comparable(got.incidents) == comparable(run_in_order(stage, signals).incidents)


def _other_content(outcome: Outcome) -> list[tuple[str, int]]:
    """The (incident id, revision) pairs sent with more than one content."""
    return sorted(key for key, sent in outcome.versions.items() if len(sent) > 1)


def test_reading_two_logs_again_in_another_order_sends_revisions_with_other_content() -> None:
    """What one log prevents: the same fleets, crashes read again across the group's channels in a
    new interleaving (a worker's consumer over signals and commands, two partitions, until
    2026-12-07) send some revision with other content (135 of the 300 fleets); read in log order,
    none, with 1,003 revisions sent again (2026-12-07)."""
    rng = Random(7)
    fleet_events = [sorted((float(rng.randint(0, 120)) + HOSTS.index(h) / 10, h, rng.random() < 0.25)
                           for h in HOSTS for _ in range(4)) for _ in range(300)]
    other = again = 0
    for n, events in enumerate(fleet_events):
        stage, signals = _stage(1 + n % 2), _signals(events, parent_recovers=False)
        other += bool(_other_content(run_crashing(stage, signals, Random(n), crashes=0.05, partitions=64)))
        in_log = run_crashing(stage, signals, Random(n), crashes=0.05, partitions=64, in_log_order=True)
        assert _other_content(in_log) == [], n
        again += in_log.revisions - len(in_log.versions)
    assert other > 0 and again > 300, (other, again)


# Found by a random run: b's two recoveries held before a's crossing hit; the second, redundant one put the
# site incident's resolution at 08:02:06 instead of 08:02, and b's hit at 08:22:06 then reopened it.
_TWO_RECOVERIES_HELD = [
    (0.1, "b", False), (0.2, "c", True), (1.0, "a", False), (1.1, "b", True), (2.0, "a", True),
    (2.1, "b", True), (3.0, "a", True), (4.0, "a", True), (22.1, "b", False), (23.1, "b", True),
    (24.1, "b", True),
]


@settings(max_examples=600, deadline=None)
@given(fleets(recoveries=True), st.integers(1, 2), st.randoms(use_true_random=False))
@example(_TWO_RECOVERIES_HELD, 1, Random(3)).via("found by a random run")
def test_recoveries_reaching_the_site_group_ahead_of_other_hosts_hits_change_nothing(
    events: list[Event], child_min_events: int, rng: Random
) -> None:
    # The two-worker integration test's diff: a host's hits, then its recovery, reached the site
    # group before other hosts' earlier hits that had opened the incident with it, and the
    # recovery cleared its hits. Here each recovery moves ahead of other hosts' signals (never of
    # its own host's), before the site incident's opening or after it. After it, every host the
    # incident knows may look recovered before another host's earlier hit arrives: the incident
    # resolves too soon and that hit withdraws the resolution (observe._withdraw). Until it did,
    # the test kept recoveries from moving past the opening: the property test had found that
    # order in CI, and it reopened the incident.
    stage, signals = _stage(child_min_events), _signals(events, parent_recovers=True)
    want = run_in_order(stage, signals)
    got = run_in_order(stage, _recoveries_ahead(signals, rng))
    assert comparable(got.incidents) == comparable(want.incidents)


def test_a_host_recovers_at_its_first_recovery_since_its_last_hit_in_arrival_order() -> None:
    # b's records arrive hit 08:05, recovery 08:08, then a stale recovery stamped 08:03 (a late
    # file read); a recovers at 08:07. b failed again at 08:05 and recovered at 08:08: the site
    # incident resolves at 08:08, neither at 08:07 (the earliest recovery) nor later.
    events = [(0.0, "a", False), (1.0, "b", False), (5.0, "b", False), (8.0, "b", True),
              (3.0, "b", True), (7.0, "a", True)]
    got = run_in_order(_stage(1), _signals(events, parent_recovers=True))
    (site,) = [i for i in got.incidents.values() if i.rule_id == "fleet-disk"]
    assert site.status == "resolved"
    assert site.resolved_at == at(8.0)


def _recoveries_ahead(signals: list[tuple[Signal, datetime]], rng: Random) -> list[tuple[Signal, datetime]]:
    """Each recovery moved (or not) to a random earlier place after its own host's signals before
    it."""
    order = list(signals)
    for item in [x for x in signals if x[0].recovery]:
        i = order.index(item)
        own = [j for j in range(i) if order[j][0].host == item[0].host]
        lo = own[-1] + 1 if own else 0
        if rng.random() < 0.7:
            order.insert(rng.randint(lo, i), order.pop(i))
    return order


def _through_stage1(spec: FleetSpec, limits: EnvelopeLimits) -> tuple[Stage2, list[tuple[Signal, datetime]]]:
    """A simulated fleet through the real stage 1, packed as ``limits`` say, in event time."""
    sim = simulate_fleet(spec)
    rules = load_default_pack()
    inventory = {asset.host: asset for asset in sim.assets}
    stage1 = Stage1(rules, inventory, count_populations(inventory.values(), rules))
    packer = Enveloper(limits, "test")
    hosts: dict[str, HostState] = {}
    out: list[tuple[Signal, datetime]] = []
    for event in sim.events:
        now = event.timestamp.astimezone(UTC)
        batches = [*packer.due(now.timestamp()), packer.add(event, len(event.message) + 200, now.timestamp())]
        for batch in (b for b in batches if b is not None):
            out.extend((s, now) for s in stage1.apply(hosts, batch, now).signals)
    for batch in packer.drain():
        out.extend((s, now) for s in stage1.apply(hosts, batch, now).signals)
    return Stage2({rule.id: rule for rule in rules}), out


@pytest.fixture(scope="module")
def fleet_signals() -> tuple[Stage2, list[tuple[Signal, datetime]]]:
    """The recovery integration tests' fleet through the real stage 1 (one event per envelope)."""
    return _through_stage1(RECOVERY_FLEET, EnvelopeLimits(max_events=1, max_bytes=900_000, linger_s=0.05))


def _assert_backlog_orders_agree(stage: Stage2, signals: list[tuple[Signal, datetime]], reference: dict[str, Incident],
                                 orders: int, partitions: int = 4, only: tuple[str, ...] = ()) -> None:
    """``orders`` backlog orders (seeds 0, 1, ...) end with ``reference``'s incidents (``only``
    these fields of each, if given)."""
    def kept(incidents: dict[str, Incident]) -> dict[str, dict[str, object]]:
        fields = comparable(incidents)
        return {k: {f: v[f] for f in only} for k, v in fields.items()} if only else fields

    want = kept(reference)
    for seed in range(orders):
        got = kept(run_backlog(stage, signals, Random(seed), partitions=partitions).incidents)
        differ = sorted(k for k in want.keys() | got.keys() if want.get(k) != got.get(k))
        assert not differ, f"order {seed}: {[(want.get(k) or got[k])['rule_id'] for k in differ]}"


def test_the_recovery_tests_fleet_gives_the_same_incidents_in_any_backlog_order(
    fleet_signals: tuple[Stage2, list[tuple[Signal, datetime]]]
) -> None:
    # The integration tests that compare two workers, or a restarted one, with one worker over
    # this fleet rely on it: a difference there is then the pipeline's, not the core's order
    # dependence. Measured 2026-12-03: 0 of 10 orders differ at 2, 3 and 4 days. At 8 days, where
    # a site-wide DNS incident reaches its max_lifetime, some do (the test below).
    stage, signals = fleet_signals
    _assert_backlog_orders_agree(stage, signals, run_in_order(stage, signals).incidents, orders=8, partitions=8)


def test_a_signal_read_again_after_its_groups_later_ones_changes_no_incident(
    fleet_signals: tuple[Stage2, list[tuple[Signal, datetime]]]
) -> None:
    # A worker that reads a partition again from its commit (a heal, a second worker taking the
    # partition over) can apply a group's signal after its later ones, its recovery included.
    # Here each group's first three signals, one at a time, arrive after the next 1, 2 or 3 of
    # the group. 15 of 563 such moves (up to 8 later) changed an incident while a late hit whose
    # host had recovered after it was held instead of counted (2026-12-03): a GPO failure that
    # lost its first hit and opened 17 minutes late, as the two-worker test saw once in CI.
    stage, signals = fleet_signals
    want = comparable(run_in_order(stage, signals).incidents)
    by_group: dict[str, list[int]] = {}
    for index, (one, _) in enumerate(signals):
        by_group.setdefault(one.group_key, []).append(index)
    moves = [(group[i], group[i + later]) for group in by_group.values()
             for i in range(3) for later in (1, 2, 3) if i + later < len(group)]
    assert len(moves) > 150
    for moved, after in moves:
        order = [j for j in range(len(signals)) if j != moved]
        order.insert(order.index(after) + 1, moved)
        got = comparable(run_in_order(stage, [signals[j] for j in order]).incidents)
        differ = sorted(k for k in want.keys() | got.keys() if want.get(k) != got.get(k))
        assert not differ, f"{signals[moved][0].group_key} after {signals[after][0].source_id}: {differ}"


class EnvelopeRun:
    """The recovery tests' fleet in envelopes of up to ``max_events`` (10 minutes of linger), through
    stage 1 and stage 2 in any order of envelopes: the incidents' fields a reading order should not change."""

    KEPT = ("rule_id", "group_key", "status", "reason", "opened_at", "resolved_at", "first_seen", "last_seen",
            "event_count", "deduplicated_count", "hosts", "reopen_count", "severity", "parent_id", "event_codes",
            "children")

    def __init__(self, max_events: int = 50) -> None:
        sim = simulate_fleet(RECOVERY_FLEET)
        self.rules = load_default_pack()
        self.inventory = {asset.host: asset for asset in sim.assets}
        packer = Enveloper(EnvelopeLimits(max_events=max_events, max_bytes=900_000, linger_s=600), "test")
        envelopes = []
        for event in sim.events:
            now = event.timestamp.astimezone(UTC)
            envelopes += [(b, now) for b in (*packer.due(now.timestamp()), packer.add(event, 300, now.timestamp()))
                          if b]
        self.envelopes = envelopes + [(b, now) for b in packer.drain()]
        self.stage2 = Stage2({rule.id: rule for rule in self.rules})
        # envelope index -> the signals stage 1 made of it, read in envelope order
        self.made: dict[int, list[Signal]] = {}
        self.want = self.incidents(list(range(len(self.envelopes))), self.made)
        self.by_host: dict[str, list[int]] = {}
        for j, (batch, _) in enumerate(self.envelopes):
            self.by_host.setdefault(batch.host, []).append(j)

    def incidents(self, order: list[int], made: dict[int, list[Signal]] | None = None) -> dict[str, dict[str, object]]:
        """The kept fields of the incidents ``order`` gives; ``made`` collects each envelope's signals."""
        stage1 = Stage1(self.rules, self.inventory, count_populations(self.inventory.values(), self.rules))
        hosts: dict[str, HostState] = {}
        signals = []
        for j in order:
            batch, now = self.envelopes[j]
            signalled = stage1.apply(hosts, batch, now).signals
            if made is not None:
                made[j] = signalled
            signals += [(s, now) for s in signalled]
        found = comparable(run_in_order(self.stage2, signals).incidents)
        return {k: {f: v[f] for f in self.KEPT} for k, v in found.items()}

    def moves_after_next(self, rng: Random, moved: Callable[[list[Signal]], object]) -> list[tuple[int, int]]:
        """Each envelope whose signals ``moved`` picks, paired with one of its host's next 1 to 8."""
        return [(js[i], js[i + later]) for js in self.by_host.values() for i in range(len(js) - 1)
                if moved(self.made[js[i]]) for later in (rng.randint(1, min(8, len(js) - 1 - i)),)]

    def assert_moves_agree(self, moves: list[tuple[int, int]]) -> None:
        """Each envelope ``moved`` read right after envelope ``after`` gives the same incidents."""
        for moved, after in moves:
            order = [j for j in range(len(self.envelopes)) if j != moved]
            order.insert(order.index(after) + 1, moved)
            got = self.incidents(order)
            differ = sorted(k for k in self.want.keys() | got.keys() if self.want.get(k) != got.get(k))
            assert not differ, f"{self.envelopes[moved][0].host}'s envelope {moved} after its envelope {after}: {differ}"


@pytest.fixture(scope="module")
def envelope_run() -> EnvelopeRun:
    return EnvelopeRun()


def test_an_envelope_read_again_after_its_hosts_later_ones_opens_and_counts_the_same_incidents(
    envelope_run: EnvelopeRun
) -> None:
    # What a partition read again from its commit gives, through stage 1 and stage 2: a host's
    # envelope (up to 50 events, 10 minutes) after its next 1 to 8, 30 moves of envelopes that
    # made signals. Before the late-hit, late-recovery and opening-reason changes of 2026-12-03,
    # 14 of 100 such moves changed an incident, 4 since. Over 189 moves (2026-12-04): 7 changed an
    # incident, 4 of them its resolution, while stage 1 dropped a recovery read after a later one
    # of its group; 4 since, 1 by its resolution (a recovery stage 1 read before the hit it ends,
    # still dropped, which this sample leaves out: ARCHITECTURE.md) and 3 by deduplicated_count,
    # 0 since dedup windows are aligned to the epoch (compared here since).
    run = envelope_run
    rng = Random(0)
    moves = run.moves_after_next(rng, bool)
    run.assert_moves_agree(rng.sample(moves, 30))


def test_a_repeat_read_after_its_hosts_later_events_counts_as_in_event_time() -> None:
    # One-event envelopes whose event stage 1 folded as a content repeat, each read after its
    # host's next 1 to 8: with dedup windows opened by a fingerprint's first event, a late event
    # shifted which later ones opened windows, and 12 of 323 such moves of one-event envelopes
    # changed an incident's deduplicated_count (2026-12-04). Windows aligned to the epoch, older
    # ones remembered: 0 of 323. This sample fails on bc62584.
    run = EnvelopeRun(max_events=1)
    rng = Random(1)
    moves = run.moves_after_next(rng, lambda made: any(s.deduplicated for s in made))
    run.assert_moves_agree(rng.sample(moves, 12))


def test_a_recovery_read_after_a_later_one_resolves_the_same_incidents(envelope_run: EnvelopeRun) -> None:
    # Each envelope that made a recovery signal, read after its host's 4th and 8th next ones:
    # one of those may hold a later recovery of the group, which closed the hit, and stage 1
    # used to drop the earlier one, the first after the hit in event time, as noise (the
    # incident resolved at the later one). It fails so on b03d9c1, at SAN-KAO-SRV01's GPO failure.
    run = envelope_run
    moves = []
    for js in run.by_host.values():
        for i, j in enumerate(js):
            if any(s.recovery for s in run.made[j]):
                moves += [(j, js[i + later]) for later in (4, 8) if i + later < len(js)]
    assert len(moves) >= 20, len(moves)
    run.assert_moves_agree(moves)


def test_a_backlog_past_a_lifetime_opens_and_resolves_the_same_incidents_in_any_order() -> None:
    # The recovery tests' fleet over 8 days: a site-wide DNS incident reaches its 2-day lifetime.
    # When the resolution was at the time of whichever later signal arrived first, and earlier
    # hits arriving after it opened a second incident, 20 of 20 orders differed (2026-12-03).
    # Still short (ARCHITECTURE.md): a hit past the end, counted before late hits moved the
    # opening back, stays counted; 8 of 20 orders differ so, by counts and hosts only.
    lived = RECOVERY_FLEET.model_copy(update={"duration": timedelta(days=8)})
    stage, signals = _through_stage1(lived, EnvelopeLimits(max_events=1, max_bytes=900_000, linger_s=0.05))
    lifecycle = ("rule_id", "group_key", "status", "reason", "opened_at", "resolved_at", "first_seen",
                 "reopen_count", "parent_id")
    _assert_backlog_orders_agree(stage, signals, run_in_order(stage, signals).incidents, orders=8, partitions=8,
                                 only=lifecycle)


# The demo's fleet (deskwatch/demo.py) on the day it first showed the order below.
DEMO_FLEET = FleetSpec(seed=7, start=datetime(2026, 12, 2, 6, tzinfo=UTC), duration=timedelta(hours=8), sites=4,
                       directorates=3, hosts_per_site=(12, 25), noise_events_per_host_per_hour=2.0)


@pytest.fixture(scope="module")
def backlog_signals() -> tuple[Stage2, list[tuple[Signal, datetime]]]:
    """The demo's fleet with each host's day in one envelope, as a file produced at once is sent:
    a host's hits of one rule hours apart travel as one signal."""
    return _through_stage1(DEMO_FLEET, EnvelopeLimits(max_events=500, max_bytes=900_000, linger_s=86_400))


def test_a_backlog_read_partition_by_partition_gives_the_same_incidents(
    backlog_signals: tuple[Stage2, list[tuple[Signal, datetime]]]
) -> None:
    # Before stage 2 claimed the hosts an earlier opening readmits (observe._claim), order 5 left
    # one host's update failure apart from the outage that counted it.
    stage, signals = backlog_signals
    _assert_backlog_orders_agree(stage, signals, run_in_order(stage, signals).incidents, orders=32)


# The evaluation's first fleet (`deskwatch evaluate incidents`, seed 1): a day, 587 hosts on 8 sites.
EVALUATION_FLEET = FleetSpec(seed=1, start=EVALUATION_START, duration=timedelta(hours=24))


def test_a_days_backlog_resolves_a_site_wide_incident_once_in_any_order() -> None:
    # Each host's day arrives with its hits and its recovery together: the site-wide GPO incident
    # looked recovered whenever the hosts read so far had recovered, and every later host's
    # earlier hit reopened it (stage 1's own order: reopen_count 3; 18 of 20 backlog orders ended
    # otherwise, 2026-12-02). A late hit earlier than the resolution now withdraws it.
    stage, signals = _through_stage1(EVALUATION_FLEET, EnvelopeLimits(max_events=500, max_bytes=900_000,
                                                                      linger_s=86_400))
    reference = run_in_order(stage, signals).incidents
    (gpo,) = [i for i in reference.values() if i.rule_id == "gpo-failure-site"]
    assert (gpo.reopen_count, gpo.host_count) == (0, 47)
    _assert_backlog_orders_agree(stage, signals, reference, orders=3, partitions=8)


def test_the_recovery_tests_fleet_gives_the_same_incidents_through_crashes(
    fleet_signals: tuple[Stage2, list[tuple[Signal, datetime]]]
) -> None:
    # The SIGKILL test on the real broker once ended with a site-wide parent absorbing 16
    # children, not 17 (CI, 2026-12-07): the parent's state rolled back to before its opening,
    # a child's link was read again before the opening signal and dropped (unknown incident), and
    # the child ignored the claim the replayed opening sent again. 20 orders here, a crash after
    # 5 % of the deliveries: on ff223c0, 22 of 100 such orders lost a link (0.05), 29 of 100 at 0.1.
    stage, signals = fleet_signals
    want = comparable(run_in_order(stage, signals).incidents)
    for seed in range(20):
        got = comparable(run_crashing(stage, signals, Random(seed), crashes=0.05, partitions=8).incidents)
        differ = sorted(k for k in want.keys() | got.keys() if want.get(k) != got.get(k))
        assert not differ, f"order {seed}: {[(want.get(k) or got[k])['rule_id'] for k in differ]}"


@pytest.mark.parametrize("seed", [0, 1, 2], ids=lambda s: f"order-{s}")
def test_simulated_fleet_links_each_child_once_in_any_order(
    fleet_signals: tuple[Stage2, list[tuple[Signal, datetime]]], seed: int
) -> None:
    # The churn of issue 5: children linked and unlinked over and over as a site-wide parent
    # resolved on each recovering host and reopened on the next failing one.
    stage, signals = fleet_signals
    want = run_in_order(stage, signals)
    got = run_shuffled(stage, signals, Random(seed), rewinds=0.02)
    assert comparable(got.incidents) == comparable(want.incidents)
    parents = [i for i in got.incidents.values() if i.absorbed_count]
    assert parents, "the fleet's site-wide waves should absorb per-host incidents"
    # Each child linked to one parent, never unlinked; a claim read again (the rewinds) is
    # answered with the same link again (absorb._answer_again), which the parent's set absorbs.
    assert len(got.links) == sum(p.absorbed_count for p in parents)
    assert got.commands["unlink_child"] == 0
