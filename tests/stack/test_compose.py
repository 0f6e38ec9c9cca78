"""docker-compose.yml and the Dockerfile: valid Compose, pinned versions, loopback-only ports."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
import subprocess
import tomllib
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from deskwatch import versions

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


def compose_spec_schema() -> dict[str, Any]:
    """check-jsonschema's ``vendor.compose-spec``, read from its package data.

    Read as a file rather than through check-jsonschema's CLI: importing check_jsonschema fails
    with click < 8.4, which faust-streaming pins.
    """
    spec = importlib.util.find_spec("check_jsonschema")
    assert spec is not None and spec.submodule_search_locations, "check-jsonschema is not installed"
    folder = Path(next(iter(spec.submodule_search_locations)))
    schema: dict[str, Any] = json.loads(
        (folder / "builtin_schemas" / "vendor" / "compose-spec.json").read_text()
    )
    return schema


def compose_errors(document: Any) -> list[str]:
    """Every violation of the Compose specification in ``document``."""
    schema = compose_spec_schema()
    validator = jsonschema.validators.validator_for(schema)(schema)
    return [f"{list(e.absolute_path)}: {e.message}" for e in validator.iter_errors(document)]


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return data


def test_compose_file_follows_the_compose_specification(compose: dict[str, Any]) -> None:
    assert compose_errors(compose) == []


def _bad_ports(doc: dict[str, Any]) -> None:
    doc["services"]["kafka"]["ports"] = 19092


def _unknown_key(doc: dict[str, Any]) -> None:
    doc["services"]["kafka"]["imag"] = "typo"


def _bad_healthcheck(doc: dict[str, Any]) -> None:
    doc["services"]["elasticsearch"]["healthcheck"]["intervall"] = "10s"


@pytest.mark.parametrize(
    "break_it", [_bad_ports, _unknown_key, _bad_healthcheck], ids=["ports", "unknown-key", "health"]
)
def test_the_schema_check_rejects_a_broken_file(compose: dict[str, Any], break_it: Any) -> None:
    broken = copy.deepcopy(compose)
    break_it(broken)
    assert compose_errors(broken) != []


@pytest.mark.parametrize(
    ("service", "image"),
    [
        ("kafka", f"apache/kafka:{versions.KAFKA_VERSION}"),
        (
            "elasticsearch",
            f"docker.elastic.co/elasticsearch/elasticsearch:{versions.ELASTICSEARCH_VERSION}",
        ),
        ("kibana", f"docker.elastic.co/kibana/kibana:{versions.KIBANA_VERSION}"),
    ],
    ids=["kafka", "elasticsearch", "kibana"],
)
def test_engine_images_match_versions_py(compose: dict[str, Any], service: str, image: str) -> None:
    assert compose["services"][service]["image"] == image


def test_dockerfile_python_matches_versions_py_and_pyproject() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    declared = re.findall(r"^ARG PYTHON_VERSION=(\S+)$", dockerfile, re.MULTILINE)
    assert declared == [versions.PYTHON_VERSION]
    assert "FROM python:${PYTHON_VERSION}-slim" in dockerfile
    requires = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    assert f">={versions.PYTHON_VERSION}" in requires


def host_ips(port: str | dict[str, Any]) -> str | None:
    """The host address a Compose port entry publishes on (None: all interfaces)."""
    if isinstance(port, dict):
        return port.get("host_ip")
    parts = str(port).split(":")
    return parts[0] if len(parts) == 3 else None


@pytest.mark.parametrize(
    ("entry", "expected"),
    [
        ("127.0.0.1:19092:19092", "127.0.0.1"),
        ("19092:19092", None),
        ("9200", None),
        ({"target": 9200, "published": "9200", "host_ip": "127.0.0.1"}, "127.0.0.1"),
        ({"target": 9200, "published": "9200"}, None),
    ],
    ids=["short-loopback", "short-all", "container-only", "long-lo", "long-all"],
)
def test_host_ips_reads_port_entries(entry: Any, expected: str | None) -> None:
    assert host_ips(entry) == expected


def interpolate_defaults(text: str) -> str:
    """Replace ``${NAME:-default}`` with its default, as Compose does when NAME is unset."""
    return re.sub(r"\$\{[A-Z_]+:-([^}]*)\}", r"\1", text)


def test_every_published_port_binds_loopback() -> None:
    compose = yaml.safe_load(interpolate_defaults(COMPOSE.read_text()))
    published = [
        (name, port)
        for name, service in compose["services"].items()
        for port in service.get("ports", [])
    ]
    assert {name for name, _ in published} == {"kafka", "elasticsearch", "kibana"}
    assert [(name, port) for name, port in published if host_ips(port) != "127.0.0.1"] == []


def test_kafka_never_auto_creates_topics(compose: dict[str, Any]) -> None:
    assert compose["services"]["kafka"]["environment"]["KAFKA_AUTO_CREATE_TOPICS_ENABLE"] == "false"


@pytest.mark.parametrize(
    ("service", "command"),
    [
        ("processor", ["processor", "run"]),
        ("sink", ["sink", "run"]),
        ("demo-producer", ["produce", "--simulate"]),
    ],
    ids=["processor", "sink", "demo-producer"],
)
def test_deskwatch_services_run_the_deskwatch_command(
    compose: dict[str, Any], service: str, command: list[str]
) -> None:
    assert compose["services"][service]["command"] == command
    assert compose["services"][service]["build"] == "."
    assert 'ENTRYPOINT ["deskwatch"]' in (ROOT / "Dockerfile").read_text()


def interpolate(value: str, variables: dict[str, str]) -> str:
    """``${NAME:-default}`` as Compose reads it: the variable when set and non-empty, else the default."""
    return re.sub(r"\$\{([A-Z_]+):-([^}]*)\}", lambda m: variables.get(m[1]) or m[2], value)


def es_setup_password_check(compose: dict[str, Any], variables: dict[str, str]) -> tuple[int, str]:
    """Run es-setup's first block (before any certificate work) under bash, as Compose would."""
    service = compose["services"]["es-setup"]
    script = service["command"][2]
    block = script[: script.index("if [ ! -f config/certs/ca.zip ]")].replace("$$", "$")
    env = {k: interpolate(v, variables) for k, v in service["environment"].items()}
    done = subprocess.run(["bash", "-ec", block], env=env | {"PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=30, check=False)
    return done.returncode, done.stderr


ALL_SET = {"ELASTIC_PASSWORD": "e", "KIBANA_PASSWORD": "k", "DESKWATCH_ES_PASSWORD": "d"}


@pytest.mark.parametrize(
    ("variables", "code", "message"),
    [
        ({}, 1, "ELASTIC_PASSWORD is not set"),
        ({"DESKWATCH_ES_SECURITY": ""}, 1, "ELASTIC_PASSWORD is not set"),
        ({"ELASTIC_PASSWORD": "e", "KIBANA_PASSWORD": "k"}, 1, "DESKWATCH_ES_PASSWORD is not set"),
        (ALL_SET, 0, ""),
        ({"DESKWATCH_ES_SECURITY": "false"}, 0, ""),
    ],
    ids=["default-without-passwords", "empty-switch-is-on", "one-missing", "all-set", "explicitly-off"],
)
def test_es_setup_refuses_to_start_secured_elasticsearch_without_passwords(
    compose: dict[str, Any], variables: dict[str, str], code: int, message: str
) -> None:
    got_code, stderr = es_setup_password_check(compose, variables)
    assert got_code == code, stderr
    assert (message in stderr) if message else stderr == ""
    if message:
        assert ".env" in stderr


def test_security_is_on_when_no_variable_is_set(compose: dict[str, Any]) -> None:
    # Compose interpolates after parsing: the values stay strings.
    env = {name: {k: interpolate(v, {}) for k, v in s.get("environment", {}).items()}
           for name, s in compose["services"].items()}
    es = env["elasticsearch"]
    assert [es[f"xpack.security.{k}"] for k in ("enabled", "http.ssl.enabled", "transport.ssl.enabled")] == [
        "true", "true", "true"]
    assert env["processor"]["DESKWATCH_ELASTICSEARCH__URL"] == "https://elasticsearch:9200"
    assert env["kibana"]["ELASTICSEARCH_HOSTS"] == '["https://elasticsearch:9200"]'


def test_env_example_names_every_password_the_compose_file_reads_and_holds_none() -> None:
    example = (ROOT / ".env.example").read_text()
    assigned = dict(line.split("=", 1) for line in example.splitlines() if line and not line.startswith("#"))
    read = set(re.findall(r"\$\{([A-Z_]*PASSWORD):-", COMPOSE.read_text()))
    assert set(assigned) == read == {"ELASTIC_PASSWORD", "KIBANA_PASSWORD", "DESKWATCH_ES_PASSWORD"}
    assert set(assigned.values()) == {""}
