"""Secrets in the settings tree never show: not in repr, str, JSON dumps, validation errors or client errors."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from elastic_transport import ConnectionError as EsConnectionError
from kafka import KafkaAdminClient
from kafka.errors import KafkaError
from pydantic import ValidationError

from deskwatch.connect import elasticsearch_client, faust_broker_options, kafka_python_options
from deskwatch.settings import Settings, load_settings

SECRET = "Sup3r-Secret-" + "q" * 20


def _secured() -> Settings:
    return Settings.model_validate(
        {
            "kafka": {
                "security_protocol": "SASL_SSL",
                "sasl_mechanism": "SCRAM-SHA-512",
                "sasl_username": "deskwatch",
                "sasl_password": SECRET,
                "bootstrap_servers": "127.0.0.1:1",
            },
            "elasticsearch": {
                "url": "https://127.0.0.1:1",
                "username": "deskwatch",
                "password": SECRET,
                "api_key": None,
                "request_timeout_s": 2.0,
            },
            "http_ingest": {"token": SECRET},
        }
    )


@pytest.mark.parametrize(
    "show",
    [
        repr,
        str,
        lambda s: s.model_dump_json(),
        lambda s: str(s.model_dump()),
        lambda s: repr(s.kafka),
        lambda s: s.elasticsearch.model_dump_json(),
        lambda s: str(s.http_ingest),
    ],
    ids=["repr", "str", "dump-json", "dump", "kafka-repr", "es-json", "ingest-str"],
)
def test_settings_never_show_a_secret(show: Callable[[Settings], str]) -> None:
    assert SECRET not in show(_secured())


@pytest.mark.parametrize(
    "field",
    [("kafka", "sasl_password"), ("elasticsearch", "password"), ("elasticsearch", "api_key")],
    ids=["kafka", "es-password", "es-api-key"],
)
def test_a_numeric_yaml_password_is_text_and_never_quoted_in_an_error(
    field: tuple[str, str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    section, name = field
    config = tmp_path / "settings.yaml"
    monkeypatch.setenv("DESKWATCH_CONFIG", str(config))
    config.write_text(f"{section}:\n  {name}: 987654321\n")
    settings = load_settings()
    assert getattr(getattr(settings, section), name).get_secret_value() == "987654321"
    config.write_text(f"{section}:\n  {name}: 987654321\n  bogus: 1\n")
    with pytest.raises(ValidationError) as caught:
        load_settings()
    assert "bogus" in str(caught.value) and "987654321" not in str(caught.value)


def test_a_bad_value_beside_a_secret_quotes_the_value_not_the_secret() -> None:
    with pytest.raises(ValidationError) as caught:
        Settings.model_validate({"kafka": {"sasl_password": SECRET, "partitions": 0}})
    assert "partitions" in str(caught.value) and SECRET not in str(caught.value)


def test_an_elasticsearch_error_with_a_password_does_not_carry_it() -> None:
    client = elasticsearch_client(_secured().elasticsearch)
    with pytest.raises(EsConnectionError) as caught:
        client.cluster.health()
    assert SECRET not in f"{caught.value!s} {caught.value!r} {caught.value.errors!r}"


def test_a_kafka_error_with_a_password_does_not_carry_it() -> None:
    options = kafka_python_options(_secured().kafka) | {"bootstrap_timeout_ms": 1000}
    with pytest.raises(KafkaError) as caught:
        KafkaAdminClient(**options)
    assert SECRET not in f"{caught.value!s} {caught.value!r}"


def test_faust_credentials_carry_tls_and_scram() -> None:
    creds = faust_broker_options(_secured().kafka)["broker_credentials"]
    assert creds.mechanism.value == "SCRAM-SHA-512" and creds.ssl_context is not None
    assert SECRET not in repr(creds)
