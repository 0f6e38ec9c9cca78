"""stack.security=on, rendered: the broker's SASL_SSL listener, SCRAM users, ES security and the role."""

from __future__ import annotations

import base64
import hashlib
import re
from pathlib import Path

import pytest
import yaml
from pydantic import SecretStr

from deskwatch.settings import StackSettings
from deskwatch.stack.credentials import Credentials
from deskwatch.stack.layout import Layout
from deskwatch.stack.render import render_elasticsearch_yml, render_server_properties
from deskwatch.stack.secure import (
    ES_ROLE,
    elasticsearch_security_lines,
    kafka_security_properties,
    render_roles_yml,
    scram_format_args,
)

CREDS = Credentials(
    elastic=SecretStr("e-pw"),
    es_user=SecretStr("u-pw"),
    kafka_admin=SecretStr("admin-pw"),
    kafka_user=SecretStr("user-pw"),
    store=SecretStr("store-pw"),
)
STACK = StackSettings(
    home=Path("/var/lib/dw-secure"), kafka_port=29192, kafka_controller_port=29193, security="on"
)


def _props(text: str) -> dict[str, str]:
    return dict(line.split("=", 1) for line in text.splitlines())


@pytest.fixture
def props() -> dict[str, str]:
    security = kafka_security_properties(STACK, Layout(STACK.home), CREDS)
    return _props(render_server_properties(STACK, Path("/data"), security))


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("listeners", "SASL_SSL://127.0.0.1:29192,CONTROLLER://127.0.0.1:29193"),
        ("advertised.listeners", "SASL_SSL://127.0.0.1:29192"),
        ("listener.security.protocol.map", "CONTROLLER:SASL_SSL,SASL_SSL:SASL_SSL"),
        ("inter.broker.listener.name", "SASL_SSL"),
        ("sasl.enabled.mechanisms", "SCRAM-SHA-512"),
        ("sasl.mechanism.inter.broker.protocol", "SCRAM-SHA-512"),
        ("ssl.keystore.location", "/var/lib/dw-secure/secure/server.p12"),
        ("ssl.truststore.location", "/var/lib/dw-secure/secure/truststore.p12"),
        ("auto.create.topics.enable", "false"),
        ("authorizer.class.name", "org.apache.kafka.metadata.authorizer.StandardAuthorizer"),
        ("super.users", "User:admin"),
        ("allow.everyone.if.no.acl.found", "false"),
        ("sasl.mechanism.controller.protocol", "PLAIN"),
        ("listener.name.controller.sasl.enabled.mechanisms", "PLAIN"),
    ],
    ids=[
        "listeners",
        "advertised",
        "protocol-map",
        "inter-broker",
        "mechanisms",
        "inter-broker-mechanism",
        "keystore",
        "truststore",
        "plain-defaults-kept",
        "authorizer",
        "only-admin-is-super",
        "no-acl-means-no",
        "controller-mechanism",
        "controller-listener-mechanism",
    ],
)
def test_the_secured_broker_listens_sasl_ssl_on_loopback_only(
    props: dict[str, str], key: str, value: str
) -> None:
    assert props[key] == value


def test_no_plaintext_client_listener_is_left(props: dict[str, str]) -> None:
    assert "PLAINTEXT://" not in props["listeners"].replace("CONTROLLER://", "")
    assert (
        'username="admin" password="admin-pw"'
        in props["listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config"]
    )


def test_the_controller_listener_authenticates_its_one_admin_user(props: dict[str, str]) -> None:
    jaas = props["listener.name.controller.plain.sasl.jaas.config"]
    assert jaas.startswith("org.apache.kafka.common.security.plain.PlainLoginModule required ")
    assert 'username="admin" password="admin-pw" user_admin="admin-pw";' in jaas
    assert "user-pw" not in jaas, "the deskwatch user cannot reach the controller"
    assert "ANONYMOUS" not in props["super.users"]


def test_scram_users_are_written_at_format_time_salted_never_in_clear() -> None:
    args = scram_format_args(STACK, CREDS)
    assert args[0::2] == ["--add-scram", "--add-scram"]
    assert "admin-pw" not in " ".join(args) and "user-pw" not in " ".join(args)
    for arg, (name, password) in zip(
        args[1::2], [("admin", "admin-pw"), ("deskwatch", "user-pw")], strict=True
    ):
        found = re.fullmatch(
            r'SCRAM-SHA-512=\[name=(\w+),iterations=8192,salt="([^"]+)",saltedpassword="([^"]+)"\]',
            arg,
        )
        assert found is not None and found[1] == name
        salt = base64.b64decode(found[2])
        expected = hashlib.pbkdf2_hmac("sha512", password.encode(), salt, 8192)
        assert base64.b64decode(found[3]) == expected and len(salt) == 16


def test_elasticsearch_turns_security_and_https_on() -> None:
    text = render_elasticsearch_yml(STACK, Path("/d"), Path("/l"), elasticsearch_security_lines())
    conf = yaml.safe_load(text)
    assert (
        conf["xpack.security.enabled"] is True and conf["xpack.security.http.ssl.enabled"] is True
    )
    assert conf["xpack.security.http.ssl.keystore.path"] == "certs/server.p12"
    assert conf["network.host"] == "127.0.0.1"
    assert "e-pw" not in text and "store-pw" not in text, (
        "passwords go to the ES keystore, not the yml"
    )


@pytest.mark.parametrize(
    ("indices", "expected"),
    [
        (("deskwatch-*", "test-*"), ["deskwatch-*", "test-*"]),
        (("acme-*",), ["acme-*"]),
    ],
    ids=["default", "custom"],
)
def test_the_role_reaches_only_the_configured_indices(
    indices: tuple[str, ...], expected: list[str]
) -> None:
    role = yaml.safe_load(render_roles_yml(STACK.model_copy(update={"es_role_indices": indices})))[
        ES_ROLE
    ]
    assert role["indices"] == [{"names": expected, "privileges": ["all"]}]
    assert set(role["cluster"]) == {"monitor", "manage_index_templates"}, (
        "no cluster-wide admin rights"
    )


def test_the_docker_path_refuses_security_on_and_runs_compose_unsecured() -> None:
    from deskwatch.stack.docker import UNSECURED_ES
    from deskwatch.stack.errors import StackError
    from deskwatch.stack.up import choose_mode

    with pytest.raises(StackError, match=r"\.env"):
        choose_mode(STACK.model_copy(update={"mode": "docker"}), docker_ok=True)
    assert choose_mode(STACK.model_copy(update={"mode": "auto"}), docker_ok=False) == "local"
    assert UNSECURED_ES == {"DESKWATCH_ES_SECURITY": "false", "DESKWATCH_ES_SCHEME": "http"}


def test_the_compose_file_secures_elasticsearch_by_default() -> None:
    root = Path(__file__).resolve().parents[2]
    text = (root / "docker-compose.yml").read_text()
    services = yaml.safe_load(text)["services"]
    es = services["elasticsearch"]["environment"]
    for key in ("enabled", "http.ssl.enabled", "transport.ssl.enabled"):
        assert es[f"xpack.security.{key}"] == "${DESKWATCH_ES_SECURITY:-true}"
    assert es["ELASTIC_PASSWORD"] == "${ELASTIC_PASSWORD:-}"
    assert services["kibana"]["environment"]["ELASTICSEARCH_USERNAME"] == "kibana_system"
    assert services["kibana"]["environment"]["ELASTICSEARCH_HOSTS"].startswith('["${DESKWATCH_ES_SCHEME:-https}')
    assert "PASSWORD=" not in text.replace("_PASSWORD=…", ""), "no password is written in the file"
