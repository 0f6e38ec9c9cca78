"""The helpers scripts use to run deskwatch's components as child processes."""

from __future__ import annotations

import signal
import subprocess
import sys

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
