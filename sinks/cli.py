"""``deskwatch sink run`` and ``deskwatch search`` (the operator's terminal view of incidents)."""

from __future__ import annotations

import signal
import threading
from datetime import datetime, timezone
from typing import TYPE_CHECKING

import click
from elasticsearch import BadRequestError, NotFoundError

from deskwatch.context import Context, pass_context
from deskwatch.connect import elasticsearch_client, es_reason
from deskwatch.schemas.incident import Incident, IncidentStatus, Severity
from deskwatch.settings import Settings

if TYPE_CHECKING:
    from deskwatch.sinks.elasticsearch.search import IncidentFilters


@click.group()
def sink() -> None:
    """Index topics into Elasticsearch."""


@sink.command("run")
@pass_context
def sink_run(ctx: Context) -> None:
    """Index incidents, their transitions and event digests until SIGTERM/SIGINT."""
    from deskwatch.sinks.elasticsearch.consume import Sink, SinkStoppedError

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    s = Sink(ctx.settings, stop)
    try:
        s.start()  # waits up to sink.startup_wait_s for Elasticsearch; a stop request ends the wait
        s.run()
    except SinkStoppedError:
        click.echo("sink stopped while waiting for Elasticsearch; nothing was consumed")
        return
    finally:  # asked to stop, its last batch committed: out of its group too when the settings say so
        s.close(leave_group=stop.is_set() and ctx.settings.sink.leave_group_on_stop)
    click.echo(f"sink stopped: {s.counts}")


@sink.command("prune")
@click.option("--days", type=int, default=None, help="retention in days (default: sink.events_retention_days)")
@pass_context
def sink_prune(ctx: Context, days: int | None) -> None:
    """Delete daily events and dead-letters indices older than the retention (the test server has no ILM)."""
    from deskwatch.sinks.elasticsearch.prune import prune_daily

    retention = days if days is not None else ctx.settings.sink.events_retention_days
    client = elasticsearch_client(ctx.settings.elasticsearch)
    try:
        doomed = prune_daily(client, ctx.settings.elasticsearch, datetime.now(timezone.utc).date(), retention)
    finally:
        client.close()
    click.echo(f"deleted {len(doomed)} daily index(es) older than {retention} day(s)")
    for name in doomed:
        click.echo(f"  {name}")


@click.command()
@click.argument("query", default="*")
@click.option("--status", multiple=True, type=click.Choice([s.value for s in IncidentStatus]), help="repeatable")
@click.option("--severity", multiple=True, type=click.Choice([s.value for s in Severity]), help="repeatable")
@click.option("--site", multiple=True, help="site of a site-wide incident (group asset.site; repeatable)")
@click.option("--rule", multiple=True, help="rule id (repeatable)")
@click.option("--since", default=None, help="last seen within a span (2h, 7d) or since an ISO time")
# Elasticsearch answers at most index.max_result_window (10,000) hits per search.
@click.option("--size", type=click.IntRange(1, 10_000), default=20, show_default=True, help="incidents to show")
@click.option("--json", "as_json", is_flag=True, help="one JSON object per line")
@pass_context
def search(ctx: Context, query: str, status: tuple[str, ...], severity: tuple[str, ...], site: tuple[str, ...],
           rule: tuple[str, ...], since: str | None, size: int, as_json: bool) -> None:
    """Print incidents matching QUERY (Elasticsearch query_string syntax) and the filters."""
    from deskwatch.sinks.elasticsearch.search import IncidentFilters, SinceError, parse_since

    try:
        after = parse_since(since, datetime.now(timezone.utc)) if since else None
    except SinceError as err:
        raise click.BadParameter(str(err), param_hint="--since") from None
    filters = IncidentFilters(status=status, severity=severity, site=site, rule=rule, since=after)
    print_incidents(ctx.settings, query, size, filters, as_json)


def print_incidents(settings: Settings, query: str, size: int, filters: IncidentFilters | None = None,
                    as_json: bool = False) -> int:
    """Search incidents and print them: a narrow table, or one JSON object per line. Returns how
    many matched (more than it printed when ``size`` cut the page)."""
    from deskwatch.sinks.elasticsearch.search import search_incidents

    client = elasticsearch_client(settings.elasticsearch)
    try:
        total, incidents = search_incidents(client, settings.elasticsearch, query, size, filters)
    except NotFoundError:  # nothing was ever indexed under this prefix: no incident, said as such
        click.echo(f"no incidents index under the prefix {settings.elasticsearch.index_prefix!r} yet", err=True)
        total, incidents = 0, []
    except BadRequestError as err:  # a query Elasticsearch cannot parse: the user's to mend
        raise click.UsageError(f"Elasticsearch refused the search: {es_reason(err)}") from None
    finally:
        client.close()
    if as_json:
        for incident in incidents:
            click.echo(incident.model_dump_json())
        return total
    click.echo(f"{total} incident(s)" + (f", showing {len(incidents)}" if total > len(incidents) else ""))
    for line in incident_table(incidents):
        click.echo(line.rstrip())
    return total


_COLUMNS = (("id", 24), ("status", 12), ("severity", 8), ("rule", 22), ("title", 46), ("hosts", 5),
            ("events", 6), ("last seen", 17))


def incident_table(incidents: list[Incident]) -> list[str]:
    """Fixed-width rows (header first); long rule ids and titles are cut with an ellipsis. An
    incident whose notifications are held back says why before its title: ``[silenced]``,
    ``[absorbed]`` (a parent incident explains it), ``[flapping]``."""
    rows = [[name for name, _ in _COLUMNS]]
    for i in incidents:
        rows.append([i.id, i.status.value, i.severity.value, i.rule_id, _flags(i) + i.title,
                     str(i.host_count or len(i.hosts)),
                     str(i.event_count), i.last_seen.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M")])
    return ["  ".join(_cell(v, w) for v, (_, w) in zip(row, _COLUMNS, strict=True)) for row in rows]


def _flags(incident: Incident) -> str:
    flags = [name for name, on in (("silenced", incident.silenced_by is not None),
                                   ("absorbed", incident.parent_id is not None), ("flapping", incident.flapping)) if on]
    return "".join(f"[{flag}] " for flag in flags)


def _cell(value: str, width: int) -> str:
    return (value if len(value) <= width else value[: width - 1] + "…").ljust(width)
