"""The Elasticsearch sink's and the webhook relay's identity in their groups: a static member, so a
restarted sink takes its partitions back without a rebalance.

Decision: static membership (Kafka's ``group.instance.id``) by default, as for the processor's
workers (``processors/group_member.py``, the reasons and the measure there). A sink restarted after
a crash joined as a new member, and the group waited for the old member's session to end before
anyone wrote again. The cost is the same as the workers': a sink stopped for good keeps its
partitions until its session times out, since a static member never leaves its group, unless it is
removed (``deskwatch members remove sink <id>``, deskwatch/members.py).

The id must be unique per live consumer, or the broker fences one of the two. A sink keeps no
state of its own to derive it from, so ``auto`` takes a *slot*: the lowest ``n`` whose lock file
``<state_dir>/<group>.<n>.lock`` no live process holds, and joins as ``<group>@<host>#<n>``. A sink
restarted after a crash finds its slot free again (the kernel dropped the lock) and rejoins as the
member it was; two sinks on one host take two slots. A state dir that cannot be written costs only
that speed: the sink says so and joins as a dynamic member, as before.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import IO

import structlog

from deskwatch.flock import try_lock

log = structlog.get_logger(__name__)

SLOTS = 64  # more sinks of one group on one host than any deployment runs


@dataclass
class Member:
    """The id a consumer joins with (None: a dynamic member) and the slot lock that keeps it unique."""

    instance_id: str | None
    lock: IO[str] | None = None

    def release(self) -> None:
        if self.lock is not None:
            self.lock.close()
            self.lock = None


def claim(instance_id: str, group_id: str, state_dir: Path, hostname: str, component: str) -> Member:
    """The member this process joins ``group_id`` as: ``instance_id`` "off" (dynamic), an explicit
    id (kept as given; its uniqueness is the operator's), or "auto" (a slot under ``state_dir``)."""
    if instance_id == "off":
        return Member(None)
    if instance_id != "auto":
        return Member(instance_id)
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        for n in range(SLOTS):
            if (lock := try_lock(state_dir / f"{group_id}.{n}.lock")) is not None:
                return Member(f"{group_id}@{hostname}#{n}", lock)
        why = f"all {SLOTS} member slots are taken"
    except OSError as err:
        why = f"{type(err).__name__}: {err.strerror or err}"
    log.warning(f"{component} joins as a dynamic member: a restart will wait for its old session to end",
                state_dir=str(state_dir), reason=why)
    return Member(None)
