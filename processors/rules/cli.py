"""``deskwatch rules check|whatif``: validate rule files, and replay past events under a candidate
rule set to see which incidents it would open, close or change before it goes live."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import click

from deskwatch.context import Context, pass_context
from deskwatch.producers.file_options import cannot_tell, format_option, lacking_options
from deskwatch.producers.parse.dispatch import PARSERS

if TYPE_CHECKING:
    from deskwatch.processors.evaluate.whatif import WhatIf
    from deskwatch.processors.rules import RuleSet
    from deskwatch.processors.rules.host_change import ChangeDefinition
    from deskwatch.producers.parse.contract import SourceContext
    from deskwatch.schemas.asset import Asset
    from deskwatch.schemas.event import WorkstationEvent
    from deskwatch.settings import Settings

MAX_EVENTS = 2_000_000  # what-if holds its events in memory, sorted by event time (~1 KB each)
_FILES = click.Path(exists=True, dir_okay=False, path_type=Path)
_PATHS = click.Path(exists=True, path_type=Path)  # a file, or a folder of them


@click.group()
def rules() -> None:
    """Rule packs: check them, and see what a change would do before it goes live."""


def _load(paths: Sequence[Path]) -> RuleSet:
    """The rules of these files and folders' ``*.yaml`` / ``*.yml`` as one set; none: the default pack."""
    from deskwatch.processors.rules import RuleError, load_configured

    files = _files_in(paths, lambda x: x.suffix in (".yaml", ".yml"))
    if paths and not files:
        raise click.ClickException(f"no .yaml or .yml rule files in {', '.join(map(str, paths))}")
    try:
        return load_configured(files)
    except (RuleError, OSError) as exc:
        raise click.ClickException(str(exc)) from None


def change_definitions(path: str | Path | None) -> list[ChangeDefinition]:
    """The change definitions of ``path`` (the shipped set when None); a bad file is a clear error."""
    from deskwatch.processors.rules import RuleError
    from deskwatch.processors.rules.host_change import load_changes

    try:
        return load_changes(path)
    except (RuleError, OSError) as exc:
        raise click.ClickException(str(exc)) from None


@rules.command("check")
@click.argument("files", nargs=-1, type=_PATHS)
def check(files: tuple[Path, ...]) -> None:
    """Validate rule FILES (or folders of them) as one set (none: the default pack); exit 1 naming the
    file, rule and field."""
    loaded = _load(files)
    click.echo(f"{len(loaded)} rules valid ({loaded.source}): {', '.join(loaded.ids)}")


@rules.command("whatif")
@click.option("--candidate", "candidate_files", multiple=True, required=True, type=_PATHS,
              help="the candidate rule set: a YAML file or a folder of them (repeatable)")
@click.option("--current", "current_files", multiple=True, type=_PATHS,
              help="the rules in service (repeatable; default: processor.rule_files, else the default pack)")
@click.option("--events", "event_files", multiple=True, type=_PATHS,
              help="log files in any format `deskwatch produce` reads: evtx, ECS or NXLog JSON, syslog, CBS, "
                   "JSON lines of events, zip archives of them; or folders of them (repeatable)")
@format_option(PARSERS, "the files' format (auto: sniffed per file, as `deskwatch produce` does)")
@lacking_options
@click.option("--topic", "from_topic", is_flag=True, help="read the events topic from its start to its current end")
@click.option("--inventory", type=_FILES, default=None, help="the inventory export the processor follows (CSV/JSON)")
@click.option("--details", type=click.IntRange(0), default=10, show_default=True,
              help="incidents listed per kind of difference")
@click.option("--max-events", default=MAX_EVENTS, show_default=True, help="refuse to hold more events than this")
@click.option("--shadow", default=None, callback=lambda _c, _p, v: _shadow_name(v),
              help="also write both runs' incidents to shadow indices <prefix>-whatif-NAME-current|candidate-* "
                   "(replaced on every run of that NAME) to search and compare them in Kibana")
@pass_context
def whatif(ctx: Context, candidate_files: tuple[Path, ...], current_files: tuple[Path, ...],
           event_files: tuple[Path, ...], fmt: str, host: str | None, year: int | None, tz: ZoneInfo, from_topic: bool,
           inventory: Path | None, details: int, max_events: int, shadow: str | None) -> None:
    """Replay past events under the rules in service and under a candidate; print the incidents that
    differ (not opened any more, new, changed), per rule. Nothing is written, but to the shadow
    indices --shadow names."""
    from deskwatch.processors.evaluate.whatif import render, what_if

    if bool(event_files) == from_topic:
        raise click.UsageError("give --events FILE (repeatable) or --topic, not both and not neither")
    current = _load(current_files or tuple(ctx.settings.processor.rule_files))
    candidate = _load(candidate_files)
    changes = change_definitions(ctx.settings.processor.change_file)
    if shadow is not None:
        _check_reachable(ctx.settings)  # before the replay, which can take minutes, not after it
    assets = _assets(inventory)
    if from_topic:
        read = _from_topic(ctx.settings)
    else:
        read = _from_files(_log_files(event_files), fmt, _contexts(host or ctx.settings.producer.default_host, year, tz))
    events = list(_capped(read, max_events))
    click.echo(f"rules in service: {_named(current_files) or current.source} ({len(current)} rules); candidate: "
               f"{_named(candidate_files)} ({len(candidate)} rules); "
               f"inventory: {len(assets)} hosts" + ("" if assets else " (no --inventory: no site or population)"),
               err=True)
    result = what_if(events, assets, current, candidate, changes=changes)
    for line in render(result, details):
        click.echo(line)
    if shadow is not None:
        _write_shadow(ctx.settings, shadow, result)


@rules.command("drop-shadow")
@click.argument("name", callback=lambda _c, _p, v: _shadow_name(v))
@pass_context
def drop_shadow_command(ctx: Context, name: str) -> None:
    """Delete the shadow indices (and their templates) of `rules whatif --shadow NAME`."""
    from deskwatch.connect import elasticsearch_client
    from deskwatch.sinks.elasticsearch.shadow import drop_shadow

    client = elasticsearch_client(ctx.settings.elasticsearch)
    try:
        deleted = drop_shadow(client, ctx.settings.elasticsearch, name)
    finally:
        client.close()
    click.echo(f"shadow {name}: {len(deleted)} indices deleted" + (f" ({', '.join(deleted)})" if deleted else ""))


def _shadow_name(value: str | None) -> str | None:
    from deskwatch.sinks.elasticsearch.shadow import ShadowError, check_shadow_name

    try:
        return None if value is None else check_shadow_name(value)
    except ShadowError as exc:
        raise click.BadParameter(str(exc)) from None


def _check_reachable(settings: Settings) -> None:
    """Ask Elasticsearch its cluster health (``GET /`` is missing from the integ-test build):
    unreachable, the CLI says so and exits 69."""
    from deskwatch.connect import elasticsearch_client

    client = elasticsearch_client(settings.elasticsearch)
    try:
        client.cluster.health()
    finally:
        client.close()


def _write_shadow(settings: Settings, name: str, result: WhatIf) -> None:
    """Both runs' incidents and transitions into the shadow indices of ``name``, replacing them."""
    from deskwatch.connect import elasticsearch_client
    from deskwatch.sinks.elasticsearch.shadow import ShadowError, drop_shadow, write_shadow

    es = settings.elasticsearch
    client = elasticsearch_client(es)
    try:
        drop_shadow(client, es, name)
        sides = [write_shadow(client, es, name, "current", result.before.values(), result.before_changes,
                              settings.sink.retry_max_backoff_s),
                 write_shadow(client, es, name, "candidate", result.after.values(), result.after_changes,
                              settings.sink.retry_max_backoff_s)]
    except ShadowError as exc:
        raise click.ClickException(str(exc)) from None
    finally:
        client.close()
    click.echo("")
    for side in sides:
        click.echo(f"shadow {side.side:<9}  {side.index_prefix}-incidents ({side.incidents} incidents), "
                   f"{side.index_prefix}-incident-history ({side.transitions} transitions)")
    click.echo(f"read them with DESKWATCH_ELASTICSEARCH__INDEX_PREFIX={sides[1].index_prefix} deskwatch search ...; "
               f"delete them with deskwatch rules drop-shadow {name}")


def _named(paths: Sequence[Path]) -> str:
    return ", ".join(map(str, paths))


def _assets(path: Path | None) -> list[Asset]:
    if path is None:
        return []
    from deskwatch.producers.inventory import read_inventory

    assets, rejected = read_inventory(path)
    for row in rejected[:5]:
        click.echo(f"inventory: {row}", err=True)
    return assets


def _capped(events: Iterator[WorkstationEvent], cap: int) -> Iterator[WorkstationEvent]:
    for n, event in enumerate(events, start=1):
        if n > cap:
            raise click.ClickException(f"more than {cap} events: narrow the input or raise --max-events")
        yield event


def _files_in(paths: Sequence[Path], keep: Callable[[Path], bool]) -> list[Path]:
    """Files as given; of a folder, the entries ``keep`` takes, by name (its sub-folders are not read)."""
    return [f for p in paths for f in (sorted(x for x in p.iterdir() if keep(x)) if p.is_dir() else [p])]


def _log_files(paths: Sequence[Path]) -> list[Path]:
    """Files as given; a folder's files (not hidden, not in sub-folders), by name."""
    found = _files_in(paths, lambda x: x.is_file() and not x.name.startswith("."))
    if not found:
        raise click.ClickException(f"no files in {', '.join(map(str, paths))}")
    return found


def _contexts(host: str | None, year: int | None, tz: ZoneInfo) -> Callable[[Path], SourceContext]:
    """Each file's parsing context, as `deskwatch produce` makes it (its mtime infers missing years)."""
    from datetime import UTC, datetime

    from deskwatch.producers.parse.contract import SourceContext

    return lambda path: SourceContext(source=str(path), default_host=host, year=year, tz=tz,
                                      reference_time=datetime.fromtimestamp(path.stat().st_mtime, UTC))


def _from_files(paths: Sequence[Path], fmt: str, context: Callable[[Path], SourceContext]) -> Iterator[WorkstationEvent]:
    """Each file's events, parsed as `deskwatch produce` parses them; a rejected record is skipped
    and said (file, position, reason; then a count per reason), as the producers dead-letter it."""
    from collections import Counter

    from rich.console import Console
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    from deskwatch.producers.parse.contract import ParseError, Rejected
    from deskwatch.producers.parse.dispatch import parse_file

    columns = (SpinnerColumn(), TextColumn("{task.description}"), TextColumn("{task.fields[n]} records"),
               TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as bar:
        for path in paths:
            task, reasons = bar.add_task(str(path), n=0), Counter[str]()
            try:
                for n, (position, _, result) in enumerate(parse_file(path, context(path), fmt), start=1):
                    if n % 1000 == 0:
                        bar.update(task, n=n)
                    if isinstance(result, Rejected):
                        reasons[result.reason] += 1
                        if reasons.total() <= 5:
                            bar.console.print(f"{path}:{position}: skipped, {result.reason}: {result.detail}",
                                              markup=False, highlight=False, soft_wrap=True)
                    else:
                        yield result
            except ParseError as exc:
                raise click.ClickException(cannot_tell(exc)) from None
            bar.remove_task(task)
            if reasons:
                click.echo(f"{path}: {reasons.total()} records skipped ("
                           + ", ".join(f"{reason} {count}" for reason, count in reasons.most_common()) + ")", err=True)


def _from_topic(settings: Settings) -> Iterator[WorkstationEvent]:
    """Every event of every envelope on the events topic, from its start to its end when asked (and
    what a last fetch brought beyond it)."""
    from kafka import KafkaConsumer
    from pydantic import ValidationError

    from deskwatch.connect import kafka_python_options
    from deskwatch.schemas.envelope import EventBatch, decode_events_record
    from deskwatch.topics import read_to_end
    from deskwatch.topology import EVENTS

    topic = EVENTS.name(settings.kafka)
    consumer = KafkaConsumer(client_id="deskwatch-whatif", enable_auto_commit=False,
                             **kafka_python_options(settings.kafka))
    try:
        if not consumer.partitions_for_topic(topic):
            raise click.ClickException(f"no topic {topic!r}: nothing to replay")
        bad = 0
        for records in read_to_end(consumer, topic, poll_ms=1000):
            for record in records:
                if record.value is None:
                    continue
                try:
                    batch = decode_events_record(record.value)
                except ValidationError:
                    bad += 1
                    continue
                if isinstance(batch, EventBatch):
                    yield from batch.events
        if bad:
            click.echo(f"{topic}: {bad} records skipped, not envelopes (the processor dead-letters them)", err=True)
    finally:
        consumer.close()
