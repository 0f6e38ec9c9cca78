"""What every ``deskwatch`` subcommand receives: the settings tree, read once at the entry point.

Kept apart from ``deskwatch.cli`` so a component's command module can import it without pulling in
the registration of every other component's commands (which would import it back).
"""

from __future__ import annotations

import click

from deskwatch.settings import Settings


class Context:
    """The settings tree, read once."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings


pass_context = click.make_pass_decorator(Context)
