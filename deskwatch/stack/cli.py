"""``deskwatch stack up|down|status``: the local engines from the command line."""

from __future__ import annotations

import click

from deskwatch.settings import Settings
from deskwatch.stack.down import stack_down
from deskwatch.stack.errors import StackError
from deskwatch.stack.layout import Layout
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
@click.option("--secure", is_flag=True, help="TLS and users on both engines (stack.security=on)")
@click.pass_context
def up(ctx: click.Context, secure: bool) -> None:
    """Fetch (first time), start and wait for Kafka and Elasticsearch; reuse running ones."""
    report = ElapsedReport()
    settings = _settings(ctx).stack
    if secure:
        settings = settings.model_copy(update={"security": "on"})
    try:
        found = ensure_up(settings, report)
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
    """Print each engine: running or stopped, pid, port and log path; where secrets are kept."""
    settings = _settings(ctx).stack
    for engine in stack_status(settings):
        state = "running" if engine.running else "stopped"
        pid = engine.pid if engine.pid is not None else "-"
        click.echo(
            f"{engine.name:<14} {state:<8} pid {pid!s:<8} port {engine.port:<6} "
            f"{engine.mode:<7} log {engine.log or '-'}"
        )
    layout = Layout(settings.home)
    if layout.credentials_file.exists():
        # Where the passwords are, never what they are.
        mode = layout.credentials_file.stat().st_mode & 0o777
        click.echo(
            f"{'credentials':<14} {layout.credentials_file} (mode {mode:o}; CA {layout.ca_pem})"
        )
