"""Client options from the settings tree: Elasticsearch API key / basic auth / CA file, Kafka SASL.

API keys cannot be minted on the test server (its security index needs analysis-common), so they
are checked here at the client-configuration level; basic auth + TLS run against the real secured
server in tests/integration/test_security*.py.
"""

from __future__ import annotations

import base64
import logging
from pathlib import Path

import pytest
from pydantic import SecretStr

from deskwatch.connect import CREDENTIALS_CHECK_MS, CredentialsCheck, elasticsearch_client, kafka_python_options
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


def test_kafka_clients_wait_for_a_broker_as_long_as_the_settings_say() -> None:
    assert kafka_python_options(KafkaSettings())["bootstrap_timeout_ms"] == 30_000  # kafka-python's own default
    assert kafka_python_options(KafkaSettings(bootstrap_timeout_s=2.5))["bootstrap_timeout_ms"] == 2_500


class _Admin:
    """Stands in for kafka-python's admin client: records each bootstrap, fails as told."""

    made: list[dict[str, object]] = []
    fails: BaseException | None = None
    closed = 0

    def __init__(self, **options: object) -> None:
        _Admin.made.append(options)
        if _Admin.fails is not None:
            raise _Admin.fails

    def close(self) -> None:
        _Admin.closed += 1


SASL = KafkaSettings(security_protocol="SASL_PLAINTEXT", sasl_mechanism="SCRAM-SHA-512",
                     sasl_username="deskwatch", sasl_password=SecretStr("pw"))


@pytest.fixture
def admin(monkeypatch: pytest.MonkeyPatch) -> type[_Admin]:
    import kafka

    monkeypatch.setattr(kafka, "KafkaAdminClient", _Admin)
    _Admin.made, _Admin.fails, _Admin.closed = [], None, 0
    return _Admin


def test_the_credentials_check_is_off_unless_a_process_opts_in(admin: type[_Admin]) -> None:
    check = CredentialsCheck()
    check.before_first_client(SASL, {})
    assert admin.made == []


def test_the_credentials_check_bootstraps_once_per_credentials_and_only_with_sasl(admin: type[_Admin]) -> None:
    check = CredentialsCheck()
    check.enable()
    check.before_first_client(KafkaSettings(), {})  # PLAINTEXT: nothing to check
    assert admin.made == []
    for _ in range(3):
        check.before_first_client(SASL, {"sasl_plain_password": "pw"})
    other = SASL.model_copy(update={"sasl_password": SecretStr("other")})
    check.before_first_client(other, {"sasl_plain_password": "other"})
    assert [m["sasl_plain_password"] for m in admin.made] == ["pw", "other"]
    assert all(m["bootstrap_timeout_ms"] == CREDENTIALS_CHECK_MS for m in admin.made)
    assert admin.closed == 2


def test_the_credentials_check_raises_only_what_a_refusal_explains(admin: type[_Admin]) -> None:
    from kafka.errors import KafkaTimeoutError, SaslAuthenticationFailedError

    from deskwatch.logs import KAFKA_REFUSALS

    deadline = KafkaTimeoutError("Unable to bootstrap from ['127.0.0.1:1']")
    admin.fails = deadline
    quiet = CredentialsCheck()
    quiet.enable()
    quiet.before_first_client(SASL, {})  # nothing answered: the clients wait their own deadline
    assert len(admin.made) == 1

    class _Refusing(_Admin):
        def __init__(self, **options: object) -> None:  # the broker's refusal, logged as kafka-python logs it
            logging.getLogger("kafka.net.manager").error(
                "Connection failed: %s", SaslAuthenticationFailedError("Authentication failed during authentication"))
            super().__init__(**options)

    import kafka

    kafka.KafkaAdminClient = _Refusing  # the fixture restores it
    KAFKA_REFUSALS.last_refusal = "an earlier process's answer"  # forgotten: this bootstrap speaks
    refused = CredentialsCheck()
    refused.enable()
    with pytest.raises(KafkaTimeoutError) as raised:
        refused.before_first_client(SASL, {})
    assert raised.value is deadline
    assert KAFKA_REFUSALS.explains(raised.value) == "Authentication failed during authentication"
    KAFKA_REFUSALS.forget()
