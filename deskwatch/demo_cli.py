"""``deskwatch demo``."""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

import click

from deskwatch.context import Context, pass_context

if TYPE_CHECKING:  # imported when a command runs: `deskwatch --help` stays quick
    from deskwatch.demo import DemoRun
    from deskwatch.sinks.elasticsearch.search import IncidentFilters


@click.command()
@click.option("--folder", type=click.Path(), default=None, help="where the simulated files go (default: <stack.home>/demo)")
@pass_context
def demo(ctx: Context, folder: str | None) -> None:
    """Run a small simulated fleet through the whole pipeline and show the incidents found."""
    from pathlib import Path

    from deskwatch.demo import run_demo

    run = run_demo(ctx.settings, Path(folder) if folder else ctx.settings.stack.home / "demo")
    print_results(ctx, run)


def print_results(ctx: Context, run: DemoRun) -> None:
    """The run's incidents (last seen since its day's start), how many others the indices hold, and
    the site-wide GPO incident's suspected changes."""
    from deskwatch.sinks.cli import print_incidents
    from deskwatch.sinks.elasticsearch.search import IncidentFilters

    settings, scope = ctx.settings, IncidentFilters(since=run.start)
    since = run.start.strftime("%Y-%m-%dT%H:%MZ")
    top = "NOT _exists_:parent_id"  # absorbed per-host incidents are listed under their parent
    click.echo(f"\n$ deskwatch search --since {since} '{top}'")
    found = print_incidents(settings, top, 15, scope)
    everywhere = _count(ctx, top, IncidentFilters())
    click.echo(f"{found} incident(s) no parent absorbed, for the {run.injected} problems the simulator injected "
               f"(its record: {run.truth})")
    if everywhere > found:
        click.echo(f"{everywhere - found} more in these indices were last seen before this run's day "
                   f"(earlier runs): `deskwatch search '{top}'` lists them too")
    example = "status:open AND severity:high"
    click.echo(f"\n$ deskwatch search --since {since} '{example}'")
    print_incidents(settings, example, 5, scope)
    _print_wave_changes(ctx, scope)
    click.echo("\nSearch yourself: .venv/bin/deskwatch search 'QUERY' (Elasticsearch query_string syntax)")


def _count(ctx: Context, query: str, filters: IncidentFilters) -> int:
    from deskwatch.connect import elasticsearch_client
    from deskwatch.sinks.elasticsearch.search import search_incidents

    client = elasticsearch_client(ctx.settings.elasticsearch)
    try:
        return search_incidents(client, ctx.settings.elasticsearch, query, 0, filters)[0]
    finally:
        client.close()


def _print_wave_changes(ctx: Context, scope: IncidentFilters) -> None:
    """The site-wide GPO incident's suspected changes, as ``deskwatch incident changes`` prints them."""
    from deskwatch.connect import elasticsearch_client
    from deskwatch.incident_cli import changes
    from deskwatch.sinks.elasticsearch.search import search_incidents

    client = elasticsearch_client(ctx.settings.elasticsearch)
    try:
        _, waves = search_incidents(client, ctx.settings.elasticsearch, "*", 1, replace(scope, rule=("gpo-failure-site",)))
    finally:
        client.close()
    if waves:
        click.echo(f"\n$ deskwatch incident changes {waves[0].id}")
        click.get_current_context().invoke(changes, incident_id=waves[0].id, limit=3, definitions=None)
