"""``deskwatch kibana import``: load the shipped data views, searches and dashboard into Kibana."""

from __future__ import annotations

import click
from pydantic import SecretStr

from deskwatch.context import Context, pass_context


@click.group()
def kibana() -> None:
    """Kibana saved objects for deskwatch's indices."""


@kibana.command("import")
@click.option("--url", required=True, help="Kibana base URL, e.g. http://127.0.0.1:5601")
@click.option("--space", default=None, help="Kibana space id (default: the default space)")
@click.option("--user", default=None, help="basic-auth user")
@click.option("--password", default=None, help="basic-auth password (prompted when --user is given without it)")
@click.option("--api-key", default=None, help="encoded API key (wins over --user)")
@pass_context
def kibana_import(ctx: Context, url: str, space: str | None, user: str | None, password: str | None,
                  api_key: str | None) -> None:
    """Import (overwrite) the saved objects for this settings tree's index prefix."""
    from deskwatch.sinks.kibana.upload import (
        KibanaImportError,
        KibanaTarget,
        KibanaUnreachableError,
        import_objects,
        shipped_objects,
    )

    if user and password is None and not api_key:
        password = click.prompt(f"password for {user}", hide_input=True)
    target = KibanaTarget(url=url, space=space, username=user, password=SecretStr(password) if password else None,
                          api_key=SecretStr(api_key) if api_key else None)
    try:
        answer = import_objects(target, shipped_objects(ctx.settings.elasticsearch.index_prefix))
    except KibanaUnreachableError as err:  # as for the engines: "start it, then retry"
        from deskwatch.cli import EX_UNAVAILABLE

        click.echo(f"deskwatch: {err}", err=True)
        click.get_current_context().exit(EX_UNAVAILABLE)
    except KibanaImportError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"imported {answer.get('successCount', 0)} saved object(s) into {target.import_url().split('/api')[0]}")
