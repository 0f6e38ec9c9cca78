"""The local Kafka broker: configure, format once, command line, and the probe that it serves."""

from __future__ import annotations

import base64
import subprocess
import uuid
from typing import Any

from kafka import KafkaAdminClient
from kafka.errors import KafkaConfigurationError, KafkaError

from deskwatch.settings import StackSettings
from deskwatch.stack.credentials import write_private
from deskwatch.stack.engine import EngineSpec, base_env, java_home, port_open
from deskwatch.stack.errors import EngineStartError
from deskwatch.stack.layout import Layout
from deskwatch.stack.render import (
    LOOPBACK,
    render_kafka_log4j2,
    render_server_properties,
)

MAIN_CLASS = "kafka.Kafka"


def kafka_bootstrap(settings: StackSettings) -> str:
    """The bootstrap address clients use."""
    return f"{LOOPBACK}:{settings.kafka_port}"


def kafka_answers(bootstrap: str, options: dict[str, Any] | None = None) -> bool:
    """True when an admin client connects and lists topics (a bad client config still raises).

    ``options`` are extra kafka-python options (SASL_SSL and credentials on a secured broker).
    """
    host, _, port = bootstrap.partition(":")
    if not port_open(host, int(port)):
        return False
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=bootstrap, request_timeout_ms=5000, **(options or {})
        )
    except KafkaConfigurationError:
        raise  # our bug, not "not ready yet": never hide it behind a start timeout
    except (KafkaError, OSError):
        return False
    try:
        admin.list_topics()
        return True
    except (KafkaError, OSError):
        return False
    finally:
        admin.close()


def new_cluster_id() -> str:
    """A KRaft cluster id: a random UUID in URL-safe base64, not starting with '-' (as Kafka's)."""
    while True:
        text = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if not text.startswith("-"):
            return text


def _java(layout: Layout, heap: str | None = None) -> list[str]:
    heap_opts = [f"-Xms{heap}", f"-Xmx{heap}"] if heap else []
    log4j = f"-Dlog4j2.configurationFile={layout.kafka_run / 'log4j2.properties'}"
    return [str(java_home() / "bin" / "java"), *heap_opts, log4j, "-cp", f"{layout.kafka_libs}/*"]


def prepare_kafka(settings: StackSettings, layout: Layout) -> None:
    """Write the configs and format the storage the first time (KRaft needs a cluster id)."""
    from deskwatch.stack.secure import (
        kafka_security_properties,
        prepare_security,
        scram_format_args,
    )

    layout.kafka_data.mkdir(parents=True, exist_ok=True)
    properties = layout.kafka_run / "server.properties"
    creds = prepare_security(settings, layout) if settings.security == "on" else None
    security = kafka_security_properties(settings, layout, creds) if creds else None
    # 0600 in any case: when secured it holds the keystore and inter-broker passwords.
    write_private(properties, render_server_properties(settings, layout.kafka_data, security))
    (layout.kafka_run / "log4j2.properties").write_text(render_kafka_log4j2())
    if (layout.kafka_data / "meta.properties").exists():
        return
    command = [*_java(layout), "kafka.tools.StorageTool", "format"]
    command += ["-t", new_cluster_id(), "-c", str(properties)]
    scram = scram_format_args(settings, creds) if creds else []
    done = subprocess.run(
        command + scram, capture_output=True, text=True, check=False, env=base_env()
    )
    if done.returncode != 0:
        # The SCRAM arguments hold passwords: the message names the command without them.
        raise EngineStartError(
            f"kafka: formatting storage failed: {' '.join(command)}\n{done.stdout}{done.stderr}"
        )


def kafka_spec(settings: StackSettings, layout: Layout) -> EngineSpec:
    """How to run the broker (as whoever runs us: Kafka has no objection to root)."""
    argv = [
        *_java(layout, settings.kafka_heap),
        MAIN_CLASS,
        str(layout.kafka_run / "server.properties"),
    ]
    bootstrap = kafka_bootstrap(settings)

    def answers() -> bool:
        if settings.security != "on":
            return kafka_answers(bootstrap)
        return _secured_answers(settings, layout)

    return EngineSpec(
        name="kafka",
        port=settings.kafka_port,
        argv=argv,
        cwd=layout.kafka_run,
        log=layout.kafka_log,
        marker=MAIN_CLASS,
        answers=answers,
        env=base_env(),
    )


def _secured_answers(settings: StackSettings, layout: Layout) -> bool:
    """The admin gets in, the deskwatch user's ACLs are reconciled, and the user gets in too."""
    from deskwatch.stack.authorize import grant_kafka_acls, kafka_admin_options
    from deskwatch.stack.secure import kafka_probe_options

    bootstrap = kafka_bootstrap(settings)
    # Until the authorizer has loaded the metadata log, even the admin is refused: not ready yet.
    if not kafka_answers(bootstrap, kafka_admin_options(settings, layout)):
        return False
    try:
        grant_kafka_acls(settings, layout)
    except (KafkaError, OSError):  # retriable only: a refusal is a KafkaAclError and fails the start
        return False
    return kafka_answers(bootstrap, kafka_probe_options(settings, layout))
