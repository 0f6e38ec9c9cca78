"""``deskwatch stack up|down|status``: the local engines from the command line."""

from __future__ import annotations

import click

from deskwatch.settings import Settings
from deskwatch.stack.down import stack_down
from deskwatch.stack.errors import StackError
from deskwatch.stack.progress import ElapsedReport
from deskwatch.stack.status import stack_status
from deskwatch.stack.up import ensure_up


def _settings(ctx: click.Context) -> Settings:
    # The main group reads the settings once and hands them down through ctx.obj.
    settings: Settings = ctx.find_root().obj.settings
    return settings


@click.group()
def stack() -> None:
    """Start, stop and inspect the local Kafka and Elasticsearch."""


@stack.command()
@click.pass_context
def up(ctx: click.Context) -> None:
    """Fetch (first time), start and wait for Kafka and Elasticsearch; reuse running ones."""
    report = ElapsedReport()
    try:
        found = ensure_up(_settings(ctx).stack, report)
    except StackError as err:
        raise click.ClickException(str(err)) from err
    report(f"ready: kafka {found.kafka_bootstrap}, elasticsearch {found.es_url}")


@stack.command()
@click.pass_context
def down(ctx: click.Context) -> None:
    """Stop both engines (SIGTERM, then SIGKILL after stack.stop_timeout_s)."""
    try:
        stack_down(_settings(ctx).stack, ElapsedReport())
    except StackError as err:
        raise click.ClickException(str(err)) from err


@stack.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Print each engine: running or stopped, pid, port and log path."""
    for engine in stack_status(_settings(ctx).stack):
        state = "running" if engine.running else "stopped"
        pid = engine.pid if engine.pid is not None else "-"
        click.echo(
            f"{engine.name:<14} {state:<8} pid {pid!s:<8} port {engine.port:<6} "
            f"{engine.mode:<7} log {engine.log or '-'}"
        )
