"""The secured engines (stack.security=on) as session fixtures, beside the shared plain ones.

They run from their own stack home and ports (Kafka 29192/29193, Elasticsearch 29201/29301,
512 MB heaps), brought up by the project's own ``ensure_up`` and left running like the plain
ones. The Maven cache of the plain home is reused, so nothing is downloaded twice. Test modules
import the fixtures they use from here.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from pydantic import SecretStr

from deskwatch.components import Component, write_settings_file
from deskwatch.settings import Settings, StackSettings, load_settings
from deskwatch.stack import ensure_up
from deskwatch.stack.credentials import Credentials, client_sections, read_credentials
from deskwatch.stack.layout import Layout
from deskwatch.stack.progress import ElapsedReport

SECURE_HOME = Path("/var/lib/deskwatch-secure")
SECURE_PORTS = {
    "kafka_port": 29192,
    "kafka_controller_port": 29193,
    "es_http_port": 29201,
    "es_transport_port": 29301,
}


def secure_stack_settings(base: StackSettings) -> StackSettings:
    """``base`` moved to the secured home and ports, with security on."""
    return base.model_copy(
        update={
            "home": SECURE_HOME,
            "mode": "local",
            "security": "on",
            "kafka_heap": "512m",
            "es_heap": "512m",
            "maven_repo": base.maven_repo or Layout(base.home).m2,
            "start_timeout_s": 300.0,
            **SECURE_PORTS,
        }
    )


@pytest.fixture(scope="session")
def secure_stack() -> StackSettings:
    """The secured Kafka and Elasticsearch serving (started or reused); not stopped at the end."""
    stack = secure_stack_settings(load_settings().stack)
    ensure_up(stack, ElapsedReport())
    return stack


@pytest.fixture(scope="session")
def secure_credentials(secure_stack: StackSettings) -> Credentials:
    """The generated passwords, read from the stack's 0600 file."""
    return read_credentials(Layout(secure_stack.home).credentials_file)


@pytest.fixture(scope="session")
def secure_settings(secure_stack: StackSettings) -> Settings:
    """A settings tree aimed at the secured engines as the deskwatch user, unique prefixes."""
    tag = uuid.uuid4().hex[:8]
    kafka, es = client_sections(secure_stack)
    return load_settings().model_copy(
        update={
            "stack": secure_stack,
            "kafka": kafka.model_copy(update={"topic_prefix": f"test-{tag}.", "partitions": 2}),
            "elasticsearch": es.model_copy(update={"index_prefix": f"test-{tag}"}),
        }
    )


@pytest.fixture
def secure_pipeline_settings(secure_settings: Settings, tmp_path: Path) -> Settings:
    """The session's secured settings with test-unique group ids, data dir and prefixes."""
    tag = uuid.uuid4().hex[:8]
    s = secure_settings
    return s.model_copy(
        update={
            "kafka": s.kafka.model_copy(update={"topic_prefix": f"{s.kafka.topic_prefix}{tag}."}),
            "elasticsearch": s.elasticsearch.model_copy(
                update={"index_prefix": f"{s.elasticsearch.index_prefix}-{tag}"}
            ),
            "processor": s.processor.model_copy(
                update={
                    "app_id": f"test-proc-{tag}",  # "test-": a prefix the ACLs grant
                    "datadir": tmp_path / "proc",
                    "commit_every": 100,
                }
            ),
            "sink": s.sink.model_copy(
                update={"group_id": f"test-sink-{tag}", "flush_interval_s": 0.2}
            ),
            "http_ingest": s.http_ingest.model_copy(
                update={
                    "port": free_port(),
                    "token": SecretStr(f"dw-ingest-token-{uuid.uuid4().hex}"),
                }
            ),
        }
    )


def free_port() -> int:
    """A TCP port nothing listens on right now (on loopback)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@pytest.fixture
def secure_launch(
    secure_pipeline_settings: Settings, tmp_path: Path
) -> Iterator[Callable[..., Component]]:
    """Start deskwatch components on the secured engines; all are stopped at the end of the test."""
    config = write_settings_file(secure_pipeline_settings, tmp_path / "settings.yaml")
    started: list[Component] = []

    def _launch(*args: str) -> Component:
        c = Component(list(args), config, tmp_path / "logs" / f"{args[0]}-{len(started)}.log")
        started.append(c)
        return c

    yield _launch
    for c in started:
        c.stop()
