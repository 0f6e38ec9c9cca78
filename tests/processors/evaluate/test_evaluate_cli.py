"""``deskwatch evaluate grouping``: the table, and a non-zero exit below Drain's figures."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from deskwatch.processors.evaluate.cli import evaluate
from deskwatch.processors.evaluate.loghub import LOGHUB_SETS, default_data_dir, loghub_dir

# Two lines of each format whose messages share one template but carry two labels: a merge.
TINY_LOGS = {
    "Windows": [
        "2016-09-28 04:30:31, Info                  CBS    Reboot mark refs: 1",
        "2016-09-28 04:30:32, Info                  CBS    Reboot mark refs: 2",
    ],
    "Linux": [
        "Jun 14 15:16:02 combo su(pam_unix)[1]: session closed for user news",
        "Jun 14 15:16:03 combo su(pam_unix)[2]: session closed for user root",
    ],
    "OpenSSH": [
        "Dec 10 06:55:46 LabSZ sshd[1]: Invalid user webmaster from 1.2.3.4",
        "Dec 10 06:55:47 LabSZ sshd[2]: Invalid user admin from 1.2.3.5",
    ],
}


def _write_tiny_loghub(root: Path) -> None:
    folder = root / "loghub"
    folder.mkdir()
    for spec in LOGHUB_SETS:
        (folder / spec.log_file).write_text("\n".join(TINY_LOGS[spec.name]) + "\n")
        (folder / spec.labels_file).write_text("LineId,EventId\n1,E1\n2,E2\n")


def test_grouping_exits_non_zero_below_drain(tmp_path: Path) -> None:
    _write_tiny_loghub(tmp_path)
    result = CliRunner().invoke(evaluate, ["grouping", "--data", str(tmp_path)])
    assert result.exit_code != 0
    assert "below Drain's published GA: Windows, Linux, OpenSSH" in result.output
    assert "0.0000" in result.output


def test_grouping_reports_missing_data(tmp_path: Path) -> None:
    result = CliRunner().invoke(evaluate, ["grouping", "--data", str(tmp_path)])
    assert result.exit_code != 0
    assert "missing loghub" in result.output


def test_grouping_on_the_real_files_prints_one_passing_row_per_set() -> None:
    root = Path(os.environ.get("DESKWATCH_SHARED_DATA", default_data_dir()))
    if not (loghub_dir(root) / "Windows_2k.log").is_file():
        pytest.skip(f"loghub files not found under {root} (set DESKWATCH_SHARED_DATA)")
    result = CliRunner().invoke(evaluate, ["grouping", "--data", str(root)])
    assert result.exit_code == 0, result.output
    rows = result.output.strip().splitlines()
    assert rows[0].startswith("dataset")
    assert [row.split()[0] for row in rows[1:]] == ["Windows", "Linux", "OpenSSH"]
    assert all(row.rstrip().endswith("≥") for row in rows[1:])
