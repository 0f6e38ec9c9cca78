"""bench/report.py: rows, verdicts, the printed table and the JSON a later run compares with."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from rich.console import Console

from bench.report import (
    ReportError, Results, Row, Target, compare, document, markdown, number, print_results, read_rows, table,
    write_json,
)

RATIO_CASES = [
    ("rate-over-baseline", Row("x", 50.0, "events/s", 100.0), 0.5),
    ("duration-baseline-over-figure", Row("x", 4.0, "s", 1.0, ratio_of="baseline/figure"), 0.25),
    ("no-baseline", Row("x", 4.0, "MiB"), None),
    ("no-figure", Row("x", None, "ms", 10.0), None),
    ("zero-baseline", Row("x", 4.0, "s", 0.0), None),
    ("ratio-not-wanted", Row("x", 900.0, "ms", 1000.0, ratio_of="none"), None),
    ("paired-ratio-wins", Row("x", 2712.0, "events/s", 12729.0, paired_ratio=0.286), 0.286),
]


@pytest.mark.parametrize(("row", "expected"), [c[1:] for c in RATIO_CASES], ids=[c[0] for c in RATIO_CASES])
def test_ratio(row: Row, expected: float | None) -> None:
    assert row.ratio == expected


MET_CASES = [
    ("ratio-above", Row("x", 80.0, "/s", 100.0, target=Target(">=", 0.70)), True),
    ("ratio-equal", Row("x", 70.0, "/s", 100.0, target=Target(">=", 0.70)), True),
    ("ratio-below", Row("x", 69.0, "/s", 100.0, target=Target(">=", 0.70)), False),
    ("paired-ratio-judged", Row("x", 60.0, "/s", 100.0, target=Target(">=", 0.70), paired_ratio=0.71), True),
    ("figure-under-cap", Row("x", 900.0, "MiB", target=Target("<=", 1024, on="figure")), True),
    ("figure-over-cap", Row("x", 1100.0, "MiB", target=Target("<=", 1024, on="figure")), False),
    ("ratio-missing", Row("x", 5.0, "/s", target=Target(">=", 0.5)), None),
    ("no-target", Row("x", 5.0, "/s", 10.0), None),
]


@pytest.mark.parametrize(("row", "expected"), [c[1:] for c in MET_CASES], ids=[c[0] for c in MET_CASES])
def test_met(row: Row, expected: bool | None) -> None:
    assert row.met is expected


@pytest.mark.parametrize(("value", "unit", "text"), [
    (None, "ms", "—"), (40612.4, "events/s", "40,612 events/s"), (0.0123, "", "0.0123"), (99.94, "%", "99.9 %"),
], ids=["missing", "thousands", "small", "below-100"])
def test_number(value: float | None, unit: str, text: str) -> None:
    assert number(value, unit) == text


def test_target_text_says_what_is_compared() -> None:
    assert Target(">=", 0.7).text("events/s") == "ratio ≥ 0.7"
    assert Target("<=", 1250, on="figure").text("ms") == "≤ 1250 ms"


ROWS = [
    Row("end to end", 200.0, "events/s", 1000.0, "ES alone", Target(">=", 0.70)),
    Row("processor RSS, 100,000 hosts", 700.0, "MiB", None, "from changelogs", Target("<=", 1024, on="figure")),
    Row("CPU share", 71.0, "%", None, "Kafka 29 %"),
]


def test_markdown_has_one_line_per_row_with_ratio_target_and_verdict() -> None:
    lines = markdown(ROWS).splitlines()
    assert len(lines) == 2 + len(ROWS)
    assert lines[2] == "| end to end | 200 events/s | 1,000 events/s (ES alone) | 0.2 | ratio ≥ 0.7 | MISSED |"
    assert lines[3].endswith("| ≤ 1024 MiB | met |")
    assert lines[4].endswith("| — | — |")


def test_printed_table_names_each_scenario_and_the_missed_ones() -> None:
    console = Console(record=True, width=200)
    print_results(Results(rows=ROWS, seconds={"e2e": 61.0}, errors={"latency": "boom"}), console)
    text = console.export_text()
    for row in ROWS:
        assert row.scenario in text
    assert "MISSED" in text and "latency failed" in text and "e2e 61" in text
    assert table(ROWS).row_count == len(ROWS)


def test_json_round_trip_and_comparison(tmp_path: Path) -> None:
    results = Results(rows=ROWS, raw={"e2e": {"events": 10}}, seconds={"e2e": 61.0})
    path = write_json(tmp_path / "a" / "r.json", document(results, {"reps": 3}))
    doc = json.loads(path.read_text())
    assert doc["rows"][0] == {**doc["rows"][0], "ratio": 0.2, "met": False, "target": "ratio ≥ 0.7"}
    assert doc["options"] == {"reps": 3} and doc["scenarios"] == {"e2e": {"events": 10}}
    assert doc["commit"] and doc["machine"]["cpus"]
    rows = read_rows(path)
    assert set(rows) == {r.scenario for r in ROWS}
    better = {**rows, "end to end": {**rows["end to end"], "ratio": 0.4}}
    cmp = compare(rows, better)
    console = Console(record=True, width=200)
    console.print(cmp)
    assert "+100%" in console.export_text()


@pytest.mark.parametrize("content", ["not json", '{"rows": 3}', '{"no": "rows"}'], ids=["text", "bad-rows", "no-rows"])
def test_read_rows_rejects_other_files(tmp_path: Path, content: str) -> None:
    path = tmp_path / "r.json"
    path.write_text(content)
    with pytest.raises(ReportError):
        read_rows(path)
