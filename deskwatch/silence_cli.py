"""``deskwatch silence add|list|expire``: mute matching incidents for a while (they stay tracked).

Silences live on the compacted ``silences`` topic keyed by silence id; stage 2 reads it as a
global table. ``expire`` publishes a new record of the same silence with ``ends_at`` = now rather
than a tombstone: stage 2 then sees an ended silence (and unsilences its incidents on their next
evaluation, with the silence's id in the change detail), and ``silence list --all`` still shows
who silenced what and when it was ended, until compaction keeps only that last record.
"""

from __future__ import annotations

import re
import uuid
from datetime import UTC, datetime, timedelta
from typing import cast

import click
from pydantic import ValidationError

from deskwatch.context import Context, pass_context
from deskwatch.connect import kafka_python_options
from deskwatch.incident_cli import _actor, actor_option, publish
from deskwatch.schemas.command import Matcher, MatchOp, Silence
from deskwatch.settings import KafkaSettings
from deskwatch.topology import SILENCES

_MATCH = re.compile(r"^([A-Za-z_][\w.@-]*)(=~|!~|!=|=)(.*)$")
_SPAN = re.compile(r"^(\d+)([mhdw])$")
_UNIT = {"m": 60, "h": 3600, "d": 86400, "w": 604800}


class SilenceNotFoundError(click.ClickException):
    """No silence with that id on the silences topic."""


def parse_matcher(text: str) -> Matcher:
    """``name=value``, ``name!=value``, ``name=~regex`` or ``name!~regex``."""
    found = _MATCH.match(text)
    if not found:
        raise click.BadParameter(f"{text!r}: expected name=value, name!=value, name=~regex or name!~regex",
                                 param_hint="--match")
    try:  # _MATCH's second group is one of the four operators
        return Matcher(name=found.group(1), op=cast("MatchOp", found.group(2)), value=found.group(3))
    except ValidationError as exc:  # a regex that does not compile: the matcher's own words
        reasons = "; ".join(str(e["msg"]).removeprefix("Value error, ") for e in exc.errors())
        raise click.BadParameter(f"{text!r}: {reasons}", param_hint="--match") from None


def parse_duration(text: str) -> timedelta:
    """``30m``, ``2h``, ``7d``, ``1w``."""
    found = _SPAN.match(text.strip())
    if not found or int(found.group(1)) == 0:
        raise click.BadParameter(f"{text!r}: expected a positive span such as 30m, 2h or 7d", param_hint="--duration")
    return timedelta(seconds=int(found.group(1)) * _UNIT[found.group(2)])


def read_silences(kafka: KafkaSettings, timeout_s: float = 10.0) -> dict[str, Silence]:
    """The latest record per silence id (tombstones remove it), read up to the topic's end."""
    from kafka import KafkaConsumer

    from deskwatch.topics import read_to_end

    consumer = KafkaConsumer(enable_auto_commit=False, client_id="deskwatch-cli", **kafka_python_options(kafka))
    try:
        latest: dict[str, Silence] = {}
        for records in read_to_end(consumer, SILENCES.name(kafka), timeout_s=timeout_s):
            for r in records:
                if r.value is None:
                    latest.pop(r.key.decode(), None)
                else:
                    latest[r.key.decode()] = Silence.model_validate_json(r.value)
        return latest
    finally:
        consumer.close()


@click.group()
def silence() -> None:
    """Mute matching incidents for a while; they are still tracked."""


@silence.command("add")
@click.option("--match", "matches", multiple=True, required=True, help="name=value (also !=, =~, !~); repeatable")
@click.option("--duration", required=True, help="how long: 30m, 2h, 7d")
@click.option("--comment", default="")
@actor_option
@pass_context
def add(ctx: Context, matches: tuple[str, ...], duration: str, comment: str, actor: str | None) -> None:
    """Silence incidents matching every --match for --duration from now."""
    now = datetime.now(UTC)
    record = Silence(id=uuid.uuid4().hex[:16], matchers=[parse_matcher(m) for m in matches], starts_at=now,
                     ends_at=now + parse_duration(duration), created_by=_actor(actor), comment=comment)
    publish(ctx.settings, SILENCES.name(ctx.settings.kafka), record.id, record.model_dump_json().encode())
    click.echo(f"silence {record.id} until {record.ends_at.isoformat(timespec='seconds')}")


def _state(s: Silence, now: datetime) -> str:
    return "active" if s.active_at(now) else ("pending" if now < s.starts_at else "expired")


@silence.command("list")
@click.option("--all", "show_all", is_flag=True, help="include expired silences")
@pass_context
def list_(ctx: Context, show_all: bool) -> None:
    """Silences on the topic (active and pending; --all adds expired ones)."""
    now = datetime.now(UTC)
    for s in sorted(read_silences(ctx.settings.kafka).values(), key=lambda s: (s.ends_at, s.id)):
        state = _state(s, now)
        if state == "expired" and not show_all:
            continue
        matchers = " ".join(f"{m.name}{m.op}{m.value}" for m in s.matchers)
        click.echo(f"{s.id}  {state:<7}  until {s.ends_at.isoformat(timespec='seconds')}  by {s.created_by}  "
                   f"{matchers}" + (f"  # {s.comment}" if s.comment else ""))


@silence.command("expire")
@click.argument("silence_id")
@actor_option
@pass_context
def expire(ctx: Context, silence_id: str, actor: str | None) -> None:
    """End SILENCE_ID now (a new record of it with ends_at = now)."""
    current = read_silences(ctx.settings.kafka).get(silence_id)
    if current is None:
        raise SilenceNotFoundError(f"no silence {silence_id!r} on {SILENCES.name(ctx.settings.kafka)}")
    now = datetime.now(UTC)
    note = f"expired by {_actor(actor)} at {now.isoformat(timespec='seconds')}"
    ended = current.model_copy(update={"ends_at": now, "starts_at": min(current.starts_at, now - timedelta(seconds=1)),
                                       "comment": f"{current.comment} [{note}]".strip()})
    Silence.model_validate(ended.model_dump())  # the copy skips validation: check it is still a Silence
    publish(ctx.settings, SILENCES.name(ctx.settings.kafka), ended.id, ended.model_dump_json().encode())
    click.echo(f"silence {ended.id} {note}")
