"""Passwords of the secured stack: generated once, kept in a 0600 file, never printed.

``client_sections`` turns them into the settings sections a deskwatch component needs to reach
the secured engines (the only way a password leaves the file is as a ``SecretStr``).
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path

from pydantic import BaseModel, ConfigDict, SecretStr

from deskwatch.settings import ElasticsearchSettings, KafkaSettings, StackSettings
from deskwatch.stack.errors import StackError
from deskwatch.stack.layout import Layout
from deskwatch.stack.render import LOOPBACK


class Credentials(BaseModel):
    """Every secret of one secured stack."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    elastic: SecretStr  # the built-in superuser (bootstrap.password)
    es_user: SecretStr  # the file-realm user with the deskwatch role
    kafka_admin: SecretStr  # the broker's own SCRAM user (inter-broker)
    kafka_user: SecretStr  # deskwatch's SCRAM user
    store: SecretStr  # PKCS12 keystores and truststore


def new_password() -> SecretStr:
    """32 URL-safe characters from the OS's random source (no quotes: they go into JAAS text)."""
    return SecretStr(secrets.token_urlsafe(24))


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to a file created with mode 0600 (never readable by others, not even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.parent.chmod(0o700)
    tmp = path.with_suffix(".tmp")
    tmp.unlink(missing_ok=True)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as out:
        out.write(text)
    os.replace(tmp, path)


def load_or_create_credentials(path: Path) -> Credentials:
    """The stack's credentials, generated on the first call and read back afterwards."""
    if path.exists():
        return read_credentials(path)
    fresh = Credentials(
        elastic=new_password(),
        es_user=new_password(),
        kafka_admin=new_password(),
        kafka_user=new_password(),
        store=new_password(),
    )
    # model_dump_json masks SecretStr: the file must hold the real values.
    write_private(path, _plain_json(fresh))
    return fresh


def _plain_json(creds: Credentials) -> str:
    return json.dumps({name: value.get_secret_value() for name, value in creds})


def read_credentials(path: Path) -> Credentials:
    """Read the credentials file, refusing one that others may read."""
    if not path.exists():
        raise StackError(
            f"no credentials at {path}: run `deskwatch stack up` with stack.security=on"
        )
    mode = path.stat().st_mode & 0o777
    if mode & 0o077:
        raise StackError(f"{path} has mode {mode:o}: it must be readable by its owner only (0600)")
    return Credentials.model_validate_json(path.read_text())


def client_sections(stack: StackSettings) -> tuple[KafkaSettings, ElasticsearchSettings]:
    """Kafka and Elasticsearch settings that reach this secured stack as the deskwatch user."""
    layout = Layout(stack.home)
    creds = read_credentials(layout.credentials_file)
    kafka = KafkaSettings(
        bootstrap_servers=f"{LOOPBACK}:{stack.kafka_port}",
        security_protocol="SASL_SSL",
        sasl_mechanism="SCRAM-SHA-512",
        sasl_username=stack.kafka_user,
        sasl_password=creds.kafka_user,
        ssl_cafile=layout.ca_pem,
    )
    es = ElasticsearchSettings(
        url=f"https://{LOOPBACK}:{stack.es_http_port}",
        username=stack.es_user,
        password=creds.es_user,
        ca_file=layout.ca_pem,
    )
    return kafka, es
