"""``deskwatch produce``: publish files or standard input as host envelopes."""

from __future__ import annotations

import io
import sys
import zipfile
from collections.abc import Callable, Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, BinaryIO, cast
from zoneinfo import ZoneInfo

import click
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from deskwatch.context import Context, pass_context
from deskwatch.producers.envelope import WireEnveloper
from deskwatch.producers.file_options import cannot_tell, format_option, lacking_options
from deskwatch.producers.ingest import IngestCounts, ingest_records
from deskwatch.producers.parse.contract import ParseResult, SourceContext, UnknownFormatError
from deskwatch.producers.parse.dispatch import PARSERS, choose_format, member_name, sniff_head, zip_members
from deskwatch.producers.parse.encode import EncodeResult, encode_lines
from deskwatch.producers.publish import Publisher
from deskwatch.producers.sources.cli import envelope_limits, summary
from deskwatch.settings import ProducerSettings, TailSettings
from deskwatch.topics import ensure_topics

console = Console(stderr=True)


@click.command()
@click.argument("paths", nargs=-1, type=click.Path(exists=True, dir_okay=False, allow_dash=True, path_type=Path))
@format_option(PARSERS, "auto: told from each file's first lines, then its extension")
@lacking_options
@click.option("--follow", is_flag=True, help="follow one file like 'deskwatch ingest tail' (checkpointed)")
@pass_context
def produce(ctx: Context, paths: tuple[Path, ...], fmt: str, host: str | None, year: int | None, tz: ZoneInfo,
            follow: bool) -> None:
    """Publish PATHS (or '-' for standard input) to the events topic; rejects go to the dead-letter topic."""
    settings = ctx.settings
    if follow:
        from deskwatch.producers.sources.cli import tail_file

        if len(paths) != 1 or str(paths[0]) == "-":
            raise click.UsageError("--follow takes exactly one file path")
        click.echo(summary(tail_file(settings, paths[0], fmt, until_eof=False, host=host, year=year, tz=tz)))
        return
    ensure_topics(settings.kafka)
    publisher = Publisher(settings.kafka, settings.producer)
    totals, unread = [], []
    try:
        for path in paths or (Path("-"),):
            for source, opener, size in _sources(path):
                source_ctx = SourceContext(source=source, default_host=host or settings.producer.default_host,
                                           year=year, tz=tz, reference_time=_reference_time(path))
                try:
                    totals.append(_produce_one(path, opener, size, fmt, source_ctx, publisher, settings.producer,
                                               settings.tail))
                except UnknownFormatError as exc:  # nothing of it was read: said, and the next one goes on
                    unread.append(cannot_tell(exc))
    finally:
        publisher.close()
    for c in totals:
        click.echo(summary(c))
    for line in unread:
        click.echo(f"Error: {line}", err=True)
    if unread:
        raise SystemExit(1)


def _sources(path: Path) -> Iterator[tuple[str, Callable[[], io.BufferedReader[Any]], int | None]]:
    """(source name, opener, size) of a path: a file, standard input, or each file in a zip archive."""
    if str(path) == "-":
        yield "-", lambda: cast(io.BufferedReader, sys.stdin.buffer), None  # typeshed says BinaryIO
    elif path.suffix.lower() == ".zip":
        yield from zip_members(path, zipfile.ZipFile(path))  # open while its members' openers live
    else:
        yield str(path), lambda: open(path, "rb"), path.stat().st_size  # noqa: SIM115


def _produce_one(path: Path, opener: Callable[[], io.BufferedReader[Any]], size: int | None, fmt: str, ctx: SourceContext,
                 publisher: Publisher, ps: ProducerSettings, ts: TailSettings) -> IngestCounts:
    enveloper = WireEnveloper(envelope_limits(ps), ctx.source)
    # A file is a backlog (close envelopes by size, bounded like the tail); standard input may be live.
    max_open = None if ctx.source == "-" else ts.max_open_events
    with opener() as stream, Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[n]} records"),
                                         TimeElapsedColumn(), console=console, transient=True) as bar:
        task = bar.add_task(ctx.source, total=size, n=0)
        chosen = choose_format(fmt, member_name(path, ctx.source), sniff_head(stream, fmt))

        def progress(c: IngestCounts) -> None:
            bar.update(task, completed=stream.tell() if size else None, n=c.read)

        return ingest_records(_parsed(stream, chosen, ctx), ctx.source, publisher, enveloper, on_progress=progress,
                              max_open_events=max_open)


def _parsed(stream: BinaryIO, fmt: str, ctx: SourceContext) -> Iterator[tuple[int | str, bytes, ParseResult | EncodeResult]]:
    if fmt == "evtx":
        from deskwatch.producers.parse.evtx_file import read_evtx, read_evtx_stream

        on_disk = Path(ctx.source)
        # A file given by path is read in place; a zip archive's member or standard input is copied first.
        yield from read_evtx(on_disk, ctx) if ctx.source != "-" and on_disk.is_file() else read_evtx_stream(stream, ctx)
        return
    yield from encode_lines(enumerate(stream, start=1), fmt, ctx)  # host and JSON bytes, no model kept


def _reference_time(path: Path) -> datetime:
    """A file's mtime (year inference for formats without a year); now for standard input."""
    if str(path) == "-":
        return datetime.now(timezone.utc)
    return datetime.fromtimestamp(path.stat().st_mtime, timezone.utc)
