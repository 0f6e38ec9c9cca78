"""Suspected changes read from the real Elasticsearch: a bad update installed on most of a site's
failing hosts before they failed, among the fleet's daily updates, ranks first; through the API
and through ``deskwatch incident changes|show``."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from deskwatch.processors.rules.host_change import load_changes
from deskwatch.schemas.digest import EventDigest
from deskwatch.schemas.incident import Incident
from deskwatch.sinks.elasticsearch.encode import digest_item, incident_item
from deskwatch.sinks.elasticsearch.suspects import failures_of, suspected_changes
from deskwatch.sinks.elasticsearch.templates import ensure_indices, incidents_alias
from deskwatch.sinks.elasticsearch.write import Outcome, write_items

from deskwatch.cli import main
from deskwatch.components import write_settings_file
from deskwatch.connect import elasticsearch_client
from deskwatch.settings import Settings
from tests.prefixed import prefixed

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 29, 9, 0, tzinfo=UTC)
RULE, KEY = "app-crash-site", "app-crash-site|asset.site=LYON"
FAILING = [f"LYO-{i:02d}" for i in range(8)]  # LYO-00 .. LYO-07 crash from 09:00, one a minute
OTHERS = [f"PAR-{i:02d}" for i in range(12)]  # active elsewhere, not failing
WUC = "Microsoft-Windows-WindowsUpdateClient"


def _digest(n: str, host: str, at: datetime, provider: str, code: str, message: str, **kw: Any) -> EventDigest:
    return EventDigest(digest_id=n, fingerprint=n, window_start=at, repeat_count=1, first_seen=at,
                       last_seen=at + timedelta(minutes=2), host=host, provider=provider, event_code=code,
                       template="t", sample_message=message, **kw)


def _update(host: str, kb: str, at: datetime) -> EventDigest:
    return _digest(f"u-{host}-{kb}", host, at, WUC, "19",
                   f"Installation Successful: Windows successfully installed the following update: ({kb})")


def _world() -> list[EventDigest]:
    digests = [_digest(f"crash-{h}", h, T0 + timedelta(minutes=i), "Application Error", "1000", "Faulting app",
                       rule_ids=[RULE], group_keys=[KEY]) for i, h in enumerate(FAILING)]
    # the bad update: on 7 of the 8 failing hosts 30-45 min before their crash, on 1 of the 12 others
    digests += [_update(h, "KB5049999", T0 - timedelta(minutes=30 + 2 * i)) for i, h in enumerate(FAILING[:7])]
    digests += [_update("PAR-03", "KB5049999", T0 - timedelta(hours=2))]
    # the daily definitions update, on every host
    digests += [_update(h, "KB2267602", T0 - timedelta(hours=5)) for h in FAILING + OTHERS]
    # LYO-07 installed the bad update only after its crash: not a cause there
    digests += [_update("LYO-07", "KB5049999", T0 + timedelta(minutes=30))]
    # an update two days earlier: beyond the 24 h lookback
    digests += [_update(h, "KB5040000", T0 - timedelta(days=2)) for h in FAILING]
    return digests


INCIDENT = Incident(id="inc-lyon", rule_id=RULE, group_key=KEY, group={"asset.site": "LYON"},
                    title="Application crashes across a site: LYON", hosts=FAILING, host_count=len(FAILING),
                    first_seen=T0, last_seen=T0 + timedelta(minutes=9), event_count=8, revision=1)


@pytest.fixture(scope="module")
def world(settings: Settings) -> Settings:
    s = prefixed(settings, 1)
    client = elasticsearch_client(s.elasticsearch)
    ensure_indices(client, s.elasticsearch)
    gone = INCIDENT.model_copy(update={"id": "inc-gone", "group_key": "app-crash-site|asset.site=GONE"})
    items = [incident_item(i, incidents_alias(s.elasticsearch), "t:0:0", b"") for i in (INCIDENT, gone)]
    items += [digest_item(d, s.elasticsearch, "t:0:0", b"") for d in _world()]
    report = write_items(client, items, 1.0, refresh=True)
    assert report.counts[Outcome.INDEXED] == len(items), report
    client.close()
    return s


def test_the_bad_update_ranks_first_and_the_daily_one_last(world: Settings) -> None:
    client = elasticsearch_client(world.elasticsearch)
    try:
        failures = failures_of(client, world.elasticsearch, INCIDENT)
        report = suspected_changes(client, world.elasticsearch, INCIDENT, load_changes())
    finally:
        client.close()
    assert failures == {h: T0 + timedelta(minutes=i) for i, h in enumerate(FAILING)}
    assert (report.failing, report.others, report.truncated) == (8, 12, False)
    # the span is 24 h before the first crash to the last crash: neither the two-day-old updates nor
    # LYO-07's update after it crashed are read
    assert report.change_events == 7 + 1 + 20
    assert [(s.name, len(s.hosts), s.elsewhere) for s in report.suspects] == [("KB5049999", 7, 1),
                                                                            ("KB2267602", 8, 12)]
    bad = report.suspects[0]
    assert bad.hosts == tuple(FAILING[:7]) and (bad.lead_min, bad.lead_max) == (timedelta(minutes=30), timedelta(minutes=48))
    assert bad.score > 0.7 and abs(report.suspects[1].score) < 1e-9


def test_a_reading_cut_at_its_cap_says_so(world: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    from deskwatch.sinks.elasticsearch import suspects

    monkeypatch.setattr(suspects, "CHANGE_EVENTS_MAX", 5)
    client = elasticsearch_client(world.elasticsearch)
    try:
        report = suspected_changes(client, world.elasticsearch, INCIDENT, load_changes())
    finally:
        client.close()
    assert (report.change_events, report.truncated) == (5, True)


def test_an_incident_without_indexed_failures_has_no_suspects(world: Settings) -> None:
    client = elasticsearch_client(world.elasticsearch)
    other = INCIDENT.model_copy(update={"group_key": "app-crash-site|asset.site=NOWHERE"})
    try:
        report = suspected_changes(client, world.elasticsearch, other, load_changes())
    finally:
        client.close()
    assert (report.suspects, report.failing, report.span) == ([], 0, None)


@pytest.fixture
def cli(world: Settings, tmp_path: Path) -> Iterator[Any]:
    config = write_settings_file(world, tmp_path / "settings.yaml")

    def run(*args: str) -> Result:
        return CliRunner().invoke(main, list(args), env={"DESKWATCH_CONFIG": str(config)}, catch_exceptions=False)

    yield run


def test_cli_lists_suspects_in_changes_and_show(cli: Any, tmp_path: Path) -> None:
    out = cli("incident", "changes", "inc-lyon").output
    lines = out.splitlines()
    assert lines[0] == "incident   inc-lyon  Application crashes across a site: LYON"
    assert lines[1] == "changes before it (8 failing hosts, 12 other active hosts, 28 change events read)"
    assert lines[2:6] == [
        "  1. update   KB5049999  [update-installed]",
        "     on 7/8 failing hosts (88 %), 1/12 others (8 %); 2026-11-29 08:18-08:30 UTC, 30m-48m before each failed",
        "  2. update   KB2267602  [update-installed]",
        "     on 8/8 failing hosts (100 %), 12/12 others (100 %); 2026-11-29 04:00 UTC, 5h00m-5h07m before each failed",
    ]
    show = cli("incident", "show", "inc-lyon", "--changes", "1").output
    assert "changes before it (8 failing hosts" in show and "KB5049999" in show and "KB2267602" not in show
    assert "changes before it" not in cli("incident", "show", "inc-lyon", "--changes", "0").output
    assert "none of the incident's events is in the events index" in cli("incident", "changes", "inc-gone").output
    bad = tmp_path / "bad.yaml"
    bad.write_text("- id: x\n  version: 1\n  title: t\n  kind: update\n  match: {field: message, regex: a}\n"
                   "  identity: [{field: n}]\n")
    refused = cli("incident", "changes", "inc-lyon", "--definitions", str(bad))
    assert refused.exit_code == 1 and "change 'x'" in refused.output and "event.code" in refused.output



def test_changes_as_json_for_an_integration(cli: Any) -> None:
    doc = json.loads(cli("incident", "changes", "inc-lyon", "--json", "--limit", "2").output)
    assert (doc["incident_id"], doc["failing_hosts"], doc["other_active_hosts"], doc["change_events_read"],
            doc["truncated"]) == ("inc-lyon", 8, 12, 28, False)
    first, second = doc["suspects"]
    assert (first["rank"], first["name"], first["kind"], first["failing_with_it"], first["others_with_it"]) == (
        1, "KB5049999", "update", 7, 1)
    assert first["hosts"] == FAILING[:7] and first["score"] == round(7 / 8 - 1 / 12, 4)
    assert (first["lead_min_s"], first["lead_max_s"]) == (30 * 60, 48 * 60)
    assert (second["name"], second["score"]) == ("KB2267602", 0.0)



def test_readme_example_is_what_the_command_prints(cli: Any) -> None:
    """README.md's example of ``deskwatch incident changes`` is this world's output, exactly."""
    readme = (Path(__file__).parents[3] / "README.md").read_text(encoding="utf-8")
    block = readme.split("<!-- changes-example -->", 1)[1].split("```console\n", 1)[1].split("```", 1)[0]
    command, *expected = block.rstrip("\n").split("\n")
    assert command == "$ deskwatch incident changes inc-lyon"
    assert cli(*command.removeprefix("$ deskwatch ").split()).output.rstrip("\n").split("\n") == expected
