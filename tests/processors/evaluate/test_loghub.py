"""loghub reading: header formats, provider tags, and the real benchmark files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from deskwatch.processors.evaluate import measure_grouping
from deskwatch.processors.evaluate.loghub import (
    LOGHUB_SETS,
    LoghubSet,
    default_data_dir,
    header_regex,
    loghub_dir,
    provider_of,
    read_set,
)

SPECS = {spec.name: spec for spec in LOGHUB_SETS}

HEADERS = [
    (
        "Windows",
        "2016-09-28 04:30:31, Info                  CBS    Ending TrustedInstaller initialization.",
        "CBS",
        "Ending TrustedInstaller initialization.",
    ),
    (
        "Linux",
        "Jun 14 15:16:02 combo sshd(pam_unix)[19937]: check pass; user unknown",
        "sshd(pam_unix)",
        "check pass; user unknown",
    ),
    (
        "Linux",
        "Jun 19 04:08:57 combo syslogd 1.4.1: restart.",
        "syslogd 1.4.1",
        "restart.",
    ),
    (
        "OpenSSH",
        "Dec 10 06:55:46 LabSZ sshd[24200]: Invalid user webmaster from 173.234.31.186",
        "LabSZ",
        "Invalid user webmaster from 173.234.31.186",
    ),
]


@pytest.mark.parametrize(
    ("dataset", "line", "component", "content"),
    HEADERS,
    ids=["windows_cbs", "linux_pid", "linux_no_pid", "openssh"],
)
def test_header_regex_splits_header_from_content(
    dataset: str, line: str, component: str, content: str
) -> None:
    match = header_regex(SPECS[dataset].header).search(line)
    assert match is not None
    assert (match["Component"], match["Content"]) == (component, content)


@pytest.mark.parametrize(
    ("tag", "provider"),
    [
        ("sshd(pam_unix)", "pam_unix"),
        ("su(pam_unix)", "pam_unix"),
        ("kernel", "kernel"),
        ("syslogd 1.4.1", "syslogd 1.4.1"),
        ("CBS", "CBS"),
    ],
    ids=["sshd_pam", "su_pam", "plain", "with_version", "windows_component"],
)
def test_provider_of_names_the_writing_module(tag: str, provider: str) -> None:
    assert provider_of(tag) == provider


def _loghub() -> Path:
    root = Path(os.environ.get("DESKWATCH_SHARED_DATA", default_data_dir()))
    folder = loghub_dir(root)
    if not all((folder / spec.log_file).is_file() for spec in LOGHUB_SETS):
        pytest.skip(f"loghub files not found under {root} (set DESKWATCH_SHARED_DATA)")
    return folder


@pytest.mark.parametrize("spec", LOGHUB_SETS, ids=[spec.name for spec in LOGHUB_SETS])
def test_every_raw_line_is_read_and_labelled(spec: LoghubSet) -> None:
    lines = read_set(_loghub(), spec)
    assert len(lines) == 2000
    assert all(line.content and line.event_id for line in lines)


def test_grouping_accuracy_is_at_least_drains_on_each_set() -> None:
    results = {result.dataset: result for result in measure_grouping(_loghub())}
    assert set(results) == {"Windows", "Linux", "OpenSSH"}
    below = {name: (r.ga, r.drain_ga) for name, r in results.items() if r.ga < r.drain_ga}
    assert below == {}
