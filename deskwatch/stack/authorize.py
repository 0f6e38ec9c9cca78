"""Kafka ACLs of the secured stack: the deskwatch user reaches only its prefixed topics and groups.

The broker runs KRaft's StandardAuthorizer with the admin as its only super user (``secure.py``).
``grant_kafka_acls`` makes the deskwatch principal's ACLs exactly those ``wanted_acls`` declares,
through the admin API as the admin, at every ``stack up`` (idempotent: missing ones are created,
ones the settings no longer name are deleted, nothing else is touched).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from kafka import KafkaAdminClient
from kafka.admin import (
    ACL,
    ACLFilter,
    ACLOperation,
    ACLPermissionType,
    ACLResourcePatternType,
    ResourcePattern,
    ResourcePatternFilter,
    ResourceType,
)
from kafka.errors import KafkaError

from deskwatch.settings import StackSettings
from deskwatch.stack.credentials import read_credentials
from deskwatch.stack.errors import StackError
from deskwatch.stack.layout import Layout
from deskwatch.stack.render import LOOPBACK
from deskwatch.stack.secure import KAFKA_ADMIN, SCRAM

Op = ACLOperation
# What the pipeline does: create its topics (topology, faust changelogs), read, write, and read
# their configs; consume in groups and commit offsets; produce idempotently. No Delete, no Alter.
TOPIC_OPERATIONS = (Op.CREATE, Op.DESCRIBE, Op.DESCRIBE_CONFIGS, Op.READ, Op.WRITE)
GROUP_OPERATIONS = (Op.DESCRIBE, Op.READ)
TRANSACTIONAL_OPERATIONS = (Op.DESCRIBE, Op.WRITE)
CLUSTER_OPERATIONS = (Op.IDEMPOTENT_WRITE,)
CLUSTER_NAME = "kafka-cluster"  # the one name of the CLUSTER resource
ANY_HOST = "*"


@dataclass(frozen=True)
class AclChange:
    """What one reconciliation did (counts only: ACLs are no secret, but a count says enough)."""

    created: int
    deleted: int
    kept: int


class KafkaAclError(StackError):
    """The broker refused to create or delete an ACL of the deskwatch user."""


def principal(settings: StackSettings) -> str:
    """The deskwatch user's principal as the authorizer names it."""
    return f"User:{settings.kafka_user}"


def allow_acl(who: str, kind: ResourceType, name: str, op: ACLOperation, prefixed: bool) -> ACL:
    """One ALLOW entry for ``who`` from any host, on a prefixed or a literal resource name."""
    pattern = ACLResourcePatternType.PREFIXED if prefixed else ACLResourcePatternType.LITERAL
    return ACL(who, ANY_HOST, op, ACLPermissionType.ALLOW, ResourcePattern(kind, name, pattern))


def wanted_acls(settings: StackSettings) -> frozenset[ACL]:
    """Every ACL the deskwatch user should hold, from ``stack.kafka_acl_*_prefixes`` (pure)."""
    who = principal(settings)
    per_prefix = [
        (ResourceType.TOPIC, settings.kafka_acl_topic_prefixes, TOPIC_OPERATIONS),
        (ResourceType.GROUP, settings.kafka_acl_group_prefixes, GROUP_OPERATIONS),
        (ResourceType.TRANSACTIONAL_ID, settings.kafka_acl_group_prefixes, TRANSACTIONAL_OPERATIONS),
    ]
    acls = {
        allow_acl(who, kind, prefix, op, prefixed=True)
        for kind, prefixes, ops in per_prefix
        for prefix in prefixes
        for op in ops
    }
    acls |= {allow_acl(who, ResourceType.CLUSTER, CLUSTER_NAME, op, False) for op in CLUSTER_OPERATIONS}
    return frozenset(acls)


def held_filter(settings: StackSettings) -> ACLFilter:
    """A filter matching every ACL of the deskwatch user, whatever the resource."""
    everything = ResourcePatternFilter(ResourceType.ANY, None, ACLResourcePatternType.ANY)
    return ACLFilter(principal(settings), None, Op.ANY, ACLPermissionType.ANY, everything)


def reconcile(admin: Any, settings: StackSettings) -> AclChange:
    """Create the missing ACLs and delete the deskwatch user's others, through ``admin``."""
    held, _ = admin.describe_acls(held_filter(settings))
    wanted = wanted_acls(settings)
    missing = sorted(wanted - set(held), key=repr)
    extra = sorted(set(held) - wanted, key=repr)
    if missing:
        failed = admin.create_acls(missing)["failed"]
        if failed:
            raise KafkaAclError(f"kafka: creating ACLs of {principal(settings)} failed: {failed}")
    if extra:
        for _, _, error in admin.delete_acls(extra):
            if error.errno != 0:
                raise KafkaAclError(f"kafka: deleting stale ACLs of {principal(settings)}: {error}")
    return AclChange(created=len(missing), deleted=len(extra), kept=len(wanted) - len(missing))


def kafka_admin_options(settings: StackSettings, layout: Layout) -> dict[str, Any]:
    """kafka-python options that reach the secured broker as its admin (the super user)."""
    creds = read_credentials(layout.credentials_file)
    return {
        "security_protocol": "SASL_SSL",
        "ssl_cafile": str(layout.ca_pem),
        "sasl_mechanism": SCRAM,
        "sasl_plain_username": KAFKA_ADMIN,
        "sasl_plain_password": creds.kafka_admin.get_secret_value(),
    }


def grant_kafka_acls(settings: StackSettings, layout: Layout) -> AclChange:
    """Open an admin client as the super user and reconcile the deskwatch user's ACLs.

    A retriable ``KafkaError`` passes through (not ready yet); any other refusal is a ``KafkaAclError``.
    """
    admin = KafkaAdminClient(
        bootstrap_servers=f"{LOOPBACK}:{settings.kafka_port}", client_id="deskwatch-stack-acls",
        request_timeout_ms=10_000, **kafka_admin_options(settings, layout),
    )
    try:
        return reconcile(admin, settings)
    except KafkaError as err:
        if err.retriable:
            raise  # the broker is still settling: the caller probes again
        raise KafkaAclError(f"kafka: reconciling ACLs of {principal(settings)}: {err!r}") from err
    finally:
        admin.close()
