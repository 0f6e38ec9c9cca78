"""The helpers scripts use to run deskwatch's components as child processes."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

_SCRIPT = """
import time
from deskwatch.components import interrupt_on_sigterm
interrupt_on_sigterm()
try:
    print("ready", flush=True)
    time.sleep(60)
finally:
    print("cleaned up", flush=True)
"""


def test_sigterm_runs_a_scripts_finally_blocks_as_ctrl_c_does() -> None:
    proc = subprocess.Popen([sys.executable, "-c", _SCRIPT], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert out.strip() == "cleaned up", err
    assert "KeyboardInterrupt: signal 15" in err


_STARTS_A_COMPONENT = """
import sys, time
from pathlib import Path
from deskwatch.components import Component
folder = Path(sys.argv[1])
child = Component(["--help"], folder / "settings.yaml", folder / "help.log")
try:
    print("ready", flush=True)
    time.sleep(60)
finally:
    child.stop()
    print("cleaned up", flush=True)
"""


def test_a_script_that_starts_a_component_cleans_up_on_sigterm_without_asking(tmp_path: Path) -> None:
    """The benches never called ``interrupt_on_sigterm``; starting a component is enough now."""
    proc = subprocess.Popen([sys.executable, "-c", _STARTS_A_COMPONENT, str(tmp_path)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    assert proc.stdout.readline().strip() == "ready"
    proc.send_signal(signal.SIGTERM)
    out, err = proc.communicate(timeout=20)
    assert out.strip() == "cleaned up", err
    assert (tmp_path / "help.log").exists()


def test_a_component_leaves_a_sigterm_handler_its_caller_chose(tmp_path: Path) -> None:
    from deskwatch.components import Component

    def chosen(signum: int, frame: object) -> None:
        return None

    previous = signal.signal(signal.SIGTERM, chosen)
    try:
        child = Component(["--help"], tmp_path / "settings.yaml", tmp_path / "help.log")
        child.stop()
        assert signal.getsignal(signal.SIGTERM) is chosen
    finally:
        signal.signal(signal.SIGTERM, previous)
