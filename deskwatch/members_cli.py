"""``deskwatch members list|remove``: who reads deskwatch's topics, and taking a stopped one out."""

from __future__ import annotations

import click

from deskwatch.context import Context, pass_context
from deskwatch.members import ROLES, Group


@click.group()
def members() -> None:
    """The members of the processor's, the sink's and the webhook relay's consumer groups."""


def _lines(group: Group) -> list[str]:
    state = "Dead (unknown to the broker: never joined, or deleted)" if group.state == "Dead" else group.state
    head = f"{group.role}: group {group.group_id}, {state}, {len(group.members)} members"
    return [head] + [f"  {m.instance_id or '(dynamic)'}  partitions {m.partitions}  host {m.host}  "
                     f"client {m.client_id}  member {m.member_id}" for m in group.members]


@members.command("list")
@pass_context
def members_list(ctx: Context) -> None:
    """Each group's state and members: static id (or dynamic), partitions, host, client."""
    from deskwatch.members import describe

    for group in describe(ctx.settings):
        click.echo("\n".join(_lines(group)))


@members.command("remove")
@click.argument("role", type=click.Choice(ROLES))
@click.argument("instance_id")
@click.option("--reason", default="removed by deskwatch members remove", show_default=True,
              help="sent to the broker with the removal (its log keeps it)")
@pass_context
def members_remove(ctx: Context, role: str, instance_id: str, reason: str) -> None:
    """Remove the static member INSTANCE_ID of ROLE's group, so the members left take its
    partitions at once. For a component stopped for good: a static member never leaves its
    group when it stops, and keeps its partitions until its session times out. A member whose
    process still runs joins again (one more rebalance)."""
    from deskwatch.members import MemberRemovalError, remove

    try:
        before = remove(ctx.settings, role, instance_id, reason)
    except MemberRemovalError as exc:
        raise click.ClickException(str(exc)) from exc
    held = next(m.partitions for m in before.members if m.instance_id == instance_id)
    left = len(before.members) - 1
    click.echo(f"removed {instance_id} from {before.group_id}: "
               + (f"its {held} partitions go to the {left} members left" if left else
                  f"no member left: its {held} partitions wait for the next one to join"))
