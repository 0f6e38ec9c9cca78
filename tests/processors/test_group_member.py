"""A worker's static member id, unique per host and data dir, and the data dir lock that keeps it so."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import pytest

from deskwatch.processors.group_member import DatadirBusy, group_instance_id, hold_datadir
from deskwatch.settings import ProcessorSettings


def test_auto_ids_differ_by_host_and_data_dir_and_stay_across_restarts(tmp_path: Path) -> None:
    a = ProcessorSettings(app_id="acme-processor", datadir=tmp_path / "a")
    b = a.model_copy(update={"datadir": tmp_path / "b"})
    first = group_instance_id(a, "ws-01")
    assert first is not None and first.startswith("acme-processor@ws-01:")
    assert group_instance_id(a, "ws-01") == first  # a restart rejoins as the same member
    assert len({first, group_instance_id(b, "ws-01"), group_instance_id(a, "ws-02")}) == 3


def test_an_explicit_id_is_kept_and_off_joins_as_a_dynamic_member(tmp_path: Path) -> None:
    assert group_instance_id(ProcessorSettings(instance_id="worker-7"), "h") == "worker-7"
    assert group_instance_id(ProcessorSettings(instance_id="off"), "h") is None


def test_a_second_worker_on_a_busy_data_dir_is_refused_with_the_setting_named(tmp_path: Path) -> None:
    held = hold_datadir(tmp_path / "proc")
    try:
        began = time.monotonic()
        with pytest.raises(DatadirBusy, match="processor.datadir"):
            hold_datadir(tmp_path / "proc", wait_s=0.5)
        assert time.monotonic() - began >= 0.5  # it waited for a previous worker to exit first
    finally:
        held.close()
    hold_datadir(tmp_path / "proc", wait_s=0).close()  # free again


def test_the_lock_goes_with_a_killed_process(tmp_path: Path) -> None:
    """A worker SIGKILLed by its supervisor must not keep its successor out."""
    code = (f"import sys, time; sys.path[:0] = {sys.path!r}\n"
            "from pathlib import Path\nfrom deskwatch.processors.group_member import hold_datadir\n"
            f"h = hold_datadir(Path({str(tmp_path / 'proc')!r})); print('held', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(DatadirBusy):
            hold_datadir(tmp_path / "proc", wait_s=0.2)
        holder.kill()
        hold_datadir(tmp_path / "proc", wait_s=5.0).close()  # taken before the holder is even reaped
    finally:
        holder.kill()
        holder.wait()
