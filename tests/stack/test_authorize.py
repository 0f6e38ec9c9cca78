"""The deskwatch user's Kafka ACLs: what is declared from the settings, and how it is reconciled."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from kafka.admin import ACL, ACLOperation, ACLPermissionType, ACLResourcePatternType, ResourceType
from kafka.errors import (
    ClusterAuthorizationFailedError,
    NodeNotReadyError,
    NoError,
    SecurityDisabledError,
)

from deskwatch.settings import StackSettings
from deskwatch.stack.layout import Layout
from deskwatch.stack.authorize import (
    KafkaAclError,
    allow_acl,
    principal,
    reconcile,
    wanted_acls,
)

STACK = StackSettings(
    home=Path("/var/lib/dw-secure"),
    security="on",
    kafka_user="deskwatch",
    kafka_acl_topic_prefixes=("deskwatch.", "deskwatch-processor"),
    kafka_acl_group_prefixes=("deskwatch-",),
)
Op = ACLOperation


def _grants(settings: StackSettings) -> set[tuple[str, str, str, str]]:
    return {
        (a.resource_pattern.resource_type.name, a.resource_pattern.resource_name,
         a.resource_pattern.pattern_type.name, a.operation.name)
        for a in wanted_acls(settings)
    }


@pytest.mark.parametrize(
    ("grant", "held"),
    [
        (("TOPIC", "deskwatch.", "PREFIXED", "WRITE"), True),
        (("TOPIC", "deskwatch.", "PREFIXED", "READ"), True),
        (("TOPIC", "deskwatch-processor", "PREFIXED", "CREATE"), True),
        (("TOPIC", "deskwatch.", "PREFIXED", "DESCRIBE_CONFIGS"), True),
        (("GROUP", "deskwatch-", "PREFIXED", "READ"), True),
        (("TRANSACTIONAL_ID", "deskwatch-", "PREFIXED", "WRITE"), True),
        (("CLUSTER", "kafka-cluster", "LITERAL", "IDEMPOTENT_WRITE"), True),
        (("TOPIC", "deskwatch.", "PREFIXED", "DELETE"), False),
        (("TOPIC", "deskwatch.", "PREFIXED", "ALTER_CONFIGS"), False),
        (("TOPIC", "deskwatch.", "PREFIXED", "ALL"), False),
        (("CLUSTER", "kafka-cluster", "LITERAL", "ALTER"), False),
        (("CLUSTER", "kafka-cluster", "LITERAL", "CREATE"), False),
        (("TOPIC", "*", "LITERAL", "READ"), False),
        (("GROUP", "deskwatch.", "PREFIXED", "READ"), False),
    ],
    ids=[
        "topic-write", "topic-read", "changelog-create", "topic-configs", "group-read",
        "transactional-write", "cluster-idempotent", "no-topic-delete", "no-alter-configs",
        "no-all", "no-cluster-alter", "no-cluster-create", "no-wildcard-topic",
        "topic-prefix-is-not-a-group-prefix",
    ],
)
def test_the_user_is_granted_its_prefixes_and_nothing_more(
    grant: tuple[str, str, str, str], held: bool
) -> None:
    assert (grant in _grants(STACK)) is held


def test_every_acl_allows_only_the_deskwatch_principal() -> None:
    acls = wanted_acls(STACK)
    assert {a.principal for a in acls} == {"User:deskwatch"}
    assert {a.permission_type for a in acls} == {ACLPermissionType.ALLOW}
    # 2 topic prefixes x 5 + 1 group prefix x (2 group + 2 transactional) + 1 cluster
    assert len(acls) == 15


def test_an_empty_prefix_is_refused_by_the_settings() -> None:
    with pytest.raises(ValueError, match="at least 1 character"):
        StackSettings(kafka_acl_topic_prefixes=("",))


class FakeAdmin:
    """Holds ACLs like the broker does and records what reconcile asked for."""

    def __init__(self, held: set[ACL], refuse_create: bool = False) -> None:
        self.held = set(held)
        self.created: list[ACL] = []
        self.deleted: list[Any] = []
        self.refuse_create = refuse_create

    def describe_acls(self, acl_filter: Any) -> tuple[list[ACL], Any]:
        return [a for a in self.held if a.principal == acl_filter.principal], NoError

    def create_acls(self, acls: list[ACL]) -> dict[str, list[Any]]:
        if self.refuse_create:
            return {"succeeded": [], "failed": [SecurityDisabledError()]}
        self.created += acls
        self.held |= set(acls)
        return {"succeeded": acls, "failed": []}

    def delete_acls(self, filters: list[Any]) -> list[tuple[Any, list[ACL], Any]]:
        self.deleted += filters
        self.held -= set(filters)
        return [(f, [f], NoError) for f in filters]


STALE = allow_acl("User:deskwatch", ResourceType.TOPIC, "old-prefix", Op.READ, prefixed=True)
OTHER_USER = allow_acl("User:someone", ResourceType.TOPIC, "theirs", Op.READ, prefixed=True)


@pytest.mark.parametrize(
    ("held", "created", "deleted"),
    [
        (set(), 15, 0),
        (set(wanted_acls(STACK)), 0, 0),
        (set(wanted_acls(STACK)) | {STALE}, 0, 1),
        ({STALE, OTHER_USER}, 15, 1),
    ],
    ids=["fresh-broker", "already-granted", "stale-prefix-removed", "others-untouched"],
)
def test_reconcile_makes_the_held_acls_exactly_the_wanted_ones(
    held: set[ACL], created: int, deleted: int
) -> None:
    admin = FakeAdmin(held)
    change = reconcile(admin, STACK)
    assert (change.created, change.deleted) == (created, deleted)
    assert {a for a in admin.held if a.principal == principal(STACK)} == wanted_acls(STACK)
    assert (OTHER_USER in admin.held) is (OTHER_USER in held)
    assert reconcile(admin, STACK).created == 0, "a second run changes nothing"


def test_a_refused_creation_fails_naming_the_principal() -> None:
    with pytest.raises(KafkaAclError, match="User:deskwatch"):
        reconcile(FakeAdmin(set(), refuse_create=True), STACK)


def test_patterns_are_prefixed_except_the_cluster() -> None:
    kinds = {(a.resource_pattern.resource_type, a.resource_pattern.pattern_type)
             for a in wanted_acls(STACK)}
    assert kinds == {
        (ResourceType.TOPIC, ACLResourcePatternType.PREFIXED),
        (ResourceType.GROUP, ACLResourcePatternType.PREFIXED),
        (ResourceType.TRANSACTIONAL_ID, ACLResourcePatternType.PREFIXED),
        (ResourceType.CLUSTER, ACLResourcePatternType.LITERAL),
    }


class FlakyAdmin(FakeAdmin):
    """A broker that answers describe_acls with the given error."""

    def __init__(self, error: Exception) -> None:
        super().__init__(set())
        self.error = error

    def describe_acls(self, acl_filter: Any) -> tuple[list[ACL], Any]:
        raise self.error

    def close(self) -> None:
        self.closed = True


@pytest.mark.parametrize(
    ("error", "raised"),
    [(NodeNotReadyError(), NodeNotReadyError), (ClusterAuthorizationFailedError(), KafkaAclError)],
    ids=["retriable-passes-through", "refusal-is-an-acl-error"],
)
def test_grant_tells_not_ready_from_refused(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, error: Exception, raised: type[Exception]
) -> None:
    from deskwatch.stack import authorize

    monkeypatch.setattr(authorize, "KafkaAdminClient", lambda **_: FlakyAdmin(error))
    monkeypatch.setattr(authorize, "kafka_admin_options", lambda *_: {})
    with pytest.raises(raised):
        authorize.grant_kafka_acls(STACK, Layout(tmp_path))
