"""On the real engines: an incident the sink wrote is searchable at once, not at the next periodic
refresh. The indices get a 60 s refresh interval, so only the sink's explicit refresh can make the
incident searchable within the test's bound; with ``incident_refresh`` off it must not be."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from deskwatch.connect import elasticsearch_client
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.templates import incidents_alias
from deskwatch.topics import ensure_topics
from tests.prefixed import prefixed
from tests.sinks.elasticsearch.sink_feed import running_sink, send_incidents, until

pytestmark = pytest.mark.integration

WRITE_BOUND_S = 90.0  # the write itself (the group join comes first): not what is measured here
SEARCHABLE_BOUND_S = 3.0  # far below the 60 s periodic refresh


def _settings(settings: Settings, incident_refresh: bool) -> Settings:
    s = prefixed(settings, 1, sink={"group_id": lambda tag: f"test-refresh-{tag}",
                                    "incident_refresh": incident_refresh})
    s = s.model_copy(update={"elasticsearch": s.elasticsearch.model_copy(update={"refresh_interval": "60s"})})
    ensure_topics(s.kafka)
    return s


@pytest.fixture
def running(request: pytest.FixtureRequest, settings: Settings) -> Iterator[Settings]:
    """A sink looping on this test's topics and indices, ``incident_refresh`` as the test asks."""
    s = _settings(settings, request.param)
    with running_sink(s):
        yield s


def _searchable(es: object, alias: str, doc_id: str) -> bool:
    hits = es.search(index=alias, query={"ids": {"values": [doc_id]}}, size=1)  # type: ignore[attr-defined]
    return bool(hits["hits"]["hits"])


@pytest.mark.parametrize("running", [True], indirect=True, ids=["refresh-on"])
def test_written_incident_is_searchable_at_once(running: Settings) -> None:
    es = elasticsearch_client(running.elasticsearch)
    alias = incidents_alias(running.elasticsearch)
    send_incidents(running, range(1))
    until(lambda: es.exists(index=alias, id="inc-00000", realtime=True).body, WRITE_BOUND_S)
    waited = until(lambda: _searchable(es, alias, "inc-00000"), SEARCHABLE_BOUND_S)
    assert waited < SEARCHABLE_BOUND_S
    settings_of = es.indices.get_settings(index=alias)
    assert all(v["settings"]["index"]["refresh_interval"] == "60s" for v in settings_of.body.values())


@pytest.mark.parametrize("running", [False], indirect=True, ids=["refresh-off"])
def test_without_the_refresh_the_incident_waits_for_the_interval(running: Settings) -> None:
    """The control: the same write is not searchable within the bound when the sink does not refresh."""
    es = elasticsearch_client(running.elasticsearch)
    alias = incidents_alias(running.elasticsearch)
    send_incidents(running, range(1))
    until(lambda: es.exists(index=alias, id="inc-00000", realtime=True).body, WRITE_BOUND_S)
    deadline = time.monotonic() + SEARCHABLE_BOUND_S
    while time.monotonic() < deadline:
        assert not _searchable(es, alias, "inc-00000"), "searchable without any refresh"
        time.sleep(0.1)
