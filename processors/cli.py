"""``deskwatch processor run``."""

from __future__ import annotations

import click

from deskwatch.context import Context, pass_context


@click.group()
def processor() -> None:
    """Deduplicate and correlate events into incidents."""


@processor.command("run")
@pass_context
def processor_run(ctx: Context) -> None:
    """Run a processor worker until SIGTERM/SIGINT (faust at-least-once)."""
    from deskwatch.cli import EX_CONFIG
    from deskwatch.processors.app import run_worker
    from deskwatch.processors.group_member import DatadirBusy
    from deskwatch.processors.rules import RuleError, load_configured
    from deskwatch.processors.rules.host_change import load_changes

    try:  # the worker reads them again; here a bad file is one clear line, before any engine is asked
        load_configured(ctx.settings.processor.rule_files)
        load_changes(ctx.settings.processor.change_file)
    except (RuleError, OSError) as exc:
        click.echo(f"deskwatch: the processor's rule or change files cannot be used: {exc}", err=True)
        click.get_current_context().exit(EX_CONFIG)
    try:
        run_worker(ctx.settings)
    except DatadirBusy as exc:
        click.echo(f"deskwatch: {exc}", err=True)
        click.get_current_context().exit(EX_CONFIG)
