"""The ``deskwatch`` command: one entry point, subcommands contributed by each component."""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

import click
import yaml
from pydantic import ValidationError

from deskwatch.connect import CREDENTIALS_CHECK
from deskwatch.context import Context, pass_context
from deskwatch.logs import configure_logging
from deskwatch.settings import load_settings

if TYPE_CHECKING:
    from deskwatch.settings import Settings

__all__ = ["Context", "main", "pass_context"]


# sysexits.h EX_UNAVAILABLE: a service the command needs is unavailable. A supervisor or a script
# can tell "start the engines, then retry" from other failures.
EX_UNAVAILABLE = 69
EX_NOPERM = 77  # sysexits.h: an engine answered and refused the credentials, or the permission
EX_CONFIG = 78  # sysexits.h: the configuration is missing or wrong


def settings_problem(exc: BaseException) -> str:
    """What is wrong with the settings, naming each bad field but never its value (a mistyped
    secret would otherwise be printed)."""
    if isinstance(exc, ValidationError):
        return "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
                         for e in exc.errors(include_input=False, include_url=False))
    if isinstance(exc, OSError) and exc.filename is not None:
        return f"{exc.strerror}: {exc.filename} (DESKWATCH_CONFIG)"
    if isinstance(exc, yaml.YAMLError):  # where in the file, over several lines: keep them, on one
        return f"not YAML: {' '.join(str(exc).split())}"
    return _first_line(exc)


# Each subcommand's module, imported only when that command runs (or --help lists them all): the
# components import Kafka, Elasticsearch and faust clients a command mostly does not need. Decision:
# lazy, because `deskwatch produce` spent ~1 s of its start importing them all (python -X importtime:
# deskwatch.cli 1.9 s against deskwatch.producers.cli 0.8 s on a loaded machine), inside every
# script's, supervisor's and the end-to-end bench's clock. tests/deskwatch/test_cli.py checks
# that every name here is the command's own.
COMMANDS: dict[str, tuple[str, str]] = {
    "demo": ("deskwatch.demo_cli", "demo"),
    "evaluate": ("deskwatch.processors.evaluate.cli", "evaluate"),
    "incident": ("deskwatch.incident_cli", "incident"),
    "ingest": ("deskwatch.producers.sources.cli", "ingest"),
    "inventory": ("deskwatch.producers.sources.cli", "inventory"),
    "kibana": ("deskwatch.sinks.kibana.cli", "kibana"),
    "members": ("deskwatch.members_cli", "members"),
    "processor": ("deskwatch.processors.cli", "processor"),
    "produce": ("deskwatch.producers.cli", "produce"),
    "rules": ("deskwatch.processors.rules.cli", "rules"),
    "search": ("deskwatch.sinks.cli", "search"),
    "silence": ("deskwatch.silence_cli", "silence"),
    "sink": ("deskwatch.sinks.cli", "sink"),
    "stack": ("deskwatch.stack.cli", "stack"),
    "tail": ("deskwatch.tail_cli", "tail"),
    "topics": ("deskwatch.topics_cli", "topics"),
    "webhook": ("deskwatch.sinks.webhook.cli", "webhook"),
}


class _Main(click.Group):
    """The command group; an engine that cannot be reached is one clear line and status 69.

    Without this, a command started while Kafka or Elasticsearch is down (or at a wrong address)
    ends in a library's traceback. Only "could not connect at all" is turned into a message; any
    other error stays as it is. Subcommands are imported on first use (``COMMANDS``).
    """

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(COMMANDS.keys() | self.commands.keys())

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            module, attribute = COMMANDS[cmd_name]
            command: click.Command = getattr(importlib.import_module(module), attribute)
            self.add_command(command, cmd_name)
        return self.commands.get(cmd_name)

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except Exception as exc:
            if ctx.obj is None:  # main() stopped before any settings were read (its own exit 78)
                raise
            if isinstance(exc, (click.exceptions.Exit, click.exceptions.Abort, click.ClickException)):
                raise  # click's own: --help, a usage error, Ctrl-C at a prompt. Nothing an engine said,
                # and reading it as one imported the Elasticsearch client (~0.4 s) for every --help
            settings = ctx.obj.settings
            refusal = refused_credentials(exc, settings)
            if refusal is not None:
                click.echo(f"deskwatch: {refusal}", err=True)
                ctx.exit(EX_NOPERM)
            engine = unreachable_engine(exc)
            if engine is None:
                raise
            where = settings.kafka.bootstrap_servers if engine == "Kafka" else settings.elasticsearch.url
            click.echo(f"deskwatch: cannot reach {engine} at {where}: {type(exc).__name__}: {_first_line(exc)}\n"
                       f"Is it running? 'deskwatch stack status' shows the local engines; "
                       f"'deskwatch stack up' starts them.", err=True)
            ctx.exit(EX_UNAVAILABLE)


def refused_credentials(exc: BaseException, settings: Settings) -> str | None:
    """What an engine refused, when ``exc`` says it answered and refused this command's credentials
    (Elasticsearch 401, Kafka SASL) or a permission (Elasticsearch 403): one line naming the
    engine, the user and the engine's reason, never a secret. None for any other error."""
    from elasticsearch import AuthenticationException, AuthorizationException

    from deskwatch.connect import es_reason
    from deskwatch.logs import KAFKA_REFUSALS

    es = settings.elasticsearch
    who = (f"user {es.username!r}" if es.username else "its API key" if es.api_key else "no credentials")
    if isinstance(exc, AuthenticationException):
        return (f"Elasticsearch at {es.url} refused the credentials ({who}): {es_reason(exc)}. "
                f"Check elasticsearch.username and elasticsearch.password, or elasticsearch.api_key.")
    if isinstance(exc, AuthorizationException):
        return f"Elasticsearch at {es.url} does not permit this to {who}: {es_reason(exc)}"
    refused = KAFKA_REFUSALS.explains(exc)
    if refused is not None:
        k = settings.kafka
        return (f"Kafka at {k.bootstrap_servers} refused the credentials (SASL {k.sasl_mechanism}, user "
                f"{k.sasl_username!r}): {refused}. Check kafka.sasl_username and kafka.sasl_password.")
    return None


def unreachable_engine(exc: BaseException) -> str | None:
    """``"Kafka"`` or ``"Elasticsearch"`` when ``exc`` says the engine could not be connected to."""
    from elastic_transport import ConnectionError as EsConnectionError

    from deskwatch.connect import bootstrap_deadline

    if bootstrap_deadline(exc):
        return "Kafka"
    if isinstance(exc, EsConnectionError):
        return "Elasticsearch"
    return None


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().removeprefix(f"{type(exc).__name__}: ")  # kafka-python repeats the name
    return text.splitlines()[0] if text else ""


@click.group(cls=_Main)
@click.pass_context
def main(ctx: click.Context) -> None:
    """deskwatch: workstation events in, incidents out."""
    try:
        settings = load_settings()
    except (OSError, ValueError, yaml.YAMLError) as exc:  # pydantic's ValidationError is a ValueError
        click.echo(f"deskwatch: the settings cannot be read: {settings_problem(exc)}", err=True)
        ctx.exit(EX_CONFIG)
    configure_logging(settings.logging)
    CREDENTIALS_CHECK.enable()  # a refused Kafka password is said in seconds, not after 30 (deskwatch.connect)
    ctx.obj = Context(settings)
