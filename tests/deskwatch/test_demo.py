"""The demo's supervision: a worker that exits asking for a restart is started again, up to a limit."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import click
import pytest

from deskwatch.components import Component
from deskwatch.demo import RESTARTS_MAX, restart_exited


class _Worker:
    """Stands in for a Component: exits with ``code`` (None: still running)."""

    def __init__(self, args: list[str], code: int | None, generation: int = 0) -> None:
        self.args, self.generation = args, generation
        self.proc = SimpleNamespace(returncode=code)
        self.log = Path(f"/tmp/{args[0]}.log")

    def running(self) -> bool:
        return self.proc.returncode is None

    def tail(self, n: int = 40) -> str:
        return "the last lines"

    def again(self) -> _Worker:
        return _Worker(self.args, None, self.generation + 1)


def test_a_worker_that_exits_asking_for_a_restart_is_replaced_in_place() -> None:
    said: list[str] = []
    sink = _Worker(["sink", "run"], None)
    workers: list[Any] = [_Worker(["processor", "run"], os.EX_TEMPFAIL), sink]
    assert restart_exited(workers, 0, said.append) == 1
    assert workers[0].generation == 1 and workers[0].running() and workers[1] is sink
    assert len(said) == 1 and "`deskwatch processor run` exited asking for a restart (code 75)" in said[0]
    assert restart_exited(workers, 1, said.append) == 1, "running workers are left alone"


def test_restarts_stop_at_the_limit() -> None:
    workers: list[Any] = [_Worker(["processor", "run"], os.EX_TEMPFAIL)]
    with pytest.raises(click.ClickException, match="exited with code 75"):
        restart_exited(workers, RESTARTS_MAX, lambda _: None)


@pytest.mark.parametrize("code", [0, 1, 2, -9])
def test_any_other_exit_is_an_error_with_the_workers_log(code: int) -> None:
    workers: list[Any] = [_Worker(["sink", "run"], code)]
    with pytest.raises(click.ClickException, match=f"(?s)`deskwatch sink run` exited with code {code}:.*the last lines"):
        restart_exited(workers, 0, lambda _: None)


def test_a_component_started_again_runs_the_same_command_and_logs_beside_the_first(tmp_path: Path) -> None:
    config = tmp_path / "settings.yaml"
    config.write_text("{}\n")
    first = Component(["--help"], config, tmp_path / "logs" / "worker.log")
    assert first.proc.wait(60) == 0
    second = first.again()
    assert second.proc.wait(60) == 0
    third = second.again()
    assert third.proc.wait(60) == 0
    assert (second.args, second.config) == (first.args, first.config)
    assert [second.log.name, third.log.name] == ["worker.1.log", "worker.2.log"]
    assert "Usage" in first.log.read_text() and "Usage" in third.log.read_text()
    for c in (first, second, third):
        c.stop()


@pytest.mark.parametrize(("now", "start"), [
    ("2026-12-02T15:10:00+00:00", "2026-12-02T06:00:00+00:00"),  # a Wednesday, its office hours over
    ("2026-12-02T13:59:00+00:00", "2026-12-01T06:00:00+00:00"),  # not yet over: the day before
    ("2026-12-02T14:00:00+01:00", "2026-12-01T06:00:00+00:00"),  # 13:00 UTC
    ("2026-12-07T09:00:00+00:00", "2026-12-04T06:00:00+00:00"),  # a Monday morning: the Friday
    ("2026-12-06T20:00:00+00:00", "2026-12-04T06:00:00+00:00"),  # a Sunday: the Friday
])
def test_the_demo_fleet_is_the_latest_weekday_office_hours_that_are_over(now: str, start: str) -> None:
    from datetime import datetime

    from deskwatch.demo import demo_start

    assert demo_start(datetime.fromisoformat(now)) == datetime.fromisoformat(start)
