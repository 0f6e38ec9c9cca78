"""Detached processes stop as a whole group; a failed start names the engine, command and log."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from deskwatch.stack.engine import EngineSpec
from deskwatch.stack.errors import EngineStartError
from deskwatch.stack.progress import silent
from deskwatch.stack.supervise import alive, group_members, spawn, stop_group, tail
from deskwatch.stack.wait import wait_serving


def fake_engine(tmp_path: Path, script: str, answers: bool = False) -> EngineSpec:
    return EngineSpec(
        name="fake",
        port=1,
        argv=["sh", "-c", script],
        cwd=tmp_path,
        log=tmp_path / "fake.log",
        marker="sh",
        answers=lambda: answers,
        env={"PATH": "/usr/bin:/bin"},
    )


def start(spec: EngineSpec) -> int:
    return spawn(spec.argv, cwd=spec.cwd, env=spec.env, log=spec.log, user=None).pid


@pytest.mark.parametrize(
    ("script", "grace_s", "max_s"),
    [
        ("sleep 300 & sleep 300", 10.0, 5.0),
        ("trap '' TERM; sleep 300 & sleep 300", 1.0, 8.0),  # ignores TERM: needs the SIGKILL
    ],
    ids=["obeys-sigterm", "ignores-sigterm"],
)
def test_stop_group_leaves_no_process_of_the_group(
    tmp_path: Path, script: str, grace_s: float, max_s: float
) -> None:
    pid = start(fake_engine(tmp_path, script))
    deadline = time.monotonic() + 5
    while len(group_members(pid)) < 3 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(group_members(pid)) == 3  # sh and both sleeps share the session's group
    began = time.monotonic()
    stop_group("fake", pid, grace_s, silent)
    assert group_members(pid) == []
    assert not alive(pid)
    assert time.monotonic() - began < max_s


def test_an_engine_that_exits_fails_with_its_name_command_and_log(tmp_path: Path) -> None:
    spec = fake_engine(tmp_path, "echo 'cannot bind 127.0.0.1:1'; exit 3")
    with pytest.raises(EngineStartError) as failure:
        wait_serving(spec, start(spec), timeout_s=20, report=silent)
    message = str(failure.value)
    assert message.startswith("fake exited before serving")
    assert "command: sh -c echo 'cannot bind" in message
    assert "cannot bind 127.0.0.1:1" in message.split("last lines of")[1]


def test_an_engine_that_never_answers_times_out(tmp_path: Path) -> None:
    spec = fake_engine(tmp_path, "echo starting; exec sleep 60")
    pid = start(spec)
    try:
        with pytest.raises(EngineStartError, match=r"fake did not answer within 1s"):
            wait_serving(spec, pid, timeout_s=1, report=silent)
    finally:
        stop_group("fake", pid, 5, silent)


def test_a_serving_engine_returns_at_once(tmp_path: Path) -> None:
    spec = fake_engine(tmp_path, "exec sleep 60", answers=True)
    pid = start(spec)
    try:
        assert wait_serving(spec, pid, timeout_s=5, report=silent) < 1.0
    finally:
        stop_group("fake", pid, 5, silent)


@pytest.mark.parametrize(
    ("lines", "keep", "expected"),
    [(5, 30, "0\n1\n2\n3\n4\n"), (50, 3, "47\n48\n49\n")],
    ids=["short-log", "long-log"],
)
def test_tail_keeps_the_last_lines(tmp_path: Path, lines: int, keep: int, expected: str) -> None:
    log = tmp_path / "x.log"
    log.write_text("".join(f"{i}\n" for i in range(lines)))
    assert tail(log, keep) == expected


def test_tail_of_a_missing_log_says_so(tmp_path: Path) -> None:
    assert "no log at" in tail(tmp_path / "missing.log")
