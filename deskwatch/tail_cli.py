"""``deskwatch tail incidents|changes|dead-letters``: follow an incident topic, or what every stage
rejected, from the terminal.

Reads without a consumer group (nothing is committed, nobody's offsets move): from the end by
default, or ``--from-beginning``. Each line is the record's JSON value (a dead letter: stage, source,
position, reason, detail and the original bytes in base64); ``--headers`` prefixes the
CloudEvents headers of ``incident-changes``.
"""

from __future__ import annotations

from typing import Any

import click

from deskwatch.context import Context, pass_context
from deskwatch.connect import kafka_python_options
from deskwatch.settings import KafkaSettings
from deskwatch.topology import DEAD_LETTER, INCIDENT_CHANGES, INCIDENTS

TOPICS = {"incidents": INCIDENTS, "changes": INCIDENT_CHANGES, "dead-letters": DEAD_LETTER}


def open_consumer(kafka: KafkaSettings, topic: str, from_beginning: bool) -> Any:
    """A group-less consumer assigned every partition of ``topic``, at its start or its end."""
    from kafka import KafkaConsumer

    from deskwatch.topics import topic_partitions

    consumer = KafkaConsumer(enable_auto_commit=False, client_id="deskwatch-tail", **kafka_python_options(kafka))
    parts = topic_partitions(consumer, (topic,))
    if not parts:
        consumer.close()
        raise click.ClickException(f"topic {topic!r} does not exist (deskwatch topics create)")
    consumer.assign(parts)
    (consumer.seek_to_beginning if from_beginning else consumer.seek_to_end)(*parts)
    for tp in parts:
        consumer.position(tp)  # resolve the seek now, so records sent after this call are seen
    return consumer


def render(record: Any, with_headers: bool) -> str:
    """The record's value, optionally after its headers as ``name=value`` pairs."""
    value = record.value.decode() if record.value is not None else "null"
    if not with_headers:
        return value
    heads = " ".join(f"{k}={v.decode(errors='replace')}" for k, v in record.headers or [])
    return f"{heads}\t{value}"


@click.command()
@click.argument("what", type=click.Choice(sorted(TOPICS)))
@click.option("--from-beginning", is_flag=True, help="start at the oldest record instead of the newest")
@click.option("--headers", "with_headers", is_flag=True, help="print the record headers before each value")
@click.option("--max", "max_records", type=click.IntRange(1), default=None, help="stop after this many records")
@click.option("--no-follow", is_flag=True, help="stop at the end the topic had when called")
@pass_context
def tail(ctx: Context, what: str, from_beginning: bool, with_headers: bool, max_records: int | None,
         no_follow: bool) -> None:
    """Follow the incidents, incident-changes or dead-letter topic until Ctrl-C (nothing to commit: just stop)."""
    consumer = open_consumer(ctx.settings.kafka, TOPICS[what].name(ctx.settings.kafka), from_beginning)
    ends = consumer.end_offsets(list(consumer.assignment())) if no_follow else None
    seen = 0
    try:
        while (max_records is None or seen < max_records) and (
                ends is None or any(consumer.position(tp) < end for tp, end in ends.items())):
            for records in consumer.poll(timeout_ms=500).values():
                for record in records[: None if max_records is None else max_records - seen]:
                    click.echo(render(record, with_headers))
                    seen += 1
    except KeyboardInterrupt:
        pass
    finally:
        consumer.close()
