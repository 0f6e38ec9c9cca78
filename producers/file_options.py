"""What every command that reads log files shares (``deskwatch produce``, ``ingest tail``,
``rules whatif``): its ``--format`` option, the ``--host``, ``--year`` and ``--tz`` a format may
lack, and the line it prints when a file's format cannot be told.

One declaration, so the three commands accept the same names, check a zone the same way (a clear
usage error, never a traceback) and give the same way out of an unknown format.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click

F = TypeVar("F", bound=Callable[..., object])  # the command a decorator wraps


def format_option(formats: Iterable[str], help: str) -> Callable[[F], F]:
    """``--format``: ``auto`` (sniffed) or one of ``formats``, passed as ``fmt``."""
    return click.option("--format", "fmt", type=click.Choice(["auto", *formats]), default="auto",
                        show_default=True, help=help)


def _zone(_ctx: click.Context, _param: click.Parameter, value: str) -> ZoneInfo:
    try:
        return ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise click.BadParameter(f"{value!r} is not a time zone (e.g. UTC, Europe/Paris)") from None


def lacking_options(command: F) -> F:
    """``--host``, ``--year`` and ``--tz`` (a ``ZoneInfo``): what a line's format may not carry."""
    for option in reversed((
        click.option("--host", default=None, help="host name for lines that carry none (else producer.default_host)"),
        click.option("--year", type=int, default=None, help="year for formats without one (default: inferred)"),
        click.option("--tz", default="UTC", show_default=True, callback=_zone,
                     help="zone of timestamps that carry none"),
    )):
        command = option(command)
    return command


def cannot_tell(exc: Exception) -> str:
    """An unknown format's message (``detect_format``'s), with the way out."""
    return f"{exc} (name it with --format)"
