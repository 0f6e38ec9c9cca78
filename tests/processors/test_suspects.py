"""Ranking suspected changes: before each host's own failure and within the lookback only, scored
against the same change on the other active hosts, ties broken by hosts then name."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from deskwatch.processors.rules.host_change import load_changes
from deskwatch.schemas.digest import EventDigest
from deskwatch.processors.suspects import HostChange, digest_view, host_changes, rank, span_of

T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
DEFS = {d.id: d for d in load_changes()}
UPDATE, POLICY = DEFS["update-installed"], DEFS["policy-applied"]


def _installed(host: str, kb: str, at: datetime, n: int = 0) -> EventDigest:
    return EventDigest(digest_id=f"{host}-{kb}-{n}", fingerprint="f", window_start=at, repeat_count=1,
                       first_seen=at, last_seen=at, host=host, provider="Microsoft-Windows-WindowsUpdateClient",
                       event_code="19", template="t", site="LYON",
                       sample_message=f"Installation Successful: Windows successfully installed the following "
                                      f"update: Cumulative Update ({kb})")


def test_digest_view_keeps_what_a_definition_may_read() -> None:
    view = digest_view(_installed("PC-1", "KB1", T0))
    assert view == {"event.provider": "Microsoft-Windows-WindowsUpdateClient", "event.code": "19",
                    "host.name": "PC-1", "message": view["message"], "log.level": "info", "asset.site": "LYON"}
    assert [(c.host, c.definition.id, c.name, c.at) for c in host_changes([_installed("PC-1", "KB5046617", T0)],
                                                                         list(DEFS.values()))] == \
        [("PC-1", "update-installed", "KB5046617", T0)]


def test_the_specific_change_outranks_the_one_every_host_had() -> None:
    failing = {f"PC-{i}": T0 + timedelta(minutes=i) for i in range(10)}
    changes = [HostChange(h, UPDATE, "KB-BAD", T0 - timedelta(minutes=40)) for h in list(failing)[:9]]
    # every host, failing or not, took the daily definitions update
    changes += [HostChange(f"PC-{i}", UPDATE, "KB2267602", T0 - timedelta(hours=3)) for i in range(50)]
    changes += [HostChange("PC-20", UPDATE, "KB-BAD", T0 - timedelta(hours=1))]  # one other host had it too
    suspects = rank(failing, changes, others=40)
    assert [(s.name, len(s.hosts), s.elsewhere) for s in suspects] == [("KB-BAD", 9, 1), ("KB2267602", 10, 40)]
    bad = suspects[0]
    assert (bad.share, bad.base_rate, bad.failing, bad.others) == (0.9, 0.025, 10, 40)
    assert abs(bad.score - 0.875) < 1e-9 and abs(suspects[1].score) < 1e-9
    assert (bad.first_at, bad.last_at) == (T0 - timedelta(minutes=40),) * 2
    assert (bad.lead_min, bad.lead_max) == (timedelta(minutes=40), timedelta(minutes=48))


def test_a_change_counts_only_before_its_own_hosts_failure_and_within_the_lookback() -> None:
    failing = {"PC-1": T0, "PC-2": T0 + timedelta(hours=2)}
    changes = [
        HostChange("PC-1", UPDATE, "KB-A", T0 + timedelta(minutes=1)),  # after PC-1 failed
        HostChange("PC-2", UPDATE, "KB-A", T0 + timedelta(minutes=1)),  # before PC-2 failed
        HostChange("PC-1", UPDATE, "KB-OLD", T0 - timedelta(hours=25)),  # beyond the 24 h lookback
        HostChange("PC-1", UPDATE, "KB-AT", T0),  # at the failure: counts (lead 0)
    ]
    suspects = rank(failing, changes, others=0)
    assert [(s.name, s.hosts) for s in suspects] == [("KB-A", ("PC-2",)), ("KB-AT", ("PC-1",))]
    assert suspects[0].base_rate == 0.0, "no other host: no base rate, no division by zero"


def test_repeats_count_a_host_once_from_its_earliest_report_and_ties_go_by_hosts_then_name() -> None:
    failing = {"PC-1": T0, "PC-2": T0, "PC-3": T0}
    changes = [HostChange("PC-1", UPDATE, "KB-B", T0 - timedelta(minutes=m)) for m in (5, 50, 20)]
    changes += [HostChange(h, POLICY, "user", T0 - timedelta(minutes=10)) for h in ("PC-1", "PC-2")]
    changes += [HostChange("PC-2", UPDATE, "KB-A", T0 - timedelta(minutes=1))]
    suspects = rank(failing, changes, others=0)
    assert [(s.definition_id, s.name, len(s.hosts)) for s in suspects] == [
        ("policy-applied", "user", 2), ("update-installed", "KB-A", 1), ("update-installed", "KB-B", 1)]
    assert (suspects[2].first_at, suspects[2].lead_max) == (T0 - timedelta(minutes=50), timedelta(minutes=50))
    assert len(rank(failing, changes, others=0, limit=1)) == 1


def test_span_reaches_back_the_longest_lookback() -> None:
    failing = {"PC-1": T0, "PC-2": T0 + timedelta(hours=1)}
    assert span_of(failing, [UPDATE, POLICY]) == (T0 - timedelta(hours=24), T0 + timedelta(hours=1))
