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
    from deskwatch.processors.app import run_worker

    run_worker(ctx.settings)
