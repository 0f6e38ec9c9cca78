"""`python -m bench` on a tiny volume against the real engines: the memory scenario end to end."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def test_memory_scenario_recovers_the_state_and_reports_rss(engines: object, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "memory", "--memory-hosts", "200", "--memory-events", "2000",
         "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert doc["errors"] == {}
    [row] = doc["rows"]
    figure = doc["scenarios"]["memory"]["figures"][0]
    assert row["scenario"] == "processor RSS, 200 hosts, 2,000 events in state"
    assert row["figure"] == figure["rss_peak_mib"] > 50  # a live Python worker, not a missing process
    assert figure["events"] == 2000 and figure["host_states"] >= 200 and figure["group_states"] > 0
    assert figure["changelog_bytes"] > 0
    assert "processor RSS" in run.stdout


def test_sink_scenario_indexes_the_same_documents_both_ways(engines: object, tmp_path: Path) -> None:
    """The sink and its helpers.bulk baseline write the same documents at the same versions (each
    incident's and change's record offset + 1): the baseline once passed a name where the origin
    goes and the scenario failed (2026-12-07)."""
    out = tmp_path / "results.json"
    run = subprocess.run(
        [sys.executable, "-m", "bench", "--only", "sink", "--sink-docs", "600", "--reps", "1", "--json", str(out)],
        cwd=ROOT, capture_output=True, text=True, timeout=240,
    )
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    doc = json.loads(out.read_text())
    assert doc["errors"] == {}
    [row] = doc["rows"]
    assert row["scenario"] == "sink" and row["figure"] > 0 and row["baseline"] > 0
    assert doc["scenarios"]["sink"]["docs"] == 600
