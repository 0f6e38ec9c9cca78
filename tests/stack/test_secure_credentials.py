"""The secured stack's passwords and certificates: 0600 files, never on a command line, never printed."""

from __future__ import annotations

import ssl
import subprocess
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from pydantic import SecretStr

from deskwatch.cli import main
from deskwatch.settings import StackSettings
from deskwatch.stack import certify
from deskwatch.stack.credentials import (
    client_sections,
    load_or_create_credentials,
    read_credentials,
)
from deskwatch.stack.errors import StackError
from deskwatch.stack.layout import Layout
from deskwatch.stack.state import EngineRecord, StackState
from deskwatch.stack.up import _check_security


def test_credentials_are_generated_once_into_a_private_file(tmp_path: Path) -> None:
    path = tmp_path / "secure" / "credentials.json"
    first = load_or_create_credentials(path)
    assert path.stat().st_mode & 0o777 == 0o600 and path.parent.stat().st_mode & 0o777 == 0o700
    assert load_or_create_credentials(path) == first
    values = [v.get_secret_value() for _, v in first]
    assert len(set(values)) == len(values) and all(len(v) >= 32 for v in values)
    assert all(v in path.read_text() for v in values)


def test_a_credentials_file_others_can_read_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "credentials.json"
    load_or_create_credentials(path)
    path.chmod(0o644)
    with pytest.raises(StackError, match="0600"):
        read_credentials(path)


def test_client_sections_reach_the_secured_stack(tmp_path: Path) -> None:
    stack = StackSettings(home=tmp_path, kafka_port=29192, es_http_port=29201, security="on")
    creds = load_or_create_credentials(Layout(tmp_path).credentials_file)
    kafka, es = client_sections(stack)
    assert (kafka.bootstrap_servers, kafka.security_protocol, kafka.sasl_mechanism) == (
        "127.0.0.1:29192",
        "SASL_SSL",
        "SCRAM-SHA-512",
    )
    assert (
        kafka.sasl_password == creds.kafka_user
        and kafka.ssl_cafile == tmp_path / "secure" / "ca.pem"
    )
    assert (es.url, es.username, es.password) == (
        "https://127.0.0.1:29201",
        "deskwatch",
        creds.es_user,
    )


def test_stack_status_says_where_the_passwords_are_not_what(tmp_path: Path) -> None:
    creds = load_or_create_credentials(Layout(tmp_path).credentials_file)
    result = CliRunner().invoke(
        main, ["stack", "status"], env={"DESKWATCH_STACK__HOME": str(tmp_path)}
    )
    assert result.exit_code == 0, result.output
    assert f"{tmp_path}/secure/credentials.json (mode 600" in result.output
    assert not any(v.get_secret_value() in result.output for _, v in creds)


@pytest.mark.parametrize(
    ("recorded", "wanted", "refused"),
    [
        ("off", "on", True),
        ("on", "off", True),
        ("on", "on", False),
        ("off", "off", False),
    ],
    ids=["plain-as-secure", "secure-as-plain", "secure", "plain"],
)
def test_running_engines_are_never_reused_with_the_other_security(
    tmp_path: Path, recorded: str, wanted: str, refused: bool
) -> None:
    alive_pid = subprocess.os.getpid()  # type: ignore[attr-defined]
    record = EngineRecord(name="kafka", pid=alive_pid, port=1, log=tmp_path / "l", command=["x"])
    state = StackState(mode="local", engines={"kafka": record}, security=recorded)  # type: ignore[arg-type]
    settings = StackSettings(home=tmp_path, security=wanted)  # type: ignore[arg-type]
    if refused:
        with pytest.raises(StackError, match="choose another stack.home"):
            _check_security(settings, state)
    else:
        _check_security(settings, state)


def test_certificates_verify_for_127_0_0_1_and_no_password_is_on_a_command_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    password = SecretStr("store-" + "x" * 24)
    seen: list[list[str]] = []
    real_run = subprocess.run

    def recording_run(command: list[str], **kwargs: Any) -> Any:
        seen.append(command)
        return real_run(command, **kwargs)

    monkeypatch.setattr(subprocess, "run", recording_run)
    certify.make_certificates(tmp_path, password)
    assert seen and not any(password.get_secret_value() in " ".join(c) for c in seen)
    assert (tmp_path / "ca.pem").stat().st_mode & 0o777 == 0o644
    assert (tmp_path / "server.p12").stat().st_mode & 0o777 == 0o600
    context = ssl.create_default_context(cafile=str(tmp_path / "ca.pem"))
    assert context.get_ca_certs()[0]["subject"] == ((("commonName", "deskwatch local CA"),),)
    server = ssl._ssl._test_decode_cert(str(tmp_path / "server.pem"))  # type: ignore[attr-defined]
    assert set(server["subjectAltName"]) == {("DNS", "localhost"), ("IP Address", "127.0.0.1")}
    seen.clear()
    certify.make_certificates(tmp_path, password)
    assert seen == [], "made once, then kept"
