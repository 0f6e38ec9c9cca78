"""The README's search examples, run against the real Elasticsearch after a known incident set went
through the real sink (``deskwatch sink run``): each must print exactly what the README shows."""

from __future__ import annotations

import re
import shlex
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from deskwatch.schemas.incident import Incident, episode_incident_id
from deskwatch.sinks.elasticsearch.templates import incidents_alias
from elasticsearch import NotFoundError
from kafka import KafkaProducer

from deskwatch.cli import main
from deskwatch.components import write_settings_file
from deskwatch.connect import kafka_python_options
from deskwatch.settings import Settings
from deskwatch.topics import ensure_topics
from deskwatch.topology import INCIDENTS

from .conftest import es_docs, wait_for

pytestmark = pytest.mark.integration
README = Path(__file__).resolve().parents[2] / "README.md"
EXAMPLE = re.compile(r"<!-- search-example -->\s*```console\n(.*?)```", re.DOTALL)
DAY = datetime(2026, 11, 29, tzinfo=UTC)


def _at(hhmm: str) -> datetime:
    hours, minutes = hhmm.split(":")
    return DAY + timedelta(hours=int(hours), minutes=int(minutes))


def _incident(rule: str, group: dict[str, str], title: str, first: str, last: str, hosts: list[str],
              events: int, **kw: Any) -> Incident:
    key = "|".join([rule, *(f"{k}={v}" for k, v in group.items())])
    return Incident(id=episode_incident_id(rule, key, 0), rule_id=rule, group_key=key, group=group, title=title,
                    first_seen=_at(first), last_seen=_at(last), opened_at=_at(first), hosts=hosts,
                    host_count=kw.pop("host_count", len(hosts)), event_count=events, revision=kw.pop("revision", 1),
                    **kw)


#: The incident set the README's examples describe.
KNOWN = [
    _incident("gpo-failure-site", {"asset.site": "LYON"}, "Group Policy failures across a site: LYON", "08:02", "09:40",
              [f"PC-LYO-{n:04d}" for n in range(1, 39)], 412, severity="high", revision=4),
    _incident("gpo-failure-site", {"asset.site": "PARIS-15"}, "Group Policy failures across a site: PARIS-15",
              "08:20", "09:12", [f"PC-PAR-{n:04d}" for n in range(1, 8)], 55, severity="high",
              status="acknowledged", assignee="n.martin", revision=3),
    _incident("disk-errors", {"host.name": "PC-LYO-0142"}, "Disk or NTFS errors: PC-LYO-0142", "08:45", "09:31",
              ["PC-LYO-0142"], 23, severity="high", revision=2),
    _incident("bluescreen", {"host.name": "PC-PAR-0077"}, "Blue screen (bug check): PC-PAR-0077", "07:02", "07:15",
              ["PC-PAR-0077"], 2, severity="high", status="resolved", revision=3),
    _incident("dns-timeouts", {"host.name": "PC-LYO-0031"}, "DNS resolution timeouts: PC-LYO-0031", "09:05",
              "09:38", ["PC-LYO-0031"], 64, severity="low", revision=2),
    _incident("update-server-outage", {"event.provider": "Microsoft-Windows-WindowsUpdateClient"},
              "Update server outage", "08:30", "09:44", [f"PC-{n:04d}" for n in range(1, 21)], 1310,
              host_count=212, severity="critical", revision=5),
]


def examples() -> list[tuple[list[str], list[str]]]:
    """(arguments after ``deskwatch``, expected output lines) of every marked README block."""
    found = []
    for block in EXAMPLE.findall(README.read_text(encoding="utf-8")):
        command, *output = block.rstrip("\n").split("\n")
        assert command.startswith("$ deskwatch "), command
        found.append((shlex.split(command[2:])[1:], output))
    return found


def _publish(settings: Settings) -> None:
    """Every incident at an older revision first, then its latest: the sink must keep the latest."""
    producer = KafkaProducer(acks="all", **kafka_python_options(settings.kafka))
    for incident in KNOWN:
        for rev in sorted({1, incident.revision}):
            value = incident.model_copy(update={"revision": rev}).model_dump_json().encode()
            producer.send(INCIDENTS.name(settings.kafka), key=incident.id.encode(), value=value)
    producer.flush()
    producer.close()


def test_readme_has_search_examples() -> None:
    assert len(examples()) >= 4


def test_readme_search_examples(pipeline_settings: Settings, launch: Callable[..., Any], tmp_path: Path) -> None:
    s = pipeline_settings
    ensure_topics(s.kafka)
    _publish(s)
    sink = launch("sink", "run")

    def indexed() -> bool:
        try:
            docs = es_docs(s, incidents_alias(s.elasticsearch))
        except NotFoundError:  # the sink has not created the index yet
            return False
        return {i: d["revision"] for i, d in docs.items()} == {i.id: i.revision for i in KNOWN}

    wait_for(indexed, 90, "the known incidents at their latest revision", sink.tail)
    config = write_settings_file(s, tmp_path / "cli.yaml")
    for args, expected in examples():
        result = CliRunner().invoke(main, args, env={"DESKWATCH_CONFIG": str(config)})
        assert result.exit_code == 0, result.output
        assert result.output.rstrip("\n").split("\n") == expected, f"deskwatch {shlex.join(args)}"


CONSUMER = re.compile(r"## Downstream.*?```python\n(.*?)```", re.DOTALL)


def test_readme_consumer_example(pipeline_settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    """The Downstream section's kafka-python consumer, on a test topic: it opens and closes one ticket,
    skips the duplicate and the header-less record, and reopens the ticket when a crash replay sends
    the closing revision again as another change (another ce_id)."""

    from deskwatch.schemas.change import IncidentChange
    from deskwatch.sinks.webhook.cloudevents import ce_headers

    from deskwatch.topology import INCIDENT_CHANGES

    s = pipeline_settings
    ensure_topics(s.kafka)
    topic = INCIDENT_CHANGES.name(s.kafka)
    code = CONSUMER.search(README.read_text(encoding="utf-8")).group(1)  # type: ignore[union-attr]
    assert len(code.splitlines()) < 30
    code = code.replace('"deskwatch.incident-changes"', repr(topic)).replace(
        'auto_offset_reset="earliest"', 'auto_offset_reset="earliest", consumer_timeout_ms=8000')
    common: dict[str, Any] = {"incident_id": "inc-42", "rule_id": "disk-errors", "rule_version": 1,
                              "group_key": "disk-errors|host.name=PC-1", "severity": "high",
                              "at": datetime(2026, 11, 29, 8, tzinfo=UTC)}
    opened = IncidentChange(revision=1, from_status=None, to_status="open", reason="opened", **common)  # type: ignore[arg-type]
    closed = IncidentChange(revision=2, from_status="open", to_status="resolved", reason="quiet_timeout", **common)  # type: ignore[arg-type]
    # after a processor crash, a replay in another order sent revision 2 as an escalation: the
    # incident is open again (its last change), so the ticket reopens
    replayed = IncidentChange(revision=2, from_status="open", to_status="open", reason="escalated", **common)  # type: ignore[arg-type]
    producer = KafkaProducer(acks="all", **kafka_python_options(s.kafka))
    def headers(change: IncidentChange) -> list[tuple[str, bytes]]:
        return ce_headers(change, "app", change.model_dump_json().encode())

    for change, sent in ((opened, headers(opened)), (opened, headers(opened)), (closed, headers(closed)), (closed, []),
                         (replayed, headers(replayed))):
        producer.send(topic, key=b"inc-42", value=change.model_dump_json().encode(), headers=sent)
    producer.flush()
    producer.close()
    code = code.replace('group_id="ticketing"', f'group_id="ticketing-{s.kafka.topic_prefix}"')
    capsys.readouterr()  # only what the example prints counts
    exec(compile(code, "README.md", "exec"), {"__name__": "readme_consumer"})  # noqa: S102
    assert capsys.readouterr().out.splitlines() == ["open ticket inc-42 high disk-errors",
                                                    "close ticket inc-42 because quiet_timeout",
                                                    "open ticket inc-42 high disk-errors"]
