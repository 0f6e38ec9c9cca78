"""Generated engine configs bind loopback only, follow the settings, and never auto-create topics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from deskwatch.settings import StackSettings
from deskwatch.stack.render import (
    render_elasticsearch_yml,
    render_kafka_pom,
    render_server_properties,
)
from deskwatch.versions import ELASTICSEARCH_VERSION, KAFKA_VERSION, LOG4J_VERSION

PORTS = [
    StackSettings(),
    StackSettings(
        kafka_port=29092, kafka_controller_port=29093, es_http_port=29200, es_transport_port=29300
    ),
]
PORT_IDS = ["default-ports", "other-ports"]


def properties(text: str) -> dict[str, str]:
    return dict(
        line.split("=", 1) for line in text.splitlines() if line and not line.startswith("#")
    )


@pytest.mark.parametrize("settings", PORTS, ids=PORT_IDS)
def test_kafka_listens_on_loopback_at_the_configured_ports(settings: StackSettings) -> None:
    props = properties(render_server_properties(settings, Path("/data")))
    addresses = re.findall(r"//([^,]+)", props["listeners"] + "," + props["advertised.listeners"])
    addresses.append(props["controller.quorum.voters"].split("@")[1])
    assert {a.rsplit(":", 1)[0] for a in addresses} == {"127.0.0.1"}
    assert {int(a.rsplit(":", 1)[1]) for a in addresses} == {
        settings.kafka_port,
        settings.kafka_controller_port,
    }


def test_kafka_never_auto_creates_topics_and_uses_the_data_dir() -> None:
    props = properties(render_server_properties(StackSettings(), Path("/srv/kafka-data")))
    assert props["auto.create.topics.enable"] == "false"
    assert props["log.dirs"] == "/srv/kafka-data"
    assert props["process.roles"] == "broker,controller"


@pytest.mark.parametrize("settings", PORTS, ids=PORT_IDS)
def test_elasticsearch_binds_loopback_unsecured_without_ml_or_watermarks(
    settings: StackSettings,
) -> None:
    config = yaml.safe_load(render_elasticsearch_yml(settings, Path("/d"), Path("/l")))
    assert config["network.host"] == "127.0.0.1"
    assert (config["http.port"], config["transport.port"]) == (
        settings.es_http_port,
        settings.es_transport_port,
    )
    assert config["discovery.type"] == "single-node"
    assert config["xpack.security.enabled"] is False
    assert config["xpack.ml.enabled"] is False
    assert config["cluster.routing.allocation.disk.threshold_enabled"] is False
    assert (config["path.data"], config["path.logs"]) == ("/d", "/l")


def test_kafka_pom_pins_the_versions_py_artifacts() -> None:
    pom = render_kafka_pom()
    for artifact, version in [
        ("kafka_2.13", KAFKA_VERSION),
        ("kafka-tools", KAFKA_VERSION),
        ("log4j-slf4j-impl", LOG4J_VERSION),  # SLF4J 1.x binding: Kafka is silent without it
        ("log4j-core", LOG4J_VERSION),
    ]:
        assert f"<artifactId>{artifact}</artifactId><version>{version}</version>" in pom
    assert ELASTICSEARCH_VERSION not in pom
