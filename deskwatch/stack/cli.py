"""``deskwatch stack up|down|status`` (to be written)."""

import click


@click.group()
def stack() -> None:
    """Start, stop and inspect the local Kafka and Elasticsearch."""
