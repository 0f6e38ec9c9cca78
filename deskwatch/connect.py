"""Client options derived from the settings tree: one place knows how to reach Kafka and Elasticsearch."""

from __future__ import annotations

import hashlib
import ssl
from typing import Any

from deskwatch.settings import ElasticsearchSettings, KafkaSettings, ProducerSettings


# Decision: kafka-python waits up to 30 s between reconnection attempts to a broker it lost (its
# reconnect_backoff_max_ms; the Java client's is 1 s). After the fault campaign's broker SIGKILL
# the sink, a member holding all 12 partitions, fetched nothing for ~60 s after the broker served
# again (2026-12-04 16:43, that row's recover s 89.8; ~15 s in the run whose row read 29.3).
RECONNECT_BACKOFF_MAX_MS = 1_000


def bootstrap_deadline(exc: BaseException) -> bool:
    """Whether ``exc`` is a kafka-python client giving up at its bootstrap deadline: no broker
    answered usefully (kafka-python 3.0 raises this; the 2.x NoBrokersAvailable is gone)."""
    from kafka.errors import KafkaTimeoutError

    return isinstance(exc, KafkaTimeoutError) and "bootstrap" in str(exc)


# Decision: a command says a refused Kafka password within this, not after kafka-python's 30 s
# bootstrap deadline. kafka-python 3.0 retries a refused SASL handshake like any failed connection
# until that deadline (kafka/net/manager.py, ``_do_bootstrap``), so `deskwatch produce` with a wrong
# password said "refused" only after 30 s, and the processor after 31. A command's first client is
# preceded by one bootstrap this short with the same options (``CredentialsCheck``): when the last
# failure of it was the broker's refusal, the command fails at once with what the broker said (77).
# Anything else (it bootstrapped; nothing answered; a slow broker) changes nothing: the clients go on
# with their own deadlines, so a broker still starting is waited for as before. 3 s holds about five
# refused handshakes at kafka-python's reconnect backoff (50 ms doubling, at most 1 s here).
CREDENTIALS_CHECK_MS = 3_000


class CredentialsCheck:
    """One short bootstrap before a process's first kafka-python client with SASL credentials.

    Off until the process opts in (``deskwatch``'s command line does, ``enable``): building options
    stays free of I/O for library callers and unit tests, and a process that never talks to Kafka
    never connects. Once per process and set of credentials, whatever it found.
    """

    def __init__(self) -> None:
        self.enabled = False
        self._done: set[tuple[str, ...]] = set()

    def enable(self) -> None:
        self.enabled = True

    def before_first_client(self, kafka: KafkaSettings, options: dict[str, Any]) -> None:
        """Raise kafka-python's bootstrap-deadline error at once when the broker refuses these
        credentials throughout ``CREDENTIALS_CHECK_MS``; return in every other case."""
        if not self.enabled or kafka.sasl_mechanism is None:
            return
        password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else ""
        # the password's digest, not the password: no second copy of a secret kept in memory
        key = (kafka.bootstrap_servers, kafka.sasl_mechanism, kafka.sasl_username or "",
               hashlib.sha256(password.encode()).hexdigest())
        if key in self._done:
            return
        self._done.add(key)
        from kafka import KafkaAdminClient

        from deskwatch.logs import KAFKA_REFUSALS, watch_kafka_refusals

        watch_kafka_refusals()
        KAFKA_REFUSALS.forget()  # only this bootstrap's connections speak for these credentials
        try:
            admin = KafkaAdminClient(**{**options, "client_id": "deskwatch-credentials-check",
                                        "bootstrap_timeout_ms": CREDENTIALS_CHECK_MS})
        except Exception as exc:  # noqa: BLE001 - a probe: only a refusal is its to say
            if KAFKA_REFUSALS.explains(exc) is not None:
                raise
            return  # not answered (yet), or another failure: the client itself meets it, with its deadline
        admin.close()


CREDENTIALS_CHECK = CredentialsCheck()


def kafka_python_options(kafka: KafkaSettings) -> dict[str, Any]:
    """Connection options for kafka-python clients (producer, consumer, admin). Every client of
    deskwatch's components and commands is built from them (the stack's own readiness and ACL
    probes are not: they only retry until the broker serves), so this is where kafka-python is
    also made to read a broker's last answer before its close (``deskwatch.kafka_eof``), and where
    a command's first client with SASL credentials is preceded by ``CREDENTIALS_CHECK``."""
    from deskwatch.kafka_eof import read_before_close

    read_before_close()
    opts: dict[str, Any] = {
        "bootstrap_servers": kafka.bootstrap_servers.split(","),
        "security_protocol": kafka.security_protocol,
        "reconnect_backoff_max_ms": RECONNECT_BACKOFF_MAX_MS,
        "bootstrap_timeout_ms": round(kafka.bootstrap_timeout_s * 1000),
    }
    if kafka.ssl_cafile is not None:
        opts["ssl_cafile"] = str(kafka.ssl_cafile)
    if kafka.sasl_mechanism is not None:
        opts["sasl_mechanism"] = kafka.sasl_mechanism
        opts["sasl_plain_username"] = kafka.sasl_username
        opts["sasl_plain_password"] = kafka.sasl_password.get_secret_value() if kafka.sasl_password else None
    CREDENTIALS_CHECK.before_first_client(kafka, opts)
    return opts


def kafka_python_consumer_options(kafka: KafkaSettings, fetch_max_wait_ms: int) -> dict[str, Any]:
    """Connection options for a kafka-python consumer that hands over records as soon as any exist.

    ``fetch_min_bytes=1`` makes the broker answer a fetch once a record is there; a short
    ``fetch_max_wait_ms`` (kafka-python's default is 500) bounds the wait when it is not.
    """
    return {**kafka_python_options(kafka), "fetch_min_bytes": 1, "fetch_max_wait_ms": fetch_max_wait_ms}


def kafka_python_producer_options(kafka: KafkaSettings, producer: ProducerSettings) -> dict[str, Any]:
    """A kafka-python producer's options: idempotent, acks=all, the configured codec, 1 MiB batches."""
    return {
        "enable_idempotence": True,  # explicit: a conflicting option must raise, not silently disable it
        "acks": "all",
        "compression_type": None if producer.compression == "none" else producer.compression,
        "linger_ms": producer.linger_ms,
        "batch_size": 1_048_576,
        "max_request_size": 8_388_608,
        **kafka_python_options(kafka),
    }


def faust_broker_options(kafka: KafkaSettings) -> dict[str, Any]:
    """The ``broker`` and ``broker_credentials`` arguments of a faust App."""
    import faust

    url = ";".join(f"kafka://{hp}" for hp in kafka.bootstrap_servers.split(","))
    creds: Any = None
    if kafka.sasl_mechanism is not None:
        password = kafka.sasl_password.get_secret_value() if kafka.sasl_password else ""
        context = ssl.create_default_context(cafile=str(kafka.ssl_cafile) if kafka.ssl_cafile else None)
        creds = faust.SASLCredentials(
            username=kafka.sasl_username or "",
            password=password,
            mechanism=kafka.sasl_mechanism,
            ssl_context=context if kafka.security_protocol == "SASL_SSL" else None,
        )
    elif kafka.security_protocol == "SSL":
        creds = ssl.create_default_context(cafile=str(kafka.ssl_cafile) if kafka.ssl_cafile else None)
    return {"broker": url, "broker_credentials": creds}


def elasticsearch_client(es: ElasticsearchSettings) -> Any:
    """An Elasticsearch client with orjson serialisation, auth and TLS from the settings."""
    from elasticsearch import Elasticsearch
    from elasticsearch.serializer import OrjsonSerializer

    kwargs: dict[str, Any] = {"request_timeout": es.request_timeout_s, "serializer": OrjsonSerializer()}
    if es.api_key is not None:
        kwargs["api_key"] = es.api_key.get_secret_value()
    elif es.username is not None:
        kwargs["basic_auth"] = (es.username, es.password.get_secret_value() if es.password else "")
    if es.ca_file is not None:
        kwargs["ca_certs"] = str(es.ca_file)
    return Elasticsearch(es.url, **kwargs)


def es_reason(err: Any) -> str:
    """Elasticsearch's own reason for refusing a request (its root cause), else the error's text
    (``err``: an ``elasticsearch.ApiError``)."""
    body = err.body if isinstance(err.body, dict) else {}
    error = body.get("error")
    if not isinstance(error, dict):
        return str(err.message)
    causes = error.get("root_cause") or [error]
    reason = causes[0].get("reason") if causes and isinstance(causes[0], dict) else None
    return str(reason or err.message)
