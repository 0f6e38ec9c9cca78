"""``deskwatch rules check|whatif``: a pack is validated as one set; a candidate rule set replayed
over the same events shows exactly the incidents it would no longer open, open anew or change —
from a JSON-lines file, and (integration) from the real events topic."""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from deskwatch.processors.evaluate.loghub import default_data_dir, loghub_dir
from deskwatch.processors.evaluate.whatif import what_if
from deskwatch.processors.rules import load_default_pack, load_rules
from deskwatch.producers.simulate import FleetSpec, simulate_fleet
from deskwatch.producers.simulate.write import write_inventory_csv, write_jsonl
from deskwatch.sinks.elasticsearch.templates import delete_indices, ensure_indices, incidents_alias

from deskwatch.cli import main
from deskwatch.components import write_settings_file
from deskwatch.connect import elasticsearch_client
from deskwatch.settings import Settings
from deskwatch.topics import ensure_topics
from tests.prefixed import prefixed

PACK = Path(__file__).parents[3] / "processors" / "rules" / "pack"


def _run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(main, list(args), env=env or {}, catch_exceptions=False)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The demo's fleet shape (a GPO wave among others), as files."""
    folder = tmp_path_factory.mktemp("fleet")
    sim = simulate_fleet(FleetSpec(seed=7, start=datetime(2026, 11, 23, 6, 0, tzinfo=UTC), duration=timedelta(hours=8),
                                   sites=4, directorates=3, hosts_per_site=(12, 25), noise_events_per_host_per_hour=2.0))
    write_jsonl(sim, folder / "events.jsonl")
    write_inventory_csv(sim.assets, folder / "inventory.csv")
    return folder


@pytest.fixture
def stricter(tmp_path: Path) -> Path:
    """The default pack, with the site-wide GPO rule needing 90 hosts."""
    folder = tmp_path / "candidate"
    shutil.copytree(PACK, folder, ignore=shutil.ignore_patterns("__*"))
    gpo = folder / "grouppolicy.yaml"
    text = gpo.read_text()
    at = text.index("id: gpo-failure-site")
    gpo.write_text(text[:at] + text[at:].replace("min_hosts: 5", "min_hosts: 90", 1).replace(
        "min_population_pct: 20", "min_population_pct: 100", 1))
    return folder


def test_check_validates_a_pack_as_one_set(stricter: Path, tmp_path: Path) -> None:
    ok = _run("rules", "check")
    assert ok.exit_code == 0 and ok.output.startswith("25 rules valid (default pack): app-crash-storm, ")
    assert _run("rules", "check", str(stricter)).output.startswith("25 rules valid (")
    (tmp_path / "bad.yaml").write_text("- id: Bad Id\n  version: 1\n")
    bad = _run("rules", "check", str(tmp_path / "bad.yaml"))
    assert bad.exit_code == 1 and "bad.yaml: rule 'Bad Id'" in bad.output
    assert "twice" in _run("rules", "check", str(PACK), str(PACK / "disk.yaml")).output
    empty = tmp_path / "empty"
    empty.mkdir()
    assert "no .yaml or .yml rule files" in _run("rules", "check", str(empty)).output


def test_whatif_shows_the_wave_no_longer_opened(fleet: Path, stricter: Path) -> None:
    out = _run("rules", "whatif", "--candidate", str(stricter), "--events", str(fleet / "events.jsonl"),
               "--inventory", str(fleet / "inventory.csv"), "--details", "2")
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    summary = next(line for line in lines if " events replayed: " in line)
    assert "; 1 no longer opened, 0 new, " in summary
    table = lines[lines.index(next(line for line in lines if line.startswith("rule "))) + 1:]
    assert any(line.split() == ["gpo-failure-site", "1", "0", "0"] for line in table)
    removed = lines[lines.index("no longer opened (1):") + 1]
    assert removed.startswith("  gpo-failure-site v2  gpo-failure-site|asset.site=") and "hosts=16" in removed


def test_whatif_with_the_same_rules_changes_nothing(fleet: Path) -> None:
    out = _run("rules", "whatif", "--candidate", str(PACK), "--events", str(fleet / "events.jsonl"),
               "--inventory", str(fleet / "inventory.csv"))
    assert out.output.rstrip().endswith("the candidate opens exactly the same incidents"), out.output
    assert "; 0 no longer opened, 0 new, 0 changed, " in out.output


def test_whatif_order_does_not_matter_and_a_bad_line_is_skipped_and_said(fleet: Path, stricter: Path,
                                                                         tmp_path: Path) -> None:
    from deskwatch.schemas.event import WorkstationEvent

    events = [WorkstationEvent.model_validate_json(line) for line in (fleet / "events.jsonl").read_bytes().splitlines()]
    from deskwatch.producers.inventory import read_inventory

    assets, _ = read_inventory(fleet / "inventory.csv")
    forward = what_if(events, assets, load_default_pack(), load_rules(sorted(stricter.glob("*.yaml"))))
    backward = what_if(reversed(events), assets, load_default_pack(), load_rules(sorted(stricter.glob("*.yaml"))))
    assert forward.diff == backward.diff and len(forward.diff.removed) == 1
    mixed = tmp_path / "mixed.jsonl"
    mixed.write_bytes(b"not json\n" + (fleet / "events.jsonl").read_bytes() + b'{"x": 1}\n')
    out = CliRunner().invoke(main, ["rules", "whatif", "--candidate", str(PACK), "--events", str(mixed)], env={})
    assert out.exit_code == 0 and "mixed.jsonl:1: skipped, invalid_json: " in out.output
    assert "mixed.jsonl: 2 records skipped (invalid_json 1, missing_host 1)" in out.output
    assert "(no --inventory: no site or population)" in out.output


def test_whatif_reads_the_logs_the_producers_read(tmp_path: Path) -> None:
    """loghub's OpenSSH log (syslog, no year, no zone: both given) replayed in place: a candidate that
    wants 1,000 failures before it opens an sshd incident opens none of the ones in service."""
    root = Path(os.environ.get("DESKWATCH_SHARED_DATA", default_data_dir()))
    log = loghub_dir(root) / "OpenSSH_2k.log"
    if not log.is_file():
        pytest.skip(f"{log} not found (set DESKWATCH_SHARED_DATA)")
    candidate = tmp_path / "candidate"
    shutil.copytree(PACK, candidate, ignore=shutil.ignore_patterns("__*"))
    linux = candidate / "linux.yaml"
    linux.write_text(linux.read_text().replace("min_events: 10\n", "min_events: 1000\n", 1))
    out = _run("rules", "whatif", "--candidate", str(candidate), "--events", str(log), "--year", "2024",
               "--tz", "UTC")
    assert out.exit_code == 0, out.output
    head = out.output[out.output.index("2000 events replayed: "):].splitlines()
    removed = int(head[0].split("; ")[1].split()[0])
    assert removed > 0 and head[0].endswith(f"{removed} no longer opened, 0 new, 0 changed, 0 the same")
    rows = {line.split()[0]: line.split()[1:] for line in head[3:] if line and not line.startswith(" ")}
    assert rows["ssh-auth-failures"] == [str(removed), "0", "0"]
    capture = root / "otrf" / "empire_ninjacopy_dumping_ntds_dit_file.zip"  # zipped NXLog-style JSON
    same = _run("rules", "whatif", "--candidate", str(PACK), "--events", str(capture))
    assert same.exit_code == 0, same.output
    assert "13969 events replayed: 2 incidents with the rules in service, 2 with the candidate" in same.output


def test_whatif_names_an_unreadable_format(tmp_path: Path) -> None:
    text = tmp_path / "notes.txt"
    text.write_text("hello\nworld\n")
    out = _run("rules", "whatif", "--candidate", str(PACK), "--events", str(text))
    assert out.exit_code == 1 and "cannot tell the format of" in out.output and "(name it with --format)" in out.output
    wrong = _run("rules", "whatif", "--candidate", str(PACK), "--events", str(text), "--tz", "Mars/Olympus")
    assert wrong.exit_code == 2 and "'Mars/Olympus' is not a time zone" in wrong.output
    named = _run("rules", "whatif", "--candidate", str(PACK), "--events", str(text), "--format", "xml")
    assert named.exit_code == 2 and "'xml' is not one of" in named.output  # refused before any file is read


def test_whatif_refuses_unclear_input(fleet: Path) -> None:
    neither = _run("rules", "whatif", "--candidate", str(PACK))
    assert neither.exit_code == 2 and "give --events FILE (repeatable) or --topic" in neither.output
    capped = _run("rules", "whatif", "--candidate", str(PACK), "--events", str(fleet / "events.jsonl"),
                  "--max-events", "10")
    assert capped.exit_code == 1 and "more than 10 events" in capped.output


@pytest.fixture
def published(settings: Settings, fleet: Path, tmp_path: Path) -> Iterator[Path]:
    """The fleet's events produced to a fresh events topic, as `deskwatch produce` sends them."""
    s = prefixed(settings, 2)
    ensure_topics(s.kafka)
    config = write_settings_file(s, tmp_path / "settings.yaml")
    produced = _run("produce", "--format", "jsonl", str(fleet / "events.jsonl"), env={"DESKWATCH_CONFIG": str(config)})
    assert produced.exit_code == 0, produced.output
    yield config


@pytest.mark.integration
def test_whatif_reads_the_events_topic(published: Path, fleet: Path, stricter: Path) -> None:
    env: dict[str, Any] = {"DESKWATCH_CONFIG": str(published)}
    from_file = _run("rules", "whatif", "--candidate", str(stricter), "--events", str(fleet / "events.jsonl"),
                     "--inventory", str(fleet / "inventory.csv"))
    from_topic = _run("rules", "whatif", "--candidate", str(stricter), "--topic",
                      "--inventory", str(fleet / "inventory.csv"), env=env)
    assert from_topic.exit_code == 0, from_topic.output

    def result(out: str) -> list[str]:
        return out[out.index(" events replayed: ") - 5:].splitlines()

    assert result(from_topic.output) == result(from_file.output)


@pytest.mark.integration
def test_whatif_writes_both_runs_to_shadow_indices_and_drop_shadow_removes_them(
        settings: Settings, fleet: Path, stricter: Path, tmp_path: Path) -> None:
    """--shadow NAME: each run's incidents (latest revision) and transitions in indices of their own,
    replaced by a second run of that NAME, deleted by drop-shadow; the real indices are never touched."""
    s = prefixed(settings, 1)
    es = elasticsearch_client(s.elasticsearch)
    try:
        ensure_indices(es, s.elasticsearch)  # the real indices, there before and after
        env: dict[str, Any] = {"DESKWATCH_CONFIG": str(write_settings_file(s, tmp_path / "settings.yaml"))}
        args = ("rules", "whatif", "--candidate", str(stricter), "--events", str(fleet / "events.jsonl"),
                "--inventory", str(fleet / "inventory.csv"), "--shadow", "gpo_90")
        for _ in range(2):  # the second run replaces the first: nothing doubles
            out = _run(*args, env=env)
            assert out.exit_code == 0, out.output
            found = re.search(r"(\d+) incidents with the rules in service, (\d+) with the candidate", out.output)
            assert found is not None
            before, after = int(found[1]), int(found[2])
            ids = {side: _ids(es, f"{s.elasticsearch.index_prefix}-whatif-gpo_90-{side}-incidents")
                   for side in ("current", "candidate")}
            assert (len(ids["current"]), len(ids["candidate"])) == (before, after) and before == after + 1
            removed = ids["current"] - ids["candidate"]
            assert len(removed) == 1 and es.get(
                index=f"{s.elasticsearch.index_prefix}-whatif-gpo_90-current-incidents",
                id=removed.pop())["_source"]["rule_id"] == "gpo-failure-site"
            history = es.count(index=f"{s.elasticsearch.index_prefix}-whatif-gpo_90-candidate-incident-history")
            assert f"({history['count']} transitions)" in out.output and history["count"] >= after
        search = _run("search", "--rule", "gpo-failure-site", "--json",
                      env={**env, "DESKWATCH_ELASTICSEARCH__INDEX_PREFIX": f"{s.elasticsearch.index_prefix}-whatif-"
                                                                            "gpo_90-current"})
        assert search.exit_code == 0 and '"gpo-failure-site"' in search.output
        assert es.count(index=incidents_alias(s.elasticsearch))["count"] == 0  # the real ones: untouched
        dropped = _run("rules", "drop-shadow", "gpo_90", env=env)
        assert dropped.exit_code == 0 and "4 indices deleted" in dropped.output
        assert es.indices.get(index=f"{s.elasticsearch.index_prefix}-whatif-*", allow_no_indices=True) == {}
        assert es.indices.exists_alias(name=incidents_alias(s.elasticsearch))
        bad = _run("rules", "drop-shadow", "Has-Capitals", env=env)
        assert bad.exit_code == 2 and "lower-case letters" in bad.output
    finally:
        delete_indices(es, s.elasticsearch.index_prefix)
        es.close()


def _ids(es: Any, index: str) -> set[str]:
    es.indices.refresh(index=index)
    return {hit["_id"] for hit in es.search(index=index, size=1000, source=False)["hits"]["hits"]}


def test_whatif_with_a_shadow_checks_elasticsearch_before_it_replays(fleet: Path, stricter: Path) -> None:
    result = CliRunner().invoke(main, ["rules", "whatif", "--candidate", str(stricter), "--events",
                                       str(fleet / "events.jsonl"), "--shadow", "x"],
                                env={"DESKWATCH_ELASTICSEARCH__URL": "http://127.0.0.1:9"})
    assert result.exit_code == 69 and "cannot reach Elasticsearch at http://127.0.0.1:9" in result.output
    assert "events replayed" not in result.output


def test_whatif_reads_a_folder_of_logs_and_refuses_an_empty_one(fleet: Path, tmp_path: Path) -> None:
    logs = tmp_path / "logs"
    logs.mkdir()
    shutil.copy(fleet / "events.jsonl", logs / "a.jsonl")
    (logs / ".hidden").write_text("not a log\n")
    (logs / "sub").mkdir()
    one = _run("rules", "whatif", "--candidate", str(PACK), "--events", str(logs))
    assert one.exit_code == 0 and "1606 events replayed: 121 incidents" in one.output, one.output
    empty = tmp_path / "empty"
    empty.mkdir()
    none = _run("rules", "whatif", "--candidate", str(PACK), "--events", str(empty))
    assert none.exit_code == 1 and f"no files in {empty}" in none.output
