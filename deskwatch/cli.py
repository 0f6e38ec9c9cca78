"""The ``deskwatch`` command: one entry point, subcommands contributed by each component."""

from __future__ import annotations

import click

from deskwatch.context import Context, pass_context
from deskwatch.logs import configure_logging
from deskwatch.settings import load_settings

__all__ = ["Context", "main", "pass_context"]


@click.group()
@click.pass_context
def main(ctx: click.Context) -> None:
    """deskwatch: workstation events in, incidents out."""
    settings = load_settings()
    configure_logging(settings.logging)
    ctx.obj = Context(settings)


def _register() -> None:
    from deskwatch.demo_cli import demo
    from deskwatch.processors.cli import processor
    from deskwatch.processors.evaluate.cli import evaluate
    from deskwatch.producers.cli import produce
    from deskwatch.sinks.cli import search, sink
    from deskwatch.stack.cli import stack
    from deskwatch.topics_cli import topics

    for command in (demo, stack, topics, produce, processor, sink, search):
        main.add_command(command)
    main.add_command(evaluate)
    from deskwatch.producers.sources.cli import ingest
    main.add_command(ingest)
    from deskwatch.producers.sources.cli import inventory
    main.add_command(inventory)
    from deskwatch.incident_cli import incident
    main.add_command(incident)
    from deskwatch.silence_cli import silence
    main.add_command(silence)
    from deskwatch.tail_cli import tail
    main.add_command(tail)
    from deskwatch.sinks.webhook.cli import webhook
    main.add_command(webhook)
    from deskwatch.sinks.kibana.cli import kibana
    main.add_command(kibana)


_register()
