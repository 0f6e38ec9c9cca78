"""The real engines: ``ensure_up`` makes them serve, and a second call reuses the same processes."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from elasticsearch import Elasticsearch
from kafka import KafkaAdminClient

from deskwatch.cli import main
from deskwatch.settings import load_settings
from deskwatch.stack import ensure_up, stack_status

pytestmark = pytest.mark.integration


def test_ensure_up_serves_and_reuses_the_running_engines() -> None:
    settings = load_settings().stack
    found = ensure_up(settings)
    before = [(e.name, e.running, e.pid) for e in stack_status(settings)]
    admin = KafkaAdminClient(bootstrap_servers=found.kafka_bootstrap)
    try:
        assert isinstance(admin.list_topics(), list)
    finally:
        admin.close()
    with Elasticsearch(found.es_url) as es:
        health = es.cluster.health(wait_for_status="yellow", timeout="30s")
        assert health["status"] in ("yellow", "green")
    assert ensure_up(settings) == found
    assert [(e.name, e.running, e.pid) for e in stack_status(settings)] == before
    assert all(running for _, running, _ in before)


def test_stack_status_command_shows_both_running() -> None:
    ensure_up(load_settings().stack)
    result = CliRunner().invoke(main, ["stack", "status"])
    assert result.exit_code == 0, result.output
    lines = {line.split()[0]: line.split()[1] for line in result.output.splitlines()}
    assert lines == {"kafka": "running", "elasticsearch": "running"}
