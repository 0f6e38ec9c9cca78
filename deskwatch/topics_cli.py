"""``deskwatch topics create|list``: topics from the one topology declaration."""

from __future__ import annotations

import click

from deskwatch.context import Context, pass_context
from deskwatch.topology import TOPICS


@click.group()
def topics() -> None:
    """Kafka topics declared by deskwatch's topology."""


@topics.command("create")
@pass_context
def topics_create(ctx: Context) -> None:
    """Create every declared topic that is missing."""
    from deskwatch.topics import ensure_topics

    for outcome in ensure_topics(ctx.settings.kafka):
        click.echo(f"{outcome.name}: {'created' if outcome.created else 'exists'} ({outcome.partitions} partitions)")


@topics.command("list")
@pass_context
def topics_list(ctx: Context) -> None:
    """Print the declared topics: key, value, cleanup, writers and readers."""
    for spec in TOPICS:
        cleanup = "compact" if spec.compacted else "delete"
        click.echo(f"{spec.name(ctx.settings.kafka)}  key={spec.key}  value={spec.value}  {cleanup}  "
                   f"{'+'.join(spec.writers)} -> {'+'.join(spec.readers)}")
