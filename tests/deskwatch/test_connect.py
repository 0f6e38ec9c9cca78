"""Client options from the settings tree: Elasticsearch API key / basic auth / CA file, Kafka SASL.

API keys cannot be minted on the test server (its security index needs analysis-common), so they
are checked here at the client-configuration level; basic auth + TLS run against the real secured
server in tests/integration/test_security*.py.
"""

from __future__ import annotations

import base64
from pathlib import Path

from pydantic import SecretStr

from deskwatch.connect import elasticsearch_client, kafka_python_options
from deskwatch.settings import ElasticsearchSettings, KafkaSettings


def test_an_api_key_becomes_the_authorization_header() -> None:
    client = elasticsearch_client(ElasticsearchSettings(api_key=SecretStr("a2V5OnNlY3JldA==")))
    assert client._headers["authorization"] == "ApiKey a2V5OnNlY3JldA=="


def test_basic_auth_and_ca_file_reach_the_client(tmp_path: Path) -> None:
    ca = tmp_path / "ca.pem"
    ca.write_text("not read until a TLS connection is made")
    es = ElasticsearchSettings(url="https://127.0.0.1:9200", username="deskwatch",
                               password=SecretStr("s3cret"), ca_file=ca)
    client = elasticsearch_client(es)
    assert client._headers["authorization"] == "Basic " + base64.b64encode(b"deskwatch:s3cret").decode()
    node = next(iter(client.transport.node_pool.all()))
    assert node.config.ca_certs == str(ca) and node.config.scheme == "https"


def test_kafka_sasl_ssl_options() -> None:
    opts = kafka_python_options(KafkaSettings(security_protocol="SASL_SSL", sasl_mechanism="SCRAM-SHA-512",
                                              sasl_username="deskwatch", sasl_password=SecretStr("pw"),
                                              ssl_cafile=Path("/etc/ca.pem")))
    assert opts["security_protocol"] == "SASL_SSL" and opts["sasl_mechanism"] == "SCRAM-SHA-512"
    assert (opts["sasl_plain_username"], opts["sasl_plain_password"], opts["ssl_cafile"]) == (
        "deskwatch", "pw", "/etc/ca.pem")
