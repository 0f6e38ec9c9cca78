"""The secured engines refuse strangers: no credentials, wrong passwords, indices outside the role.

Every refusal is checked beside a control with the right credentials on the same engine, so a
refusal can never pass because the engine is simply down.
"""

# ruff: noqa: F811  (fixtures imported from secure_engines are parameters by design)
from __future__ import annotations

import asyncio
import base64
import json
import logging
import socket
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path
from typing import Any

import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError as AioKafkaError
from elasticsearch import AuthenticationException
from kafka import KafkaAdminClient
from kafka.errors import KafkaTimeoutError
from pydantic import SecretStr

from deskwatch.cli import EX_NOPERM, refused_credentials, unreachable_engine
from deskwatch.components import write_settings_file
from deskwatch.connect import elasticsearch_client, kafka_python_options
from deskwatch.logs import watch_kafka_refusals
from deskwatch.settings import Settings, StackSettings
from deskwatch.stack.credentials import Credentials
from deskwatch.stack.layout import Layout
from deskwatch.stack.state import read_state
from deskwatch.stack.supervise import cmdline, group_members

from .secure_engines import secure_credentials, secure_settings, secure_stack  # noqa: F401

pytestmark = pytest.mark.integration

WRONG = "wrong-Pa55word-" + uuid.uuid4().hex


def _es(
    settings: Settings, method: str, path: str, auth: tuple[str, str] | None, body: Any = None
) -> int:
    """The HTTP status of one request to the secured Elasticsearch, verified against the CA."""
    context = ssl.create_default_context(cafile=str(settings.elasticsearch.ca_file))
    data = json.dumps(body).encode() if body is not None else None
    request = urllib.request.Request(
        f"{settings.elasticsearch.url}{path}", data=data, method=method
    )
    request.add_header("Content-Type", "application/json")
    if auth is not None:
        request.add_header(
            "Authorization", "Basic " + base64.b64encode(":".join(auth).encode()).decode()
        )
    try:
        with urllib.request.urlopen(request, context=context, timeout=30) as response:
            return int(response.status)
    except urllib.error.HTTPError as err:
        return int(err.code)


def _auth(kind: str, stack: StackSettings, creds: Credentials) -> tuple[str, str] | None:
    return {
        "none": None,
        "user": (stack.es_user, creds.es_user.get_secret_value()),
        "user-wrong-password": (stack.es_user, WRONG),
        "elastic": ("elastic", creds.elastic.get_secret_value()),
        "elastic-wrong-password": ("elastic", WRONG),
        "unknown-user": ("nobody", WRONG),
    }[kind]


@pytest.mark.parametrize(
    ("auth", "status"),
    [
        ("none", 401),
        ("user-wrong-password", 401),
        ("elastic-wrong-password", 401),
        ("unknown-user", 401),
        ("user", 200),
        ("elastic", 200),
    ],
    ids=[
        "no-credentials",
        "wrong-password",
        "elastic-wrong-password",
        "unknown-user",
        "user",
        "elastic",
    ],
)
def test_elasticsearch_authenticates_every_request(
    secure_settings: Settings,
    secure_stack: StackSettings,
    secure_credentials: Credentials,
    auth: str,
    status: int,
) -> None:
    got = _es(
        secure_settings, "GET", "/_cluster/health", _auth(auth, secure_stack, secure_credentials)
    )
    assert got == status


def test_elasticsearch_speaks_only_tls(secure_settings: Settings) -> None:
    plain = secure_settings.elasticsearch.url.replace("https://", "http://")
    with pytest.raises((urllib.error.URLError, ConnectionError)):
        urllib.request.urlopen(f"{plain}/_cluster/health", timeout=10)


@pytest.mark.parametrize(
    ("index", "auth", "status"),
    [
        ("test-{tag}-allowed", "user", 201),
        ("deskwatch-{tag}-allowed", "user", 201),
        ("other-{tag}", "user", 403),
        ("other-{tag}", "elastic", 201),
    ],
    ids=["test-prefix", "deskwatch-prefix", "outside-role", "superuser-control"],
)
def test_the_deskwatch_role_reaches_only_its_indices(
    secure_settings: Settings,
    secure_stack: StackSettings,
    secure_credentials: Credentials,
    index: str,
    auth: str,
    status: int,
) -> None:
    name = index.format(tag=uuid.uuid4().hex[:8])
    got = _es(
        secure_settings,
        "PUT",
        f"/{name}/_doc/1",
        _auth(auth, secure_stack, secure_credentials),
        {"a": 1},
    )
    assert got == status
    _es(secure_settings, "DELETE", f"/{name}", _auth("elastic", secure_stack, secure_credentials))


def test_a_refused_elasticsearch_password_is_not_in_the_error(secure_settings: Settings) -> None:
    es = secure_settings.elasticsearch.model_copy(update={"password": SecretStr(WRONG)})
    client = elasticsearch_client(es)
    with pytest.raises(AuthenticationException) as caught:
        client.cluster.health()
    assert caught.value.status_code == 401
    assert WRONG not in f"{caught.value!s} {caught.value!r} {caught.value.body!r}"
    assert WRONG not in repr(es) and WRONG not in es.model_dump_json()


def _deskwatch(settings: Settings, tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """``deskwatch ARGS`` as an operator runs it, with ``settings`` in its settings file."""
    config = write_settings_file(settings, tmp_path / "settings.yaml")
    exe = str(Path(sys.executable).with_name("deskwatch"))
    return subprocess.run([exe, *args], env={"DESKWATCH_CONFIG": str(config), "PATH": "/usr/bin:/bin"},  # noqa: S603
                          capture_output=True, text=True, timeout=120, check=False)


@pytest.mark.parametrize("args", [("search",), ("sink", "run")], ids=["search", "sink-run"])
def test_a_refused_elasticsearch_password_is_one_line_naming_the_user_and_status_77(
    secure_settings: Settings, tmp_path: Path, args: tuple[str, ...]
) -> None:
    s = secure_settings.model_copy(update={
        "elasticsearch": secure_settings.elasticsearch.model_copy(update={"password": SecretStr(WRONG)}),
        "sink": secure_settings.sink.model_copy(update={"state_dir": tmp_path / "sink"})})
    done = _deskwatch(s, tmp_path, *args)
    assert done.returncode == EX_NOPERM, done.stderr[-3000:]
    assert f"deskwatch: Elasticsearch at {s.elasticsearch.url} refused the credentials (user 'deskwatch'): " \
           "unable to authenticate user [deskwatch]" in done.stderr
    assert "Traceback" not in done.stderr and WRONG not in done.stdout + done.stderr


@pytest.mark.parametrize("command", ["produce", "processor"])
def test_a_refused_kafka_password_is_said_as_such_not_as_an_unreachable_broker(
    secure_settings: Settings, tmp_path: Path, command: str
) -> None:
    # kafka-python retries the refused handshake until its 30 s bootstrap deadline, then raises only
    # "Unable to bootstrap"; the command says what the broker answered after its credentials check
    # (3 s, deskwatch.connect.CREDENTIALS_CHECK_MS), not after that deadline (nor, for the
    # processor, after a second one of faust's).
    s = secure_settings.model_copy(update={
        "kafka": secure_settings.kafka.model_copy(update={"sasl_password": SecretStr(WRONG)}),
        "processor": secure_settings.processor.model_copy(update={"datadir": tmp_path / "worker"})})
    (tmp_path / "event.jsonl").write_text(
        '{"@timestamp": "2026-12-05T08:00:00Z", "host": {"name": "pc-1"}, "message": "hello"}\n')
    args = ("produce", str(tmp_path / "event.jsonl")) if command == "produce" else ("processor", "run")
    started = time.monotonic()
    done = _deskwatch(s, tmp_path, *args)
    assert done.returncode == EX_NOPERM, done.stderr[-3000:]
    took = time.monotonic() - started
    assert took < 20, f"said after {took:.1f} s: the credentials check (3 s), not the bootstrap deadline (30 s)"
    assert (f"deskwatch: Kafka at {s.kafka.bootstrap_servers} refused the credentials (SASL SCRAM-SHA-512, "
            "user 'deskwatch'): Authentication failed") in done.stderr
    assert "Is it running?" not in done.stderr and "Traceback" not in done.stderr
    assert WRONG not in done.stdout + done.stderr


async def _aiokafka_start(settings: Settings, **overrides: Any) -> None:
    k = settings.kafka
    options: dict[str, Any] = {
        "security_protocol": "SASL_SSL",
        "sasl_mechanism": k.sasl_mechanism,
        "sasl_plain_username": k.sasl_username,
        "sasl_plain_password": k.sasl_password.get_secret_value() if k.sasl_password else None,
        "ssl_context": ssl.create_default_context(cafile=str(k.ssl_cafile)),
    } | overrides
    producer = AIOKafkaProducer(
        bootstrap_servers=k.bootstrap_servers, request_timeout_ms=10_000, **options
    )
    try:
        await producer.start()
    finally:
        await producer.stop()


@pytest.mark.parametrize(
    ("overrides", "refused"),
    [
        ({"security_protocol": "PLAINTEXT", "ssl_context": None, "sasl_mechanism": "PLAIN"}, True),
        ({"security_protocol": "SSL", "sasl_mechanism": "PLAIN"}, True),
        ({"sasl_plain_password": WRONG}, True),
        ({"sasl_plain_username": "nobody", "sasl_plain_password": WRONG}, True),
        ({}, False),
    ],
    ids=[
        "no-credentials-plaintext",
        "tls-without-sasl",
        "wrong-password",
        "unknown-user",
        "deskwatch-user",
    ],
)
def test_kafka_authenticates_every_client(
    secure_settings: Settings,
    overrides: dict[str, Any],
    refused: bool,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    if not refused:
        asyncio.run(_aiokafka_start(secure_settings))
        return
    with pytest.raises(AioKafkaError):
        asyncio.run(_aiokafka_start(secure_settings, **overrides))
    if overrides.get("sasl_plain_password") == WRONG:
        assert "SaslAuthenticationFailed" in caplog.text, "the broker itself said no"
    assert WRONG not in caplog.text, "aiokafka logs never carry the refused password"


def test_a_refusal_is_forgotten_once_a_broker_cannot_be_reached_at_all(secure_settings: Settings) -> None:
    # one process refused by the real broker, then bootstrapping where nothing listens: the second
    # failure is an unreachable broker (status 69), not the password refused a while ago
    watch_kafka_refusals()
    wrong = secure_settings.model_copy(update={
        "kafka": secure_settings.kafka.model_copy(update={"sasl_password": SecretStr(WRONG)})})
    for _ in range(3):  # every time: the broker's answer is read before its close (deskwatch.kafka_eof)
        with pytest.raises(KafkaTimeoutError) as refused:
            KafkaAdminClient(**kafka_python_options(wrong.kafka) | {"bootstrap_timeout_ms": 3000})
        said = refused_credentials(refused.value, wrong)
        assert said is not None and "refused the credentials" in said and WRONG not in said
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]  # closed at once: nothing listens on it
    down = wrong.model_copy(update={"kafka": wrong.kafka.model_copy(update={"bootstrap_servers": f"127.0.0.1:{port}"})})
    with pytest.raises(KafkaTimeoutError) as unreachable:
        KafkaAdminClient(**kafka_python_options(down.kafka) | {"bootstrap_timeout_ms": 2000})
    assert refused_credentials(unreachable.value, down) is None
    assert unreachable_engine(unreachable.value) == "Kafka"


def test_kafka_python_options_reach_the_secured_broker(secure_settings: Settings) -> None:
    admin = KafkaAdminClient(
        client_id="deskwatch-security-test", **kafka_python_options(secure_settings.kafka)
    )
    try:
        assert isinstance(admin.list_topics(), list)
    finally:
        admin.close()


def test_no_secret_is_on_an_engine_command_line_or_in_the_state_file(
    secure_stack: StackSettings, secure_credentials: Credentials
) -> None:
    state = read_state(Layout(secure_stack.home).state_file)
    assert (
        state is not None
        and state.security == "on"
        and set(state.engines) == {"kafka", "elasticsearch"}
    )
    visible = [Layout(secure_stack.home).state_file.read_text()]
    for record in state.engines.values():
        for pid in group_members(record.pid):  # every process of the engine's group: wrappers too
            visible.append(cmdline(pid))
    assert len(visible) >= 3 and all(visible)
    secrets = [value.get_secret_value() for _, value in secure_credentials]
    assert [s for s in secrets if any(s in text for text in visible)] == []
