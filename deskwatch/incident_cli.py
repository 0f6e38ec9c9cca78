"""``deskwatch incident show|changes|ack|resolve|assign``: one incident explained, the changes to its
hosts that came just before it, and operators' commands.

Commands go to the ``commands`` topic keyed by the incident's group key (read from Elasticsearch),
so the stage 2 partition that owns the group receives them.
"""

from __future__ import annotations

import getpass
import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import click

from deskwatch.context import Context, pass_context
from deskwatch.connect import elasticsearch_client, kafka_python_options
from deskwatch.schemas.change import IncidentChange
from deskwatch.schemas.command import Command, CommandAction
from deskwatch.schemas.digest import EventDigest
from deskwatch.schemas.incident import Incident, IncidentStatus
from deskwatch.settings import Settings
from deskwatch.topology import COMMANDS

if TYPE_CHECKING:  # imported where used: the CLI starts without Elasticsearch's client
    from deskwatch.sinks.elasticsearch.suspects import SuspectReport


class IncidentNotFoundError(click.ClickException):
    """No incident with that id in the incidents index."""


def publish(settings: Settings, topic: str, key: str, value: bytes | None) -> None:
    """Send one record and wait for the broker's acknowledgement (acks=all, idempotent)."""
    from kafka import KafkaProducer

    producer = KafkaProducer(client_id="deskwatch-cli", acks="all", enable_idempotence=True,
                             **kafka_python_options(settings.kafka))
    try:
        producer.send(topic, key=key.encode(), value=value).get(timeout=30)
    finally:
        producer.close()


def actor_option(fn: Any) -> Any:
    """``--actor``, defaulting to the OS user."""
    return click.option("--actor", default=None, help="who acts (default: the OS user)")(fn)


def _actor(actor: str | None) -> str:
    return actor or getpass.getuser()


def _load(settings: Settings, incident_id: str) -> tuple[Any, Incident]:
    from deskwatch.sinks.elasticsearch.search import get_incident

    client = elasticsearch_client(settings.elasticsearch)
    incident = get_incident(client, settings.elasticsearch, incident_id)
    if incident is None:
        client.close()
        raise IncidentNotFoundError(f"no incident {incident_id!r} in {settings.elasticsearch.index_prefix}-incidents")
    return client, incident


@click.group()
def incident() -> None:
    """Explain an incident, or acknowledge, resolve or assign it."""


@incident.command("show")
@click.argument("incident_id")
@click.option("--events", "event_limit", type=click.IntRange(0, 10_000), default=10, show_default=True,
              help="recent events to list")
@click.option("--changes", "change_limit", type=click.IntRange(0, 10_000), default=3, show_default=True,
              help="suspected changes to list (0: do not look for them)")
@pass_context
def show(ctx: Context, incident_id: str, event_limit: int, change_limit: int) -> None:
    """Why INCIDENT_ID exists, its history, its recent events and the changes to its hosts just before it."""
    from deskwatch.processors.rules.cli import change_definitions
    from deskwatch.sinks.elasticsearch.search import incident_events, incident_history
    from deskwatch.sinks.elasticsearch.suspects import suspected_changes

    es = ctx.settings.elasticsearch
    definitions = change_definitions(ctx.settings.processor.change_file) if change_limit > 0 else []
    client, found = _load(ctx.settings, incident_id)
    try:
        history = incident_history(client, es, found.id)
        events = incident_events(client, es, found, event_limit)
        report = suspected_changes(client, es, found, definitions, change_limit) if change_limit > 0 else None
    finally:
        client.close()
    lines = explain(found, _remediation(found)) + history_lines(history) + event_lines(events)
    for line in lines + (suspect_lines(report) if report is not None else []):
        click.echo(line)


@incident.command("changes")
@click.argument("incident_id")
@click.option("--limit", type=click.IntRange(0, 10_000), default=10, show_default=True, help="suspects to list")
@click.option("--definitions", type=click.Path(exists=True, dir_okay=False), default=None,
              help="a YAML file of change definitions (default: processor.change_file, else the shipped "
                   "host_changes.yaml)")
@click.option("--json", "as_json", is_flag=True, help="one JSON object (for a ticketing or chat integration)")
@pass_context
def changes(ctx: Context, incident_id: str, limit: int, definitions: str | None, as_json: bool) -> None:
    """Changes to INCIDENT_ID's hosts (updates, software, drivers, policies) shortly before each failed,
    ranked by how much more often its failing hosts had them than the other active hosts."""
    from deskwatch.processors.rules.cli import change_definitions
    from deskwatch.sinks.elasticsearch.suspects import suspected_changes

    loaded = change_definitions(definitions or ctx.settings.processor.change_file)
    client, found = _load(ctx.settings, incident_id)
    try:
        report = suspected_changes(client, ctx.settings.elasticsearch, found, loaded, limit)
    finally:
        client.close()
    if as_json:
        click.echo(json.dumps(suspects_document(found, report), ensure_ascii=False))
        return
    click.echo(f"incident   {found.id}  {found.title}")
    for line in suspect_lines(report)[1:]:
        click.echo(line)


def _remediation(found: Incident) -> str:
    if found.remediation:
        return str(found.remediation)
    from deskwatch.processors.rules import load_default_pack

    pack = load_default_pack()
    return str(pack[found.rule_id].remediation) if found.rule_id in pack else ""


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC") if at else "-"


def explain(i: Incident, remediation: str) -> list[str]:
    """The incident's explanation: rule, group, window, first/last event, counts, links, hint."""
    group = ", ".join(f"{k}={v}" for k, v in i.group.items()) or "-"
    lines = [
        f"incident   {i.id}  rev {i.revision}", f"title      {i.title}",
        f"status     {i.status.value}  severity {i.severity.value}" + ("  flapping" if i.flapping else ""),
        f"rule       {i.rule_id} v{i.rule_version}", f"group key  {i.group_key}", f"group      {group}",
        f"window     {i.window_seconds}s", f"first seen {_when(i.first_seen)}", f"last seen  {_when(i.last_seen)}",
        (f"counts     events={i.event_count} hosts={i.host_count or len(i.hosts)} "
         f"deduplicated={i.deduplicated_count} absorbed={i.absorbed_count} reopened={i.reopen_count}"),
        f"hosts      {', '.join(i.hosts[:10])}" + (" …" if len(i.hosts) > 10 else ""),
        f"parent     {i.parent_id or '-'}", f"children   {', '.join(i.children) or '-'}",
        f"silenced   {i.silenced_by or '-'}", f"assignee   {i.assignee or '-'}",
    ]
    if i.acknowledged_by:
        lines.append(f"acked      by {i.acknowledged_by} at {_when(i.acknowledged_at)}")
    lines.append(f"remedy     {remediation or '-'}")
    return lines


def history_lines(history: list[IncidentChange]) -> list[str]:
    """One line per transition, by revision."""
    lines = ["", f"history ({len(history)})"]
    for c in history:
        before = c.from_status.value if c.from_status else "-"
        who = f" by {c.actor}" if c.actor else ""
        lines.append(f"  rev {c.revision:<3} {_when(c.at)}  {before} -> {c.to_status.value}  {c.reason.value}{who}"
                     + (f"  {c.detail}" if c.detail else ""))
    return lines


def event_lines(events: list[EventDigest]) -> list[str]:
    """One line per event digest, newest first."""
    lines = ["", f"recent events ({len(events)})"]
    for d in events:
        lines.append(f"  {_when(d.last_seen)}  {d.host}  {d.provider}/{d.event_code}  x{d.repeat_count}  "
                     f"{d.sample_message[:80]}")
    return lines


def _lead(span: timedelta) -> str:
    minutes = int(span.total_seconds() // 60)
    return f"{minutes // 60}h{minutes % 60:02d}m" if minutes >= 60 else f"{minutes}m"


def suspects_document(incident: Incident, report: SuspectReport) -> dict[str, Any]:
    """A ``SuspectReport`` as plain JSON values, best suspect first; times in ISO 8601, leads in seconds."""
    return {
        "incident_id": incident.id, "title": incident.title,
        "failing_hosts": report.failing, "other_active_hosts": report.others,
        "change_events_read": report.change_events, "truncated": report.truncated,
        "span": [t.isoformat() for t in report.span] if report.span else None,
        "suspects": [{
            "rank": rank, "definition_id": s.definition_id, "kind": s.kind.value, "title": s.title, "name": s.name,
            "score": round(s.score, 4), "failing_with_it": len(s.hosts), "others_with_it": s.elsewhere,
            "hosts": list(s.hosts), "first_at": s.first_at.isoformat(), "last_at": s.last_at.isoformat(),
            "lead_min_s": s.lead_min.total_seconds(), "lead_max_s": s.lead_max.total_seconds(),
        } for rank, s in enumerate(report.suspects, start=1)],
    }


def suspect_lines(report: SuspectReport) -> list[str]:
    """The ranked suspects of a ``SuspectReport``, two lines each, after a line saying what was read."""
    lines = ["", f"changes before it ({report.failing} failing hosts, {report.others} other active hosts, "
                 f"{report.change_events} change events read{', truncated' if report.truncated else ''})"]
    if report.failing == 0:
        lines.append("  none of the incident's events is in the events index (pruned, or not indexed yet)")
    elif not report.suspects:
        lines.append("  no change on the failing hosts within the lookback before they failed")
    for n, s in enumerate(report.suspects, start=1):
        lines.append(f"  {n}. {s.kind.value:<8} {s.name}  [{s.definition_id}]")
        lines.append(f"     on {len(s.hosts)}/{s.failing} failing hosts ({100 * s.share:.0f} %), "
                     f"{s.elsewhere}/{s.others} others ({100 * s.base_rate:.0f} %); {_span(s.first_at, s.last_at)}, "
                     f"{_leads(s.lead_min, s.lead_max)} before each failed")
    return lines


def _leads(shortest: timedelta, longest: timedelta) -> str:
    low, high = _lead(shortest), _lead(longest)
    return low if low == high else f"{low}-{high}"


def _span(first: datetime, last: datetime) -> str:
    a, b = first.astimezone(UTC), last.astimezone(UTC)
    if a == b:
        return f"{a:%Y-%m-%d %H:%M} UTC"
    if a.date() == b.date():
        return f"{a:%Y-%m-%d %H:%M}-{b:%H:%M} UTC"
    return f"{a:%Y-%m-%d %H:%M} - {b:%Y-%m-%d %H:%M} UTC"


def _send_command(ctx: Context, incident_id: str, action: CommandAction, actor: str | None, comment: str,
                  assignee: str | None = None) -> Command:
    client, found = _load(ctx.settings, incident_id)
    client.close()
    if found.status is IncidentStatus.RESOLVED:  # stage 2 would refuse it, and nobody would see why
        when = f" at {found.resolved_at:%Y-%m-%d %H:%M} UTC" if found.resolved_at else ""
        raise click.ClickException(f"incident {found.id} was resolved{when}: {action.value} would change nothing "
                                   "(it reopens by itself if its problem comes back within its reopen window)")
    command = Command(command_id=uuid.uuid4().hex, action=action, group_key=found.group_key, incident_id=found.id,
                      actor=_actor(actor), at=datetime.now(UTC), comment=comment, assignee=assignee)
    publish(ctx.settings, COMMANDS.name(ctx.settings.kafka), command.group_key, command.model_dump_json().encode())
    click.echo(f"{action.value} {found.id} sent as {command.command_id} (group {found.group_key})")
    return command


@incident.command("ack")
@click.argument("incident_id")
@click.option("--comment", default="")
@actor_option
@pass_context
def ack(ctx: Context, incident_id: str, comment: str, actor: str | None) -> None:
    """Acknowledge INCIDENT_ID."""
    _send_command(ctx, incident_id, CommandAction.ACK, actor, comment)


@incident.command("resolve")
@click.argument("incident_id")
@click.option("--comment", default="")
@actor_option
@pass_context
def resolve(ctx: Context, incident_id: str, comment: str, actor: str | None) -> None:
    """Resolve INCIDENT_ID."""
    _send_command(ctx, incident_id, CommandAction.RESOLVE, actor, comment)


@incident.command("assign")
@click.argument("incident_id")
@click.option("--assignee", required=True)
@click.option("--comment", default="")
@actor_option
@pass_context
def assign(ctx: Context, incident_id: str, assignee: str, comment: str, actor: str | None) -> None:
    """Assign INCIDENT_ID to ASSIGNEE."""
    _send_command(ctx, incident_id, CommandAction.ASSIGN, actor, comment, assignee)
