"""``deskwatch ingest …`` (tail, drop folder, syslog, HTTP) and ``deskwatch inventory publish``."""

from __future__ import annotations

from datetime import UTC, datetime, tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

import click
from deskwatch.producers.envelope import EnvelopeLimits
from deskwatch.producers.file_options import cannot_tell, format_option, lacking_options
from deskwatch.producers.ingest import IngestCounts
from deskwatch.producers.parse.contract import SourceContext, UnknownFormatError
from deskwatch.producers.parse.dispatch import PARSERS, SNIFF_BYTES, detect_format
from deskwatch.producers.publish import Publisher
from deskwatch.producers.sources.stop import StopFlag
from deskwatch.producers.sources.tail import FileTail, TailOptions
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

from deskwatch.context import Context, pass_context
from deskwatch.settings import ProducerSettings, Settings
from deskwatch.topics import ensure_topics

console = Console(stderr=True)


def envelope_limits(ps: ProducerSettings) -> EnvelopeLimits:
    """Envelope limits from the producer section."""
    return EnvelopeLimits(ps.batch_max_events, ps.batch_max_bytes, ps.linger_ms / 1000)


def summary(c: IngestCounts) -> str:
    """One line of per-source counts: read / published / rejected by reason."""
    reasons = ", ".join(f"{r}={n}" for r, n in sorted(c.rejected.items())) or "-"
    line = f"{c.source}: read={c.read} published={c.accepted} rejected={c.rejected_total} ({reasons})"
    if c.rejected.get("missing_host") and not c.accepted:  # e.g. CBS lines, which name no host
        line += "\n  none of its lines names a host: give one with --host (or producer.default_host)"
    return line


# What a tail can follow: every format read line by line (an evtx file is read whole, by produce).
LINE_FORMATS = tuple(f for f in PARSERS if f != "evtx")


def tail_file(settings: Settings, path: Path, fmt: str, until_eof: bool, *, host: str | None = None,
              year: int | None = None, tz: tzinfo = UTC) -> IngestCounts:
    """Follow ``path`` (or read it to its end) with a checkpoint; flush and exit on SIGTERM."""
    ensure_topics(settings.kafka)
    if fmt == "auto":
        with open(path, "rb") as head:
            try:
                fmt = detect_format(path, head.read(SNIFF_BYTES))
            except UnknownFormatError as exc:
                raise click.ClickException(cannot_tell(exc)) from None
    if fmt == "evtx":
        raise click.ClickException(f"{path}: an evtx file is read whole, not followed: use deskwatch produce")
    context = SourceContext(source=str(path), default_host=host or settings.producer.default_host, year=year,
                            tz=tz, reference_time=datetime.now(UTC))
    options = TailOptions(path, fmt, context, envelope_limits(settings.producer), until_eof)
    publisher = Publisher(settings.kafka, settings.producer, settings.tail.max_in_flight)
    stop = StopFlag().install()
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.fields[n]} lines"),
                      TimeElapsedColumn(), console=console, transient=True) as bar:
            task = bar.add_task(str(path), total=max(path.stat().st_size, 1), n=0)

            def progress(c: IngestCounts, position: int) -> None:
                bar.update(task, completed=position, total=max(path.stat().st_size, position), n=c.read)

            return FileTail(options, settings.tail, publisher).run(stop, progress)
    finally:
        publisher.close()


@click.group()
def ingest() -> None:
    """Long-running sources: file tail, drop folder, syslog and HTTP listeners."""


@ingest.command("tail")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@format_option(LINE_FORMATS, "auto: told from the file's first lines, then its extension")
@lacking_options
@click.option("--until-eof", is_flag=True, help="stop at the end of the file instead of following it")
@pass_context
def tail(ctx: Context, path: Path, fmt: str, host: str | None, year: int | None, tz: ZoneInfo, until_eof: bool) -> None:
    """Follow PATH across rotation and truncation; resumes from its checkpoint after a restart."""
    click.echo(summary(tail_file(ctx.settings, path, fmt, until_eof, host=host, year=year, tz=tz)))


def _serve(ctx: Context, which: str) -> None:
    import asyncio

    from deskwatch.producers.sources.serve import serve_http, serve_syslog

    settings = ctx.settings
    ensure_topics(settings.kafka)
    publisher = Publisher(settings.kafka, settings.producer, settings.tail.max_in_flight)
    run = serve_syslog if which == "syslog" else serve_http
    try:
        done = asyncio.run(run(settings, publisher, envelope_limits(settings.producer)))
    finally:
        publisher.close()
    reasons = ", ".join(f"{r}={n}" for r, n in sorted(done.rejected.items())) or "-"
    click.echo(f"{which}: read={done.read} published={done.accepted} "
               f"rejected={sum(done.rejected.values())} ({reasons})")


@ingest.command("serve-syslog")
@pass_context
def serve_syslog_command(ctx: Context) -> None:
    """Listen for syslog on UDP and TCP (settings section ``syslog``) until SIGTERM."""
    _serve(ctx, "syslog")


@ingest.command("serve-http")
@pass_context
def serve_http_command(ctx: Context) -> None:
    """Serve POST /v1/events (NDJSON, bearer token; settings section ``http_ingest``) until SIGTERM."""
    _serve(ctx, "http")


@click.group()
def inventory() -> None:
    """Inventory exports (GLPI / Active Directory)."""


@inventory.command("publish")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@pass_context
def inventory_publish(ctx: Context, file: Path) -> None:
    """Publish FILE's assets to the compacted inventory topic (key = host); bad rows to the dead-letter topic."""
    from deskwatch.producers.sources.inventory_publish import publish_inventory

    ensure_topics(ctx.settings.kafka)
    c = publish_inventory(file, ctx.settings.kafka)
    reasons = ", ".join(f"{r}={n}" for r, n in sorted(c.rejected.items())) or "-"
    click.echo(f"{c.source}: read={c.read} published={c.published} rejected={sum(c.rejected.values())} ({reasons})")


@ingest.command("drop-folder")
@click.argument("folder", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--host", default=None, help="host name for lines that carry none")
@click.option("--once", is_flag=True, help="ingest what is there now, then exit")
@pass_context
def drop_folder(ctx: Context, folder: Path, host: str | None, once: bool) -> None:
    """Ingest each .evtx / .jsonl / .log file dropped into FOLDER once, then move it into done/."""
    from deskwatch.producers.sources.drop_folder import DropFolder, DropOutcome

    settings = ctx.settings
    ensure_topics(settings.kafka)
    publisher = Publisher(settings.kafka, settings.producer, settings.tail.max_in_flight)

    def report(o: DropOutcome) -> None:
        click.echo(summary(o.counts) if o.counts else f"{o.name}: {o.status} {o.detail}".rstrip(), nl=True)

    tail_settings = settings.tail.model_copy(update={"drop_settle_s": 0.0}) if once else settings.tail
    try:
        drop = DropFolder(folder, tail_settings, publisher, envelope_limits(settings.producer),
                          host or settings.producer.default_host)
        if once:
            for outcome in drop.scan():
                report(outcome)
        else:
            drop.run(StopFlag().install(), report)
    finally:
        publisher.close()
