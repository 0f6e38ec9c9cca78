"""Fixtures for the sources' real-socket tests: a unique topic prefix on the real broker."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from deskwatch.producers.envelope import EnvelopeLimits
from deskwatch.producers.publish import Publisher

from deskwatch.settings import Settings
from tests.prefixed import prefixed
from tests.records import read_topic as read_topic  # noqa: F401 - the sources' tests import it from here
from deskwatch.topics import ensure_topics

LIMITS = EnvelopeLimits(max_events=50, max_bytes=900_000, linger_s=0.05)


@pytest.fixture
def broker_settings(settings: Settings) -> Settings:
    """The session settings with a test-unique topic prefix; the topics exist."""
    s = prefixed(settings, 2)
    ensure_topics(s.kafka)
    return s


@pytest.fixture
def publisher(broker_settings: Settings) -> Iterator[Publisher]:
    p = Publisher(broker_settings.kafka, broker_settings.producer, max_in_flight=100)
    yield p
    p.close()
