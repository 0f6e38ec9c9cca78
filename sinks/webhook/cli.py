"""``deskwatch webhook run``: POST every incident change to the configured URLs until SIGTERM/SIGINT."""

from __future__ import annotations

import signal
import threading

import click

from deskwatch.context import Context, pass_context


@click.group()
def webhook() -> None:
    """Deliver incident changes to HTTP receivers (signed, retried, dead-lettered)."""


@webhook.command("run")
@pass_context
def webhook_run(ctx: Context) -> None:
    """Consume incident-changes and POST each to every webhook.urls entry."""
    from deskwatch.cli import EX_CONFIG
    from deskwatch.sinks.webhook.relay import WebhookConfigError, WebhookRelay

    try:
        relay = WebhookRelay(ctx.settings)
    except WebhookConfigError as err:  # a setting to fix, as for the processor's rule files: status 78
        click.echo(f"deskwatch: the webhook relay cannot start: {err}", err=True)
        click.get_current_context().exit(EX_CONFIG)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    relay.start()
    try:
        relay.run(stop)
    finally:  # asked to stop: out of its group too when the settings say so
        relay.close(leave_group=stop.is_set() and ctx.settings.webhook.leave_group_on_stop)
    click.echo(f"webhook stopped: {dict(relay.counts)}")
