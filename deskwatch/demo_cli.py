"""``deskwatch demo``."""

from __future__ import annotations

import click

from deskwatch.context import Context, pass_context


@click.command()
@click.option("--folder", type=click.Path(), default=None, help="where the simulated files go (default: <stack.home>/demo)")
@pass_context
def demo(ctx: Context, folder: str | None) -> None:
    """Run a small simulated fleet through the whole pipeline and show the incidents found."""
    from pathlib import Path

    from deskwatch.demo import run_demo
    from deskwatch.sinks.cli import print_incidents

    settings = ctx.settings
    run_demo(settings, Path(folder) if folder else settings.stack.home / "demo")
    top = "NOT _exists_:parent_id"  # absorbed per-host incidents are listed under their parent
    click.echo(f"\n$ deskwatch search '{top}'")
    print_incidents(settings, top, 15)
    example = "status:open AND severity:high"
    click.echo(f"\n$ deskwatch search '{example}'")
    print_incidents(settings, example, 5)
    _print_wave_changes(ctx)
    click.echo("\nSearch yourself: .venv/bin/deskwatch search 'QUERY' (Elasticsearch query_string syntax)")


def _print_wave_changes(ctx: Context) -> None:
    """The site-wide GPO incident's suspected changes, as ``deskwatch incident changes`` prints them."""
    from deskwatch.connect import elasticsearch_client
    from deskwatch.incident_cli import changes
    from deskwatch.sinks.elasticsearch.search import IncidentFilters, search_incidents

    client = elasticsearch_client(ctx.settings.elasticsearch)
    try:
        _, waves = search_incidents(client, ctx.settings.elasticsearch, "*", 1, IncidentFilters(rule=("gpo-failure-site",)))
    finally:
        client.close()
    if waves:
        click.echo(f"\n$ deskwatch incident changes {waves[0].id}")
        click.get_current_context().invoke(changes, incident_id=waves[0].id, limit=3, definitions=None)
