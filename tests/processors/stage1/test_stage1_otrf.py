"""Stage 1 on a real capture (OTRF empire_ninjacopy, a domain controller's logs, 2023-07-19).

One application crash there writes one Application Error 1000 and five Windows Error Reporting
1001 reports: they must land in one rule group, so stage 2 opens one incident, not two.
"""

from __future__ import annotations

import zipfile
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from stage1_build import PACK
from deskwatch.processors.stage1 import DecisionKind, HostState, Stage1, Stage1Result
from deskwatch.producers.parse import Rejected, SourceContext, parse_nxlog_json
from deskwatch.schemas.envelope import EventBatch
from deskwatch.schemas.event import WorkstationEvent

CAPTURE = (
    Path(__file__).resolve().parents[4]
    / "shared/data/otrf/empire_ninjacopy_dumping_ntds_dit_file.zip"
)
NOW = datetime(2023, 7, 20, tzinfo=UTC)
pytestmark = pytest.mark.skipif(
    not CAPTURE.exists(), reason=f"{CAPTURE} is absent (shared data folder)"
)


@pytest.fixture(scope="module")
def events() -> list[WorkstationEvent]:
    """The capture's Application and System events (Sysmon and Security add nothing the pack matches)."""
    ctx = SourceContext(source=CAPTURE.name, reference_time=NOW)
    parsed: list[WorkstationEvent] = []
    with zipfile.ZipFile(CAPTURE) as archive:
        name = next(
            n for n in archive.namelist() if n.endswith(".json") and not n.startswith("__MACOSX")
        )
        with archive.open(name) as lines:
            for position, line in enumerate(lines):
                result = parse_nxlog_json(line, position, ctx)
                assert not isinstance(result, Rejected), result
                if result.labels.get("channel") in ("Application", "System"):
                    parsed.append(result)
    return sorted(parsed, key=lambda e: e.timestamp)


def _run(stage: Stage1, events: list[WorkstationEvent], size: int = 50) -> list[Stage1Result]:
    state: HostState | None = None
    results: list[Stage1Result] = []
    for start in range(0, len(events), size):
        envelope = EventBatch(
            host=events[0].host.name, source=CAPTURE.name, events=events[start : start + size]
        )
        results.append(stage.process(envelope, state, NOW))
        state = results[-1].new_state
    return results


def test_one_crash_is_one_group_and_replays_add_nothing(events: list[WorkstationEvent]) -> None:
    stage = Stage1(PACK, {}, {})
    results = _run(stage, events)
    signals = [s for r in results for s in r.signals]
    crash = [s for s in signals if s.rule_id == "app-crash-storm"]
    assert {s.group_key for s in crash} == {
        "app-crash-storm|host.name=DC01.pandalab.com|process.name=launcher.exe_unknown"
    }
    assert sum(s.count for s in crash) == 6  # 1 x event 1000 + 5 x event 1001
    # each with its parent rule's signal too (app-crash-spread, dns-timeouts-site), which the one host
    # of this capture cannot bring to their min_hosts
    assert {s.rule_id for s in signals} == {"app-crash-storm", "app-crash-spread", "dns-timeouts", "dns-timeouts-site"}
    decided = Counter(d.kind for r in results for d in r.decisions)
    assert sum(decided.values()) == len(events) and decided[DecisionKind.DUPLICATE_ID] == 0

    replay = stage.process(
        EventBatch(host="DC01.pandalab.com", source=CAPTURE.name, events=events[:200]),
        results[-1].new_state,
        NOW,
    )
    assert replay.signals == [] and {d.kind for d in replay.decisions} == {
        DecisionKind.DUPLICATE_ID
    }


def test_dns_timeouts_fold_into_counted_digests(events: list[WorkstationEvent]) -> None:
    results = _run(Stage1(PACK, {}, {}), events)
    dns = [d for r in results for d in r.digests if d.rule_ids == ["dns-timeouts", "dns-timeouts-site"]]
    final = {d.digest_id: d.repeat_count for d in dns}  # the last digest of an id carries its count
    timeouts = sum(1 for e in events if e.event.code == "1014")
    assert sum(final.values()) == timeouts
    assert len(final) < timeouts  # same name, same template: repeats were folded
