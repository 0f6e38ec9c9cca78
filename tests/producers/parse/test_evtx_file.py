"""Whole .evtx files through the evtx package: the shared samples read in place, a damaged
file's bad chunks reported, and cut or foreign files turned into rejections."""

from __future__ import annotations

import json
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import pytest
from deskwatch.producers.parse import read_evtx
from deskwatch.schemas.event import WorkstationEvent

from .samples import make_ctx, tally

FIGURES = [
    # file, read, parsed, rejections by reason
    ("system.evtx", 1881, 1881, {}),
    ("2-vss_7-System.evtx", 1160, 1160, {}),
    ("Application_no_crc32.evtx", 17, 17, {}),
    # chunks 6 and 10 have a zeroed header; record 46741 renders with a null System/TimeCreated
    (
        "sample_with_a_bad_chunk_magic.evtx",
        272,
        269,
        {"damaged_evtx_chunk": 2, "invalid_timestamp": 1},
    ),
]


@pytest.mark.parametrize(
    ("name", "read", "parsed", "reasons"), FIGURES, ids=[f[0] for f in FIGURES]
)
def test_sample_figures(
    shared_data: Path, name: str, read: int, parsed: int, reasons: dict[str, int]
) -> None:
    got_read, got_parsed, got_reasons, events = tally(
        read_evtx(shared_data / "evtx" / name, make_ctx(name))
    )
    assert (got_read, got_parsed, dict(got_reasons)) == (read, parsed, reasons)
    ids = [e.event_id for e in events.values() if isinstance(e, WorkstationEvent)]
    assert len(ids) == len(set(ids)) == parsed


def test_system_evtx_spot_checks_and_counts_by_hand(shared_data: Path) -> None:
    path = shared_data / "evtx" / "system.evtx"
    items = list(read_evtx(path, make_ctx("system.evtx")))
    by_hand: Counter[tuple[str, str]] = Counter()
    for (
        _,
        original,
        _,
    ) in items:  # the original bytes are the package's JSON: count from them directly
        system = json.loads(original)["Event"]["System"]
        code = (
            system["EventID"]["#text"] if isinstance(system["EventID"], dict) else system["EventID"]
        )
        by_hand[(system["Provider"]["#attributes"]["Name"], str(code))] += 1
    parsed = Counter(
        (r.event.provider, r.event.code) for _, _, r in items if isinstance(r, WorkstationEvent)
    )
    assert parsed == by_hand
    assert parsed[("Microsoft-Windows-DNS-Client", "1014")] == 160
    position, _, first = items[0]
    assert isinstance(first, WorkstationEvent)
    assert (position, first.event.code, first.event.provider, first.host.name, first.log.level) == (
        "1",
        "6009",
        "EventLog",
        "WIN-P4SIAA0SQCO",
        "info",
    )
    assert first.timestamp == datetime(2017, 7, 12, 17, 16, 28, 214161, tzinfo=UTC)
    assert first.message == 'Data[0]=10.00. Data[1]=15063 Data[3]="Multiprocessor Free" Data[4]=0'
    levels = Counter(r.log.level for _, _, r in items if isinstance(r, WorkstationEvent))
    assert levels["warning"] > 0 and levels["error"] > 0


def test_bad_chunks_are_reported_with_their_bytes(shared_data: Path) -> None:
    path = shared_data / "evtx" / "sample_with_a_bad_chunk_magic.evtx"
    damaged = [
        (pos, raw, r)
        for pos, raw, r in read_evtx(path, make_ctx(path.name))
        if not isinstance(r, WorkstationEvent) and r.reason == "damaged_evtx_chunk"
    ]
    assert [pos for pos, _, _ in damaged] == ["chunk 6", "chunk 10"]
    for _, raw, rejected in damaged:
        assert len(raw) == 65536 and raw[:8] == b"\x00" * 8 and any(raw)
        assert "Invalid EVTX chunk header magic" in rejected.detail


def test_cut_file_reports_its_lost_tail(shared_data: Path, tmp_path: Path) -> None:
    cut = tmp_path / "cut.evtx"
    cut.write_bytes((shared_data / "evtx" / "system.evtx").read_bytes()[: 4096 + 65536 + 30000])
    read, parsed, reasons, results = tally(read_evtx(cut, make_ctx("cut.evtx")))
    assert (read, parsed, dict(reasons)) == (parsed + 1, parsed, {"truncated_evtx_file": 1})
    assert parsed > 0 and "30000 bytes into" in results["tail"].detail


@pytest.mark.parametrize(
    "content",
    [b"", b"hello" * 100, b"ElfFile\x00" + b"\x00" * 100],
    ids=["empty", "text", "header-only"],
)
def test_foreign_file_is_one_rejection(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "x.evtx"
    path.write_bytes(content)
    items = list(read_evtx(path, make_ctx()))
    assert [(pos, r.reason) for pos, _, r in items if not isinstance(r, WorkstationEvent)] == [
        ("file", "damaged_evtx_file")
    ]
    assert len(items) == 1


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        list(read_evtx(tmp_path / "absent.evtx", make_ctx()))
