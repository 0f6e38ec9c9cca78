"""The worker's changelogs: made before it joins, and in every assignment it processes with."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest
from kafka import KafkaConsumer
from kafka.admin import ConfigResource, ConfigResourceType, KafkaAdminClient
from kafka.errors import CoordinatorNotAvailableError, KafkaTimeoutError

from deskwatch.connect import kafka_python_options
from deskwatch.logs import KAFKA_REFUSALS
from deskwatch.members import describe, parse_group
from deskwatch.processors import changelogs
from deskwatch.processors.app import build_app, input_topics
from deskwatch.processors.changelogs import (
    AssignmentWithoutState,
    changelog_topics,
    check,
    member_lacks,
    missing_partitions,
    prepare,
)
from deskwatch.settings import Settings, load_settings
from deskwatch.topics import ensure_topics
from deskwatch.topology import COMMANDS, EVENTS, SIGNALS
from tests.prefixed import prefixed

IN, SIG = "dw.events", "dw.signals"
HOSTS, GROUPS = "app-host-state-changelog", "app-groups-changelog"


def test_an_assignment_with_every_changelog_partition_of_its_inputs_lacks_nothing() -> None:
    assigned = [(IN, 0), (IN, 3), (SIG, 0), (SIG, 3), (HOSTS, 0), (HOSTS, 3), (GROUPS, 0), (GROUPS, 3)]
    assert missing_partitions(assigned, {IN, SIG}, (HOSTS, GROUPS)) == []


def test_the_changelog_partitions_an_assignment_lacks_are_named() -> None:
    # the soak's case: the groups changelog missing from the group's first assignment
    assigned = [(IN, 0), (IN, 3), (SIG, 0), (SIG, 3), (HOSTS, 0), (HOSTS, 3)]
    assert missing_partitions(assigned, {IN, SIG}, (HOSTS, GROUPS)) == [(GROUPS, 0), (GROUPS, 3)]


def test_an_input_left_out_of_an_assignment_is_named_too() -> None:
    assigned = [(IN, 1), (HOSTS, 1), (GROUPS, 1)]
    assert missing_partitions(assigned, {IN, SIG}, (HOSTS, GROUPS)) == [(SIG, 1)]


def test_changelog_partitions_without_inputs_are_not_asked_for() -> None:
    assert missing_partitions([(HOSTS, 5), (GROUPS, 5)], {IN, SIG}, (HOSTS, GROUPS)) == []


def test_the_changelogs_are_named_as_faust_names_its_tables_changelogs() -> None:
    settings = load_settings()
    built = build_app(settings)
    names = {t.changelog_topic.get_topic_name() for t in (built.wiring.host_state, built.wiring.groups)}
    assert set(changelog_topics(settings)) == names
    for config in changelog_topics(settings).values():
        assert config == {"cleanup.policy": "compact",
                          "max.message.bytes": str(settings.processor.state_max_record_bytes)}


_DESCRIBED = {
    "group_id": "app", "group_state": "Stable", "protocol_type": "consumer",
    "members": [
        {"group_instance_id": "app@vm:1", "member_id": "app@vm:1-a", "client_id": "faust",
         "member_assignment": {"assigned_partitions": [{"topic": IN, "partitions": [0, 1]},
                                                       {"topic": HOSTS, "partitions": [0, 1]}], "user_data": ""}},
        {"group_instance_id": "app@vm:2", "member_id": "app@vm:2-b", "client_id": "faust",
         "member_assignment": b"\x00\x01"},  # not decodable: nothing known to lack
    ],
}


_GROUP = parse_group("processor", "app", _DESCRIBED)


def test_a_static_members_stale_assignment_is_found_by_its_id() -> None:
    assert member_lacks(_GROUP, "app@vm:1", {IN}, (HOSTS, GROUPS)) == [(GROUPS, 0), (GROUPS, 1)]
    assert member_lacks(_GROUP, "app@vm:2", {IN}, (HOSTS, GROUPS)) == []
    assert member_lacks(_GROUP, "app@vm:3", {IN}, (HOSTS, GROUPS)) == []  # not a member: a join assigns


class _TP:
    def __init__(self, topic: str, partition: int) -> None:
        self.topic, self.partition = topic, partition


class _App:
    """What ``check`` uses of a faust app: the assignment signal, the consumer and crash."""

    def __init__(self) -> None:
        self.receivers: list[Any] = []
        self.crashed: list[BaseException] = []
        self.consumer = object()  # not an InOrderConsumer: stop_worker crashes the app
        self.on_partitions_assigned = self

    def connect(self, receiver: Any) -> None:
        self.receivers.append(receiver)

    async def crash(self, exc: BaseException) -> None:
        self.crashed.append(exc)

    async def assign(self, *tps: tuple[str, int]) -> None:
        for receiver in self.receivers:
            await receiver(self, {_TP(t, p) for t, p in tps})


def test_an_assignment_lacking_a_changelog_partition_stops_the_worker() -> None:
    app = _App()
    check(app, {IN}, (HOSTS, GROUPS))

    async def run() -> None:
        await app.assign((IN, 0), (HOSTS, 0), (GROUPS, 0))  # whole: nothing happens
        assert app.crashed == []
        with pytest.raises(AssignmentWithoutState, match="app-groups-changelog:2"):
            await app.assign((IN, 0), (IN, 2), (HOSTS, 0), (HOSTS, 2), (GROUPS, 0))
        await asyncio.sleep(0)  # the crash is scheduled, then runs
        assert [type(e) for e in app.crashed] == [AssignmentWithoutState]

    asyncio.run(run())


@pytest.mark.integration
def test_prepare_makes_the_changelogs_and_drops_a_stale_static_member(settings: Settings) -> None:
    s = prefixed(settings, 3, processor={"app_id": lambda tag: f"{settings.kafka.topic_prefix}proc-{tag}"})
    ensure_topics(s.kafka)
    member = f"{s.processor.app_id}@test:1"
    inputs = input_topics(s)
    # A static member under the worker's id assigned two inputs only, as a group's first
    # assignment was when a topic came a moment too late; closed, it stays a member.
    stale = KafkaConsumer(EVENTS.name(s.kafka), SIGNALS.name(s.kafka), group_id=s.processor.app_id,
                          group_instance_id=member, enable_auto_commit=False, **kafka_python_options(s.kafka))
    deadline = time.monotonic() + 60
    while len(stale.assignment()) != 6:
        assert time.monotonic() < deadline, f"assigned {stale.assignment()}"
        stale.poll(timeout_ms=200)
    stale.close()
    [group] = describe(s, ("processor",))
    assert [m.instance_id for m in group.members] == [member]

    lacking = prepare(s, member, inputs)

    names = sorted(changelog_topics(s))
    assert lacking == sorted((t, p) for t in (*names, COMMANDS.name(s.kafka)) for p in range(3))  # inputs too
    admin = KafkaAdminClient(**kafka_python_options(s.kafka))
    try:
        described = admin.describe_topics(names)
        assert sorted((t["name"], len(t["partitions"])) for t in described) == [(n, 3) for n in names]
        answers = admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
        topics = next(iter(answers.values()))  # {name: {key: {config data}}}, non-default keys only
        policies = {n: str(topics[n]["cleanup.policy"].get("value", topics[n]["cleanup.policy"])) for n in names}
        assert policies == {n: "compact" for n in names}
    finally:
        admin.close()
    [group] = describe(s, ("processor",))
    assert group.members == ()  # removed: the worker's next join is assigned afresh
    assert prepare(s, member, inputs) == []  # nothing left to mend; the topics are left as they are


@pytest.mark.parametrize("refusal", [None, "Authentication failed due to invalid credentials"])
def test_prepare_gives_up_at_the_bootstrap_deadline_whether_refused_or_not_there(
    monkeypatch: pytest.MonkeyPatch, refusal: str | None
) -> None:
    # no broker answered within the deadline (69), or one refused the password (77): the command
    # says which after this one deadline, not after a second one of faust's
    def unreachable(*_: object) -> None:
        raise KafkaTimeoutError("Unable to bootstrap from ['127.0.0.1:9092']")

    monkeypatch.setattr(changelogs, "ensure_named_topics", unreachable)
    monkeypatch.setattr(KAFKA_REFUSALS, "last_refusal", refusal)
    with pytest.raises(KafkaTimeoutError, match="bootstrap"):
        prepare(Settings(), "app@host:1", {IN})


def test_prepare_leaves_a_broker_that_answered_but_could_not_serve_yet_to_the_join(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a broker still starting (no coordinator yet): the worker joins anyway, and ``check`` guards
    def not_ready(*_: object) -> None:
        raise CoordinatorNotAvailableError("the group coordinator is not available")

    monkeypatch.setattr(changelogs, "ensure_named_topics", not_ready)
    assert prepare(Settings(), "app@host:1", {IN}) == []
