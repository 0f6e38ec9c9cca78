"""The worker's table changelogs (and its inputs): created before it joins its group, and present in
every assignment.

faust creates a table's changelog topic while the worker starts, and its assignor leaves out a
subscribed topic the broker does not serve yet ("Ignoring missing topic"). A first worker whose
``groups`` changelog appeared a moment after its group's first assignment got no partition of it.
Nothing showed while it ran: the agents write their state records to the topic directly. But a
static member that comes back after a crash is handed its previous assignment, without the
assignor running again (processors/group_member.py): the restarted worker recovered no group at
all, and every group began again from nothing. Found by the soak test (tests/reliability/
test_soak.py), 1 run in ~4 with one SIGKILL: the live run ended one event short on each host
incident whose earlier signals came before the restart, and 14 incidents never opened. With three
SIGKILLs, 50 of 61 incidents differed from the replay (2026-12-05).

So: the worker creates its changelogs, and the topology's topics, before it joins (``prepare``),
drops from the group a static member of its own id whose assignment predates them (the group then
assigns afresh), and stops, committing nothing, if an assignment still leaves out a changelog or
input partition that goes with one it holds (``check``): processing without the state a
partition's changelog holds would write that emptiness back as state, and an input left out would
never be read.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import structlog
from kafka.errors import KafkaError

from deskwatch.connect import bootstrap_deadline
from deskwatch.members import Group, MemberRemovalError, describe, remove
from deskwatch.processors.host_table import HOST_STATE_TABLE
from deskwatch.processors.in_order import stop_worker
from deskwatch.settings import Settings
from deskwatch.topics import declared_topics, ensure_named_topics, topic_ids

log = structlog.get_logger(__name__)

GROUPS_TABLE = "groups"
TABLES = (HOST_STATE_TABLE, GROUPS_TABLE)


class AssignmentWithoutState(RuntimeError):
    """The worker was assigned input partitions without the input and changelog partitions that go with them."""


def changelog_name(app_id: str, table: str) -> str:
    """The changelog topic faust names for ``table`` of app ``app_id``."""
    return f"{app_id}-{table}-changelog"


def changelog_topics(settings: Settings) -> dict[str, dict[str, str]]:
    """Each table's changelog: name -> config, as faust would create it (compacted) with the
    record size a host's whole state may take."""
    config = {"cleanup.policy": "compact", "max.message.bytes": str(settings.processor.state_max_record_bytes)}
    return {changelog_name(settings.processor.app_id, table): dict(config) for table in TABLES}


def missing_partitions(assigned: Iterable[tuple[str, int]], inputs: Iterable[str],
                       changelogs: Iterable[str]) -> list[tuple[str, int]]:
    """The partitions an assignment lacks: faust's assignor gives a worker partition N of every
    input and every changelog with partition N of any input (all are co-partitioned). A changelog
    partition held without its inputs (a standby replica) asks for nothing."""
    held = set(assigned)
    inputs = frozenset(inputs)
    numbers = {partition for topic, partition in held if topic in inputs}
    return sorted((topic, n) for topic in (*sorted(inputs), *changelogs) for n in numbers if (topic, n) not in held)


def prepare(settings: Settings, instance_id: str | None, inputs: Iterable[str]) -> list[tuple[str, int]]:
    """Before the worker joins: its topics and changelogs exist, and its own static member, if the
    group still holds one whose assignment lacks some of their partitions, is removed (its next
    join is assigned afresh). Returns the partitions that member lacked (empty: nothing to mend)."""
    try:  # the topology's topics too: an input the broker did not serve yet was left out the same way
        ensure_named_topics(settings.kafka, {**declared_topics(settings.kafka), **changelog_topics(settings)})
        if instance_id is None:
            return []  # a dynamic member's join always runs the assignor
        [group] = describe(settings, ("processor",))
        lacking = member_lacks(group, instance_id, inputs, changelog_topics(settings))
    except KafkaError as exc:  # a broker that answered but could not serve yet: ``check`` still guards
        if bootstrap_deadline(exc):
            # no broker answered within the deadline, or it refused the password: the command says
            # which (69 or 77) now; faust waiting a second deadline would only say it 30 s later
            raise
        log.warning("topics and changelogs not prepared before joining; every assignment is still checked",
                    error=type(exc).__name__, detail=str(exc)[:300])
        return []
    if lacking:
        log.warning("this worker's last assignment lacks partitions of its inputs or changelogs: leaving "
                    "the group so that it is assigned afresh", member=instance_id, lacking=[f"{t}:{p}" for t, p in lacking[:8]],
                    count=len(lacking))
        try:
            remove(settings, "processor", instance_id, "its assignment predates some of its topics", described=group)
        except MemberRemovalError as exc:  # gone meanwhile (its session timed out): the join assigns afresh
            log.info("stale member already gone", detail=str(exc)[:300])
    return lacking


def changelog_ids(settings: Settings) -> dict[str, str]:
    """Each changelog's Kafka topic id, by name (empty when the broker could not say: a state
    database left by an earlier worker is then not trusted, processors/disk_store.py)."""
    try:
        return topic_ids(settings.kafka, changelog_topics(settings))
    except KafkaError as exc:
        log.warning("changelog topic ids not read: state on disk is read again from the changelogs",
                    error=type(exc).__name__, detail=str(exc)[:300])
        return {}


def member_lacks(group: Group, instance_id: str, inputs: Iterable[str],
                 changelogs: Iterable[str]) -> list[tuple[str, int]]:
    """The partitions the static member ``instance_id`` of ``group`` lacks (``missing_partitions``;
    empty when it is not a member)."""
    for member in group.members:
        if member.instance_id == instance_id:
            return missing_partitions(member.assigned, inputs, changelogs)
    return []


def check(app: Any, inputs: Iterable[str], changelogs: Iterable[str]) -> None:
    """On every assignment: stop the worker, committing nothing, when it lacks partitions
    (``missing_partitions``)."""
    inputs, changelogs = frozenset(inputs), tuple(changelogs)

    async def on_assigned(_sender: Any, assigned: Iterable[Any], **__: Any) -> None:
        lacking = missing_partitions(((tp.topic, tp.partition) for tp in assigned), inputs, changelogs)
        if lacking:
            exc = AssignmentWithoutState(
                f"assigned inputs without partitions that go with them: "
                f"{', '.join(f'{t}:{p}' for t, p in lacking[:8])}{' …' if len(lacking) > 8 else ''}; "
                "their state would start from nothing, or an input would go unread")
            stop_worker(app, exc, "an assignment lacks partitions of inputs or changelogs; no offset is "
                        "committed, stopping")
            raise exc

    app.on_partitions_assigned.connect(on_assigned)
