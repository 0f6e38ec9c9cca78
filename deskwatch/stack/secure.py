"""What ``stack.security=on`` adds to the local engines: TLS, SCRAM users, a file realm and a role.

Kafka: a SASL_SSL listener (SCRAM-SHA-512) on loopback for clients and for the broker itself; the
KRaft controller listener is SASL_SSL too, with PLAIN, because KRaft cannot authenticate the
controller with SCRAM (its credentials live in the metadata log the controller serves): PLAIN's
one user, the admin, is declared in the listener's JAAS text. KRaft's StandardAuthorizer is on with
the admin as the only super user, so a PLAINTEXT (ANONYMOUS) controller port can never be a back
door; ``authorize.py`` grants the deskwatch user its prefixed topics and groups. Elasticsearch:
HTTPS, the ``elastic`` bootstrap password and one file-realm user whose role reaches only
``stack.es_role_indices``.
"""

from __future__ import annotations

import base64
import hashlib
import os
import shutil
import subprocess
from typing import Any

import yaml
from pydantic import SecretStr

from deskwatch.settings import StackSettings
from deskwatch.stack.certify import SERVER_STORE, TRUSTSTORE, make_certificates
from deskwatch.stack.credentials import Credentials, load_or_create_credentials, read_credentials
from deskwatch.stack.engine import base_env, java_home
from deskwatch.stack.errors import StackError
from deskwatch.stack.layout import Layout
from deskwatch.stack.render import LOOPBACK

SCRAM = "SCRAM-SHA-512"
SCRAM_ITERATIONS = 8192
KAFKA_ADMIN = "admin"  # the broker's own identity on its SASL_SSL listener
CONTROLLER_MECHANISM = "PLAIN"
AUTHORIZER = "org.apache.kafka.metadata.authorizer.StandardAuthorizer"
ES_ROLE = "deskwatch_writer"
ES_CERT_DIR = "certs"


def prepare_security(settings: StackSettings, layout: Layout) -> Credentials:
    """Generate (first time) the passwords and certificates; return the credentials."""
    creds = load_or_create_credentials(layout.credentials_file)
    make_certificates(layout.secure, creds.store)
    return creds


def kafka_security_properties(
    settings: StackSettings, layout: Layout, creds: Credentials
) -> dict[str, str]:
    """server.properties entries for a SASL_SSL broker (written to a 0600 file: they hold passwords)."""
    broker = f"{LOOPBACK}:{settings.kafka_port}"
    controller = f"{LOOPBACK}:{settings.kafka_controller_port}"
    store = creds.store.get_secret_value()
    jaas = (
        f'org.apache.kafka.common.security.scram.ScramLoginModule required username="{KAFKA_ADMIN}" '
        f'password="{creds.kafka_admin.get_secret_value()}";'
    )
    return {
        "listeners": f"SASL_SSL://{broker},CONTROLLER://{controller}",
        "advertised.listeners": f"SASL_SSL://{broker}",
        "listener.security.protocol.map": "CONTROLLER:SASL_SSL,SASL_SSL:SASL_SSL",
        "inter.broker.listener.name": "SASL_SSL",
        "sasl.enabled.mechanisms": SCRAM,
        "sasl.mechanism.inter.broker.protocol": SCRAM,
        "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config": jaas,
        **_controller_properties(creds),
        "authorizer.class.name": AUTHORIZER,
        # The broker's own principal on both listeners; nobody else bypasses the ACLs.
        "super.users": f"User:{KAFKA_ADMIN}",
        "allow.everyone.if.no.acl.found": "false",
        "ssl.keystore.type": "PKCS12",
        "ssl.keystore.location": str(layout.secure / SERVER_STORE),
        "ssl.keystore.password": store,
        "ssl.key.password": store,
        "ssl.truststore.type": "PKCS12",
        "ssl.truststore.location": str(layout.secure / TRUSTSTORE),
        "ssl.truststore.password": store,
    }


def _controller_properties(creds: Credentials) -> dict[str, str]:
    """The controller listener: SASL_SSL with PLAIN, the admin as its only user and as its client."""
    password = creds.kafka_admin.get_secret_value()
    jaas = (
        f'org.apache.kafka.common.security.plain.PlainLoginModule required username="{KAFKA_ADMIN}" '
        f'password="{password}" user_{KAFKA_ADMIN}="{password}";'
    )
    return {
        "sasl.mechanism.controller.protocol": CONTROLLER_MECHANISM,
        "listener.name.controller.sasl.enabled.mechanisms": CONTROLLER_MECHANISM,
        "listener.name.controller.plain.sasl.jaas.config": jaas,
    }


def scram_credential(name: str, password: SecretStr, salt: bytes) -> str:
    """A SCRAM-SHA-512 credential as StorageTool takes it, salted (RFC 5802 ``Hi``) here.

    The command line then carries a salt and a salted hash, never the password itself.
    """
    salted = hashlib.pbkdf2_hmac(
        "sha512", password.get_secret_value().encode(), salt, SCRAM_ITERATIONS
    )
    b64 = base64.b64encode
    return (
        f"{SCRAM}=[name={name},iterations={SCRAM_ITERATIONS},"
        f'salt="{b64(salt).decode()}",saltedpassword="{b64(salted).decode()}"]'
    )


def scram_format_args(settings: StackSettings, creds: Credentials) -> list[str]:
    """``StorageTool format`` arguments that create the SCRAM users with the metadata log."""
    users = [(KAFKA_ADMIN, creds.kafka_admin), (settings.kafka_user, creds.kafka_user)]
    args: list[str] = []
    for name, password in users:
        args += ["--add-scram", scram_credential(name, password, os.urandom(16))]
    return args


def elasticsearch_security_lines() -> dict[str, str]:
    """elasticsearch.yml entries: security, HTTPS and transport TLS from the shared keystores."""
    return {
        "xpack.security.enabled": "true",
        "xpack.security.http.ssl.enabled": "true",
        "xpack.security.http.ssl.keystore.path": f"{ES_CERT_DIR}/{SERVER_STORE}",
        # Not required on a single node, but without it a bootstrap check warns at every start.
        "xpack.security.transport.ssl.enabled": "true",
        "xpack.security.transport.ssl.verification_mode": "certificate",
        "xpack.security.transport.ssl.keystore.path": f"{ES_CERT_DIR}/{SERVER_STORE}",
        "xpack.security.transport.ssl.truststore.path": f"{ES_CERT_DIR}/{TRUSTSTORE}",
    }


def _keystore_secrets(creds: Credentials) -> dict[str, SecretStr]:
    """The Elasticsearch keystore's entries (each JVM start of its CLI costs seconds: add all at once)."""
    return {
        "bootstrap.password": creds.elastic,
        "xpack.security.http.ssl.keystore.secure_password": creds.store,
        "xpack.security.transport.ssl.keystore.secure_password": creds.store,
        "xpack.security.transport.ssl.truststore.secure_password": creds.store,
    }


def render_roles_yml(settings: StackSettings) -> str:
    """One role: monitor the cluster, manage templates, do anything on deskwatch's indices only."""
    role = {
        "cluster": ["monitor", "manage_index_templates"],
        "indices": [{"names": list(settings.es_role_indices), "privileges": ["all"]}],
    }
    return str(yaml.safe_dump({ES_ROLE: role}))


def _es_tool(layout: Layout, tool: str, args: list[str], stdin: str) -> None:
    command = [str(layout.es_dist / "bin" / tool), *args]
    env = base_env() | {"ES_JAVA_HOME": str(java_home())}
    done = subprocess.run(
        command, input=stdin, env=env, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise StackError(
            f"elasticsearch: {' '.join(command)} exited {done.returncode}: {done.stdout}{done.stderr}"
        )


def secure_elasticsearch_config(
    settings: StackSettings, layout: Layout, creds: Credentials
) -> None:
    """Certificates, keystore, roles and the file-realm user, written as root before the chown."""
    config = layout.es_dist / "config"
    (config / ES_CERT_DIR).mkdir(exist_ok=True)
    for store in (SERVER_STORE, TRUSTSTORE):
        shutil.copy2(layout.secure / store, config / ES_CERT_DIR / store)
    (config / "roles.yml").write_text(render_roles_yml(settings))
    (config / "elasticsearch.keystore").unlink(missing_ok=True)
    _es_tool(layout, "elasticsearch-keystore", ["create"], "")
    entries = _keystore_secrets(creds)
    values = "".join(f"{secret.get_secret_value()}\n" for secret in entries.values())
    _es_tool(layout, "elasticsearch-keystore", ["add", "-x", "-f", *entries], values)
    for name in ("users", "users_roles"):
        (config / name).write_text("")
    password = creds.es_user.get_secret_value()
    # Passed on stdin (the tool's prompt), not with -p: a command line is visible to every local user.
    _es_tool(
        layout,
        "elasticsearch-users",
        ["useradd", settings.es_user, "-r", ES_ROLE],
        f"{password}\n{password}\n",
    )


def kafka_probe_options(settings: StackSettings, layout: Layout) -> dict[str, Any]:
    """kafka-python options with which the stack checks that its secured broker serves."""
    creds = read_credentials(layout.credentials_file)
    return {
        "security_protocol": "SASL_SSL",
        "ssl_cafile": str(layout.ca_pem),
        "sasl_mechanism": SCRAM,
        "sasl_plain_username": settings.kafka_user,
        "sasl_plain_password": creds.kafka_user.get_secret_value(),
    }


def es_probe_options(settings: StackSettings, layout: Layout) -> dict[str, Any]:
    """Elasticsearch client options with which the stack checks that its secured node serves."""
    creds = read_credentials(layout.credentials_file)
    return {
        "basic_auth": (settings.es_user, creds.es_user.get_secret_value()),
        "ca_certs": str(layout.ca_pem),
    }
