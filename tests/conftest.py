"""Engine fixtures shared by every test folder.

``engines`` makes Kafka and Elasticsearch serve once per session. Where a Docker engine answers,
testcontainers runs docker-compose.yml's engine services (the same pinned images users run;
testcontainers' own Kafka module would drive Confluent's image instead) and removes them at the
end. Otherwise the project's own local stack (``ensure_up``) runs them as processes, left running
for the next session: CI's script stops them.
``settings`` points the settings tree at them with per-session topic and index prefixes, so tests
never touch a user's data.

Decision: property tests run derandomized by default (Hypothesis profile ``ci``): each test draws
the same examples on every run until the test, Hypothesis or Python changes, so a run of the test
command (and so CI) passes or fails on the code alone, never on the day's seed. Searching for new
counterexamples is its own job, ``make explore`` (profile ``explore``: random seeds, more
examples, failures saved to the local example database and replayed first by every later run).
Random seeds found three real stage-2 ordering bugs (each now pinned as an ``@example``); one of
them surfaced as a failed CI run, which a random seed in the gate can do to any submission.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from deskwatch.connect import elasticsearch_client
from deskwatch.settings import Settings, StackSettings, load_settings
from deskwatch.sinks.elasticsearch.templates import delete_indices
from deskwatch.stack.docker import ENGINE_SERVICES, compose_env, docker_answers
from deskwatch.stack import Endpoints, ensure_up
from deskwatch.stack.progress import ElapsedReport
from deskwatch.topics import delete_topics


hypothesis_settings.register_profile("ci", derandomize=True, print_blob=True)
hypothesis_settings.register_profile(
    "explore",
    derandomize=False,
    print_blob=True,
    max_examples=2_000,  # tests that set their own count keep it: `make explore` repeats them
    suppress_health_check=[HealthCheck.too_slow],
)
hypothesis_settings.load_profile(os.environ.get("DESKWATCH_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def engines() -> Iterator[Endpoints]:
    """Kafka and Elasticsearch serving: containers where Docker answers, local processes otherwise."""
    stack = load_settings().stack
    if stack.mode != "local" and docker_answers():
        yield from _containers(stack)
    else:
        yield ensure_up(stack, ElapsedReport())


def _containers(stack: StackSettings) -> Iterator[Endpoints]:
    from testcontainers.compose import DockerCompose

    os.environ.update(compose_env(stack))  # the compose file publishes the ports the settings name
    compose = DockerCompose(stack.compose_file.parent, compose_file_name=stack.compose_file.name,
                            services=list(ENGINE_SERVICES), wait=True)
    with compose:
        yield ensure_up(stack, ElapsedReport())  # probes readiness: topics listed, health yellow


@pytest.fixture(scope="session")
def settings(engines: Endpoints) -> Iterator[Settings]:
    """The settings tree aimed at ``engines``, with a unique ``test-<uuid8>`` prefix per session.

    Every topic and index whose name starts with ``test-<uuid8>`` is deleted at the end (processor
    app ids start with it too, for faust's own topics): the local engines outlive the session, and
    the topics of sessions never deleted once ran the local broker out of file descriptors (19,865
    partition directories, "Too many open files", then every log dir marked failed)."""
    tag = uuid.uuid4().hex[:8]
    base = load_settings()
    kafka = base.kafka.model_copy(
        update={"bootstrap_servers": engines.kafka_bootstrap, "topic_prefix": f"test-{tag}."}
    )
    elasticsearch = base.elasticsearch.model_copy(
        update={"url": engines.es_url, "index_prefix": f"test-{tag}"}
    )
    session = base.model_copy(update={"kafka": kafka, "elasticsearch": elasticsearch})
    yield session
    forget_session(session, f"test-{tag}")


def forget_session(s: Settings, start: str) -> None:
    """Delete the topics and indices whose names begin with ``start``."""
    delete_topics(s.kafka, start)
    delete_indices(elasticsearch_client(s.elasticsearch), start)
