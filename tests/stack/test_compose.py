"""docker-compose.yml and the Dockerfile: valid Compose, pinned versions, loopback-only ports."""

from __future__ import annotations

import copy
import importlib.util
import json
import re
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
