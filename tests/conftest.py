"""Engine fixtures shared by every test folder.

``engines`` makes Kafka and Elasticsearch serve once per session through ``ensure_up``: the local
processes here, or docker-compose.yml's services where a Docker engine answers (the same pinned
images users run; testcontainers' Kafka module drives Confluent's image instead, and it would remove
the containers at session end). The engines are left running: CI's script stops them.
``settings`` points the settings tree at them with per-session topic and index prefixes, so tests
never touch a user's data.
"""

from __future__ import annotations

import uuid

import pytest

from deskwatch.settings import Settings, load_settings
from deskwatch.stack import Endpoints, ensure_up
from deskwatch.stack.progress import ElapsedReport


@pytest.fixture(scope="session")
def engines() -> Endpoints:
    """Kafka and Elasticsearch serving (started or reused); not stopped at session end."""
    return ensure_up(load_settings().stack, ElapsedReport())


@pytest.fixture(scope="session")
def settings(engines: Endpoints) -> Settings:
    """The settings tree aimed at ``engines``, with a unique ``test-<uuid8>`` prefix per session."""
    tag = uuid.uuid4().hex[:8]
    base = load_settings()
    kafka = base.kafka.model_copy(
        update={"bootstrap_servers": engines.kafka_bootstrap, "topic_prefix": f"test-{tag}."}
    )
    elasticsearch = base.elasticsearch.model_copy(
        update={"url": engines.es_url, "index_prefix": f"test-{tag}"}
    )
    return base.model_copy(update={"kafka": kafka, "elasticsearch": elasticsearch})
