"""`deskwatch demo`, the README's first command, end to end on the real engines."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

import click
import pytest

from deskwatch.components import Component, write_settings_file
from deskwatch.connect import elasticsearch_client
from deskwatch.context import Context
from deskwatch.demo import DemoRun
from deskwatch.demo_cli import demo, print_results
from deskwatch.settings import Settings
from deskwatch.sinks.elasticsearch.templates import incidents_alias

FOUND = re.compile(r"^(\d+) incident\(s\) no parent absorbed, for the (\d+) problems the simulator injected", re.M)
SINCE = re.compile(r"^\$ deskwatch search --since (\S+) 'NOT _exists_:parent_id'$", re.M)


def test_the_demo_finds_one_incident_per_injected_problem_and_lists_only_its_own_day(
        pipeline_settings: Settings, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = write_settings_file(pipeline_settings, tmp_path / "settings.yaml")
    run = Component(["demo", "--folder", str(tmp_path / "demo")], config, tmp_path / "demo.log")
    assert run.proc.wait(600) == 0, run.tail()
    out = run.log.read_text()
    found, since = FOUND.search(out), SINCE.search(out)
    assert found and since, out
    assert int(found[1]) == int(found[2]) == 9, out  # nine problems, each seen once (evaluate: seeds 1-12 alike)
    assert "more in these indices" not in out, "fresh indices hold nothing from before"

    # An incident of an earlier day in the same indices (what an earlier day's run leaves):
    # counted apart, not listed.
    start = datetime.fromisoformat(since[1])
    client = elasticsearch_client(pipeline_settings.elasticsearch)
    alias = incidents_alias(pipeline_settings.elasticsearch)
    source = client.search(index=alias, query={"match_all": {}}, size=1)["hits"]["hits"][0]["_source"]
    earlier = {**source, "id": "e" * 24, "first_seen": (start - timedelta(days=2)).isoformat(),
               "last_seen": (start - timedelta(days=2, minutes=-5)).isoformat()}
    earlier.pop("parent_id", None)
    client.index(index=alias, id=earlier["id"], document=earlier, refresh=True)
    capsys.readouterr()
    ctx = Context(pipeline_settings)
    with click.Context(demo, obj=ctx):
        print_results(ctx, DemoRun(start=start, injected=9, truth=tmp_path / "truth.json"))
    again = capsys.readouterr().out
    assert FOUND.search(again) and FOUND.search(again)[1] == found[1], again  # type: ignore[index]
    assert "1 more in these indices were last seen before this run's day" in again, again
    assert "e" * 24 not in again
