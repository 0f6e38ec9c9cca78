"""Acceptance on a real capture (OTRF, empire_ninjacopy_dumping_ntds_dit_file): parsed by the nxlog
parser and replayed through both cores, the crash and its WER reports are ONE app-crash-storm
incident counting every one of them, and the DNS-Client timeouts are one dns-timeouts incident.
The expected counts come from the capture itself, read with plain json, not from the parser."""

from __future__ import annotations

import json
import zipfile
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from deskwatch.processors.evaluate.loghub import default_data_dir
from deskwatch.processors.evaluate.replay import ReplayResult, replay
from deskwatch.processors.rules import load_default_pack
from deskwatch.producers.parse.contract import SourceContext
from deskwatch.producers.parse.dispatch import parse_lines
from deskwatch.schemas.event import WorkstationEvent

CAPTURE = "otrf/empire_ninjacopy_dumping_ntds_dit_file.zip"
CRASH = {("Application Error", 1000), ("Windows Error Reporting", 1001)}
DNS = {("Microsoft-Windows-DNS-Client", 1014)}


def _capture() -> Path:
    path = default_data_dir() / CAPTURE
    if not path.is_file():  # an acceptance test is never skipped silently: it fails, saying why
        pytest.fail(f"the OTRF capture is missing: {path}")
    return path


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    with zipfile.ZipFile(path) as archive:
        for info in archive.infolist():
            if not info.filename.startswith("__MACOSX/") and not info.is_dir():
                with archive.open(info) as member:
                    yield from enumerate(member, 1)


def _count_by_hand(path: Path) -> Counter[str]:
    counts: Counter[str] = Counter()
    for _, line in _lines(path):
        record = json.loads(line)
        kind = (record["SourceName"], int(record["EventID"]))
        counts["crash"] += kind in CRASH
        counts["dns"] += kind in DNS
    return counts


@pytest.fixture(scope="module")
def replayed() -> tuple[ReplayResult, Counter[str]]:
    path = _capture()
    ctx = SourceContext(source=path.name, reference_time=datetime(2023, 7, 20, tzinfo=UTC))
    events = [r for _, _, r in parse_lines(_lines(path), "nxlog_json", ctx) if isinstance(r, WorkstationEvent)]
    result = replay(events, load_default_pack(), [], timedelta(seconds=10), source=path.name)
    return result, _count_by_hand(path)


@pytest.mark.parametrize(("rule_id", "kind"), [("app-crash-storm", "crash"), ("dns-timeouts", "dns")],
                         ids=["crash-and-wer-reports", "dns-client-timeouts"])
def test_one_incident_counting_every_event(replayed: tuple[ReplayResult, Counter[str]], rule_id: str,
                                           kind: str) -> None:
    result, by_hand = replayed
    found = [i for i in result.incidents.values() if i.rule_id == rule_id]
    assert by_hand[kind] >= 5, f"the capture should hold several {kind} events, counted {by_hand[kind]}"
    assert len(found) == 1, [(i.group_key, i.event_count) for i in found]
    assert found[0].event_count == by_hand[kind]
    assert found[0].hosts == ["DC01.pandalab.com"]


def test_capture_counts_as_the_parser_engineer_counted(replayed: tuple[ReplayResult, Counter[str]]) -> None:
    _, by_hand = replayed
    assert (by_hand["crash"], by_hand["dns"]) == (1 + 5, 5)
