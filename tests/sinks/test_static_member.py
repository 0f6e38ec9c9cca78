"""A sink's static member id: a slot per live sink on a host, the same slot again after a crash."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

from structlog.testing import capture_logs

from deskwatch.sinks.static_member import claim


def test_two_live_sinks_take_two_slots_and_a_freed_slot_is_taken_again(tmp_path: Path) -> None:
    first = claim("auto", "acme-sink", tmp_path, "srv-01", "sink")
    second = claim("auto", "acme-sink", tmp_path, "srv-01", "sink")
    assert (first.instance_id, second.instance_id) == ("acme-sink@srv-01#0", "acme-sink@srv-01#1")
    first.release()
    again = claim("auto", "acme-sink", tmp_path, "srv-01", "sink")
    assert again.instance_id == "acme-sink@srv-01#0"  # the restarted sink rejoins as the member it was
    other_group = claim("auto", "other-sink", tmp_path, "srv-01", "sink")
    assert other_group.instance_id == "other-sink@srv-01#0"  # slots are per group
    for m in (second, again, other_group):
        m.release()


def test_off_and_explicit_ids_take_no_slot(tmp_path: Path) -> None:
    assert claim("off", "g", tmp_path / "off", "h", "sink").instance_id is None
    explicit = claim("sink-eu-1", "g", tmp_path / "explicit", "h", "sink")
    assert (explicit.instance_id, explicit.lock) == ("sink-eu-1", None)
    assert not (tmp_path / "off").exists() and not (tmp_path / "explicit").exists()


def test_an_unwritable_state_dir_falls_back_to_a_dynamic_member_and_says_so(tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    with capture_logs() as logs:
        member = claim("auto", "g", blocker / "sink", "h", "sink")
    assert member.instance_id is None
    assert [e["event"] for e in logs if e["log_level"] == "warning"] == [
        "sink joins as a dynamic member: a restart will wait for its old session to end"]
    assert "NotADirectoryError" in logs[0]["reason"]


def test_the_slot_of_a_sigkilled_sink_is_free_at_once(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c",
         "import time\nfrom pathlib import Path\nfrom deskwatch.sinks.static_member import claim\n"
         f"m = claim('auto', 'g', Path({str(tmp_path)!r}), 'h', 'sink'); print(m.instance_id, flush=True); "
         "time.sleep(60)"], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "g@h#0"
        taken = claim("auto", "g", tmp_path, "h", "sink")
        assert taken.instance_id == "g@h#1"
        taken.release()
        holder.kill()
        holder.wait(10)
        started = time.monotonic()
        back = claim("auto", "g", tmp_path, "h", "sink")
        assert back.instance_id == "g@h#0" and time.monotonic() - started < 1.0
        back.release()
    finally:
        holder.kill()
        holder.wait(10)
