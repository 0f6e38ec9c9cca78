"""Reduced fuzz campaign over real sockets: the syslog listener (UDP, TCP both framings) and the
HTTP ingest as real processes; every input reconciled with the events and dead-letter topics read
back from the real broker, the listener alive at the end, its peak RSS under the bound."""

from __future__ import annotations

import pytest

from deskwatch.settings import Settings
from reliability.fuzz import LISTENER_RSS_BOUND
from reliability.listeners import fuzz_http, fuzz_syslog

pytestmark = pytest.mark.integration

COUNT = 200


def test_syslog_listener_accounts_for_every_input(settings: Settings) -> None:
    outcomes = {o.target: o for o in fuzz_syslog(COUNT, seed=11, base=settings)}
    assert sorted(outcomes) == ["syslog tcp LF", "syslog tcp octet-counted", "syslog udp"]
    for o in outcomes.values():
        assert (o.target, o.crashes, o.unaccounted) == (o.target, [], 0)
        assert o.events > 0 and o.dead["unparseable_line"] > 0
        assert 0 < o.peak_bytes < LISTENER_RSS_BOUND
    # the 10 MB line went over TCP and was cut by the frame limit, not buffered
    assert outcomes["syslog tcp LF"].dead["oversize_message"] >= 1


def test_http_ingest_accounts_for_every_line(settings: Settings) -> None:
    o = fuzz_http(COUNT, seed=11, base=settings)
    assert o.crashes == [] and o.unaccounted == 0
    assert o.events > 0 and o.dead["invalid_json"] > 0
    assert o.refused["http_413"] > 0  # the oversized batch and the 10 MB lines
    assert 0 < o.peak_bytes < LISTENER_RSS_BOUND
