"""The operator's commands on the real Elasticsearch and Kafka: search with filters, incident show,
ack/assign/resolve on the commands topic, silences on the compacted topic, tail with CloudEvents headers."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.command import Command, Silence
from deskwatch.schemas.digest import EventDigest
from deskwatch.schemas.incident import ChangeReason, Incident, IncidentStatus, Severity
from deskwatch.sinks.elasticsearch.encode import change_item, digest_item, incident_item
from deskwatch.sinks.elasticsearch.search import (
    IncidentFilters,
    get_incident,
    incident_events,
    incident_history,
    search_incidents,
)
from deskwatch.sinks.elasticsearch.templates import ensure_indices, history_alias, incidents_alias
from deskwatch.sinks.elasticsearch.write import Outcome, write_items

from deskwatch.cli import main
from deskwatch.components import write_settings_file
from deskwatch.connect import elasticsearch_client
from deskwatch.settings import Settings
from deskwatch.topics import ensure_topics
from deskwatch.topology import COMMANDS, SILENCES
from tests.prefixed import prefixed

pytestmark = pytest.mark.integration
T0 = datetime(2026, 11, 29, 8, 0, tzinfo=UTC)


def _incident(i: str, rule: str, group: dict[str, str], **kw: Any) -> Incident:
    key = "|".join([rule, *(f"{k}={v}" for k, v in group.items())])
    base = {"id": i, "rule_id": rule, "group_key": key, "group": group, "title": f"{rule} {i}", "first_seen": T0,
            "last_seen": T0 + timedelta(minutes=30), "event_count": 5, "revision": 3, "hosts": ["PC-1"],
            "host_count": 1}
    return Incident.model_validate({**base, **kw})


INCIDENTS = [
    _incident("inc-disk", "disk-errors", {"host.name": "PC-1"}, severity="high", deduplicated_count=4),
    _incident("inc-gpo-lyon", "gpo-failure-site", {"asset.site": "LYON"}, severity="high", hosts=["PC-7", "PC-8"],
              host_count=2, last_seen=T0 + timedelta(hours=5), absorbed_count=2, children=["inc-child"]),
    _incident("inc-gpo-paris", "gpo-failure-site", {"asset.site": "PARIS"}, status="acknowledged",
              acknowledged_by="bob", acknowledged_at=T0 + timedelta(minutes=5)),
    _incident("inc-dns", "dns-timeouts", {"host.name": "PC-3"}, status="resolved", severity="low",
              silenced_by="sil-1"),
]


def _change(rev: int, reason: ChangeReason, frm: IncidentStatus | None, to: IncidentStatus,
            actor: str | None = None) -> IncidentChange:
    return IncidentChange(incident_id="inc-disk", revision=rev, rule_id="disk-errors", rule_version=1,
                          group_key=INCIDENTS[0].group_key, from_status=frm, to_status=to, reason=reason,
                          severity=Severity.HIGH, at=T0 + timedelta(minutes=rev), actor=actor)


OPEN = IncidentStatus.OPEN
CHANGES = [_change(3, ChangeReason.ASSIGNED, OPEN, OPEN, "alice"), _change(1, ChangeReason.OPENED, None, OPEN),
           _change(2, ChangeReason.ESCALATED, OPEN, OPEN)]


def _digest(n: int, group_key: str, at: datetime) -> EventDigest:
    return EventDigest(digest_id=f"d{n}", fingerprint=f"f{n}", window_start=at, repeat_count=n, first_seen=at,
                       last_seen=at + timedelta(minutes=1), host="PC-1", provider="disk", event_code="7",
                       template="bad block", sample_message=f"bad block {n}", rule_ids=["disk-errors"],
                       group_keys=[group_key])


DIGESTS = [_digest(1, INCIDENTS[0].group_key, T0 + timedelta(minutes=2)),
           _digest(2, INCIDENTS[0].group_key, T0 + timedelta(minutes=20)),
           _digest(3, "disk-errors|host.name=PC-9", T0 + timedelta(minutes=10)),  # another group
           _digest(4, INCIDENTS[0].group_key, T0 + timedelta(hours=3))]  # after the incident's range


@pytest.fixture(scope="module")
def world(settings: Settings) -> Settings:
    """Session settings with unique prefixes; indices filled with the set above, topics created."""
    s = prefixed(settings, 2)
    ensure_topics(s.kafka)
    client = elasticsearch_client(s.elasticsearch)
    ensure_indices(client, s.elasticsearch)
    es = s.elasticsearch
    items = ([incident_item(i, incidents_alias(es), "t:0:0", b"") for i in INCIDENTS]
             + [change_item(c, history_alias(es), "t:0:0", b"") for c in CHANGES]
             + [digest_item(d, es, "t:0:0", b"") for d in DIGESTS])
    report = write_items(client, items, 1.0, refresh=True)
    assert report.counts[Outcome.INDEXED] == len(items), report
    client.close()
    return s


@pytest.fixture
def cli(world: Settings, tmp_path: Path) -> Iterator[Any]:
    config = write_settings_file(world, tmp_path / "settings.yaml")
    runner = CliRunner()

    def run(*args: str) -> Result:
        return runner.invoke(main, list(args), env={"DESKWATCH_CONFIG": str(config)}, catch_exceptions=False)

    run.config = str(config)  # type: ignore[attr-defined]
    yield run


SEARCHES = [
    ("*", IncidentFilters(), ["inc-gpo-lyon", "inc-disk", "inc-dns", "inc-gpo-paris"]),
    ("*", IncidentFilters(status=("open",)), ["inc-gpo-lyon", "inc-disk"]),
    ("*", IncidentFilters(status=("open", "acknowledged"), severity=("medium",)), ["inc-gpo-paris"]),
    ("*", IncidentFilters(site=("LYON",)), ["inc-gpo-lyon"]),
    ("*", IncidentFilters(rule=("gpo-failure-site",)), ["inc-gpo-lyon", "inc-gpo-paris"]),
    ("*", IncidentFilters(since=T0 + timedelta(hours=1)), ["inc-gpo-lyon"]),
    ("hosts:PC-7", IncidentFilters(), ["inc-gpo-lyon"]),
    ("disk", IncidentFilters(status=("resolved",)), []),
]


@pytest.mark.parametrize(("query", "filters", "ids"), SEARCHES,
                         ids=["all", "open", "live-medium", "site", "rule", "since", "query", "query-and-filter"])
def test_search_filters(world: Settings, query: str, filters: IncidentFilters, ids: list[str]) -> None:
    client = elasticsearch_client(world.elasticsearch)
    total, found = search_incidents(client, world.elasticsearch, query, 10, filters)
    client.close()
    assert [i.id for i in found] == ids and total == len(ids)


def test_incident_history_and_events(world: Settings) -> None:
    client = elasticsearch_client(world.elasticsearch)
    es = world.elasticsearch
    incident = get_incident(client, es, "inc-disk")
    assert incident == INCIDENTS[0] and get_incident(client, es, "nope") is None
    assert [c.revision for c in incident_history(client, es, "inc-disk")] == [1, 2, 3]
    assert [d.digest_id for d in incident_events(client, es, incident)] == ["d2", "d1"], "own group, in range"
    client.close()


def test_search_cli_json_and_table(cli: Any) -> None:
    result = cli("search", "--status", "open", "--json")
    assert [json.loads(line)["id"] for line in result.output.splitlines()] == ["inc-gpo-lyon", "inc-disk"]
    table = cli("search", "--site", "PARIS").output.splitlines()
    assert table[0] == "1 incident(s)" and table[2].startswith("inc-gpo-paris") and "acknowledged" in table[2]
    bad = CliRunner().invoke(main, ["search", "--since", "yesterday"], env={})
    assert bad.exit_code == 2 and "--since" in bad.output
    typo = CliRunner().invoke(main, ["search", "--status", "opne"], env={})
    assert typo.exit_code == 2 and "'opne' is not one of" in typo.output


def test_search_says_what_elasticsearch_refused_without_a_traceback(world: Settings, tmp_path: Path) -> None:
    """A query Elasticsearch cannot parse, a size it would refuse, a prefix never indexed: each
    used to end in the client's traceback (exit 1)."""
    config = write_settings_file(world, tmp_path / "settings.yaml")
    never = write_settings_file(world.model_copy(update={"elasticsearch": world.elasticsearch.model_copy(
        update={"index_prefix": "test-never-indexed"})}), tmp_path / "never.yaml")

    def run(settings_file: Path, *args: str) -> Result:
        return CliRunner().invoke(main, list(args), env={"DESKWATCH_CONFIG": str(settings_file)})

    unparsed = run(config, "search", "title:(")
    assert unparsed.exit_code == 2 and "Elasticsearch refused the search: Failed to parse query [title:(]" in unparsed.output
    assert isinstance(unparsed.exception, SystemExit), unparsed.exception  # click's usage error, no traceback
    for args in (["search", "--size", "0"], ["search", "--size", "10001"], ["incident", "show", "x", "--events", "-1"]):
        result = run(config, *args)
        assert result.exit_code == 2 and "is not in the range" in result.output, (args, result.output)
    empty = run(never, "search")
    assert empty.exit_code == 0 and empty.output.startswith("no incidents index under the prefix 'test-never-indexed' yet")
    assert "0 incident(s)" in empty.output


def test_incident_show_explains(cli: Any) -> None:
    out = cli("incident", "show", "inc-disk").output
    for expected in ("rule       disk-errors v1", "group key  disk-errors|host.name=PC-1", "group      host.name=PC-1",
                     "counts     events=5 hosts=1 deduplicated=4 absorbed=0", "remedy     Check SMART status",
                     "history (3)", "rev 3   2026-11-29 08:03:00 UTC  open -> open  assigned by alice",
                     "recent events (2)", "PC-1  disk/7  x2  bad block 2"):
        assert expected in out, f"{expected!r} not in\n{out}"
    assert out.index("rev 1 ") < out.index("rev 2 ") < out.index("rev 3 ")
    lyon = cli("incident", "show", "inc-gpo-lyon").output
    assert "children   inc-child" in lyon and "absorbed=2" in lyon
    assert "silenced   sil-1" in cli("incident", "show", "inc-dns").output


def _read(world: Settings, topic: str) -> list[Any]:
    from tests.integration.conftest import read_topic

    return read_topic(world, topic, timeout_s=3)


def test_ack_assign_resolve_publish_commands_keyed_by_group(cli: Any, world: Settings) -> None:
    assert cli("incident", "ack", "inc-gpo-lyon", "--actor", "alice", "--comment", "on it").exit_code == 0
    assert cli("incident", "assign", "inc-gpo-lyon", "--assignee", "carol", "--actor", "alice").exit_code == 0
    assert cli("incident", "resolve", "inc-disk").exit_code == 0
    missing = CliRunner().invoke(main, ["incident", "ack", "nope"], env={"DESKWATCH_CONFIG": cli.config})
    assert missing.exit_code == 1 and "no incident 'nope'" in missing.output
    done = CliRunner().invoke(main, ["incident", "ack", "inc-dns"], env={"DESKWATCH_CONFIG": cli.config})
    assert done.exit_code == 1 and "incident inc-dns was resolved" in done.output and "ack would change nothing" in done.output
    records = _read(world, COMMANDS.name(world.kafka))  # and nothing was sent for it
    got = sorted(((r.key.decode(), Command.model_validate_json(r.value)) for r in records),
                 key=lambda kc: kc[1].action.value)  # two partitions: no order across keys
    assert [(k, c.action.value, c.incident_id, c.assignee) for k, c in got] == [
        ("gpo-failure-site|asset.site=LYON", "ack", "inc-gpo-lyon", None),
        ("gpo-failure-site|asset.site=LYON", "assign", "inc-gpo-lyon", "carol"),
        ("disk-errors|host.name=PC-1", "resolve", "inc-disk", None)]
    assert got[0][1].actor == "alice" and got[0][1].comment == "on it" and got[2][1].actor  # OS user


def test_silence_add_list_expire(cli: Any, world: Settings) -> None:
    added = cli("silence", "add", "--match", "asset.site=LYON", "--match", "rule_id=~gpo-.*", "--duration", "2h",
                "--comment", "GPO rollout", "--actor", "alice")
    silence_id = added.output.split()[1]
    listed = cli("silence", "list").output
    assert silence_id in listed and "active" in listed and "asset.site=LYON rule_id=~gpo-.*" in listed
    assert "expired by bob" in cli("silence", "expire", silence_id, "--actor", "bob").output
    assert silence_id not in cli("silence", "list").output and "expired" in cli("silence", "list", "--all").output
    records = [r for r in _read(world, SILENCES.name(world.kafka)) if r.key.decode() == silence_id]
    first, last = (Silence.model_validate_json(r.value) for r in records)
    assert first.created_by == last.created_by == "alice" and last.ends_at <= datetime.now(UTC)
    assert first.ends_at - first.starts_at == timedelta(hours=2)
    assert cli("silence", "add", "--match", "oops", "--duration", "2h").exit_code == 2
    bad_regex = CliRunner().invoke(main, ["silence", "add", "--match", "rule_id=~(", "--duration", "2h"],
                                   env={"DESKWATCH_CONFIG": cli.config})
    assert bad_regex.exit_code == 2 and isinstance(bad_regex.exception, SystemExit), bad_regex.output
    assert "'rule_id=~(': matcher rule_id: regex '(' does not compile" in bad_regex.output


def test_tail_changes_prints_cloudevents_headers(cli: Any, world: Settings) -> None:
    import threading
    import time

    from deskwatch.sinks.webhook.cloudevents import ce_headers
    from kafka import KafkaProducer

    from deskwatch.connect import kafka_python_options
    from deskwatch.topology import INCIDENT_CHANGES

    producer = KafkaProducer(acks="all", **kafka_python_options(world.kafka))
    topic = INCIDENT_CHANGES.name(world.kafka)

    def send(change: IncidentChange) -> None:
        body = change.model_dump_json().encode()
        producer.send(topic, key=change.incident_id.encode(), value=body,
                      headers=ce_headers(change, "dw-test", body)).get(timeout=30)

    send(CHANGES[1])
    old = cli("tail", "changes", "--from-beginning", "--max", "1", "--headers").output
    assert "ce_id=inc-disk:1:" in old and "ce_type=org.deskwatch.incident.opened" in old and "ce_specversion=1.0" in old
    assert "ce_source=deskwatch/dw-test" in old and "content-type=application/json" in old
    assert json.loads(old.split("\t", 1)[1])["revision"] == 1

    latest: list[str] = []
    follower = threading.Thread(target=lambda: latest.append(cli("tail", "changes", "--max", "1").output))
    follower.start()
    time.sleep(4)  # the follower has seeked to the end
    send(CHANGES[2])
    follower.join(60)
    producer.close()
    assert [json.loads(line)["revision"] for line in latest[0].splitlines()] == [2], "latest by default"


def test_tail_dead_letters_shows_what_was_rejected_and_why(cli: Any, tmp_path: Path) -> None:
    """An operator reads the dead-letter topic without writing a consumer."""
    import base64

    bad = tmp_path / "bad.jsonl"
    bad.write_bytes(b'{"not": "an event"\n')
    assert "rejected=1 (invalid_json=1)" in cli("produce", "--format", "jsonl", str(bad)).output
    letters = [json.loads(line) for line in cli("tail", "dead-letters", "--from-beginning", "--no-follow").output.splitlines()
               if line.startswith("{")]
    mine = [d for d in letters if d["source"] == str(bad)]
    assert len(mine) == 1 and mine[0]["reason"] == "invalid_json" and mine[0]["stage"] == "producer"
    assert base64.b64decode(mine[0]["original_b64"]).rstrip(b"\n") == b'{"not": "an event"'
