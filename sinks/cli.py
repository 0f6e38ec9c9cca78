"""``deskwatch sink run`` and ``deskwatch search``."""

from __future__ import annotations

import signal
import threading
from datetime import datetime, timezone

import click
from rich.console import Console
from rich.table import Table

from deskwatch.cli import Context, pass_context
from deskwatch.connect import elasticsearch_client
from deskwatch.settings import Settings


@click.group()
def sink() -> None:
    """Index topics into Elasticsearch."""


@sink.command("run")
@pass_context
def sink_run(ctx: Context) -> None:
    """Index incidents, their transitions and event digests until SIGTERM/SIGINT."""
    from deskwatch.sinks.elasticsearch.consume import Sink

    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    s = Sink(ctx.settings, stop)
    s.start()
    try:
        s.run()
    finally:
        s.close()
    click.echo(f"sink stopped: {s.counts}")


@sink.command("prune")
@click.option("--days", type=int, default=None, help="retention in days (default: sink.events_retention_days)")
@pass_context
def sink_prune(ctx: Context, days: int | None) -> None:
    """Delete daily events indices older than the retention (the test server has no ILM)."""
    from deskwatch.sinks.elasticsearch.prune import prune_events

    retention = days if days is not None else ctx.settings.sink.events_retention_days
    client = elasticsearch_client(ctx.settings.elasticsearch)
    try:
        doomed = prune_events(client, ctx.settings.elasticsearch, datetime.now(timezone.utc).date(), retention)
    finally:
        client.close()
    click.echo(f"deleted {len(doomed)} events index(es) older than {retention} day(s)")
    for name in doomed:
        click.echo(f"  {name}")


@click.command()
@click.argument("query", default="*")
@click.option("--size", default=20, show_default=True, help="incidents to show")
@pass_context
def search(ctx: Context, query: str, size: int) -> None:
    """Print incidents matching QUERY (Elasticsearch query_string syntax)."""
    print_incidents(ctx.settings, query, size)


def print_incidents(settings: Settings, query: str, size: int) -> None:
    """Search incidents and print them as a table."""
    from deskwatch.sinks.elasticsearch.search import search_incidents

    client = elasticsearch_client(settings.elasticsearch)
    total, incidents = search_incidents(client, settings.elasticsearch, query, size)
    table = Table(title=f"{total} incident(s) match {query!r}")
    for col in ("id", "status", "severity", "title", "hosts", "events", "first seen", "last seen", "rev"):
        table.add_column(col)
    for i in incidents:
        table.add_row(i.id, i.status, i.severity, i.title, ",".join(i.hosts[:3]) + ("…" if len(i.hosts) > 3 else ""),
                      str(i.event_count), i.first_seen.isoformat(), i.last_seen.isoformat(), str(i.revision))
    Console(width=200).print(table)
