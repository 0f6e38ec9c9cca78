"""Wait until an engine really serves, or fail naming the engine, its command and its log."""

from __future__ import annotations

import time

from deskwatch.stack.engine import EngineSpec
from deskwatch.stack.errors import EngineStartError
from deskwatch.stack.progress import Report
from deskwatch.stack.supervise import alive, tail

PROGRESS_EVERY_S = 5.0


def start_failure(spec: EngineSpec, why: str) -> EngineStartError:
    """The error for an engine that did not come up: what ran, and the end of its log."""
    return EngineStartError(
        f"{spec.name} {why}\ncommand: {' '.join(spec.argv)}\n"
        f"last lines of {spec.log}:\n{tail(spec.log, 30)}"
    )


def wait_serving(spec: EngineSpec, pid: int, timeout_s: float, report: Report) -> float:
    """Block until ``spec.answers()``; return the seconds waited. Raise when it exits or times out."""
    start = time.monotonic()
    last_report = start
    while True:
        if spec.answers():
            waited = time.monotonic() - start
            report(f"{spec.name}: serving on port {spec.port} (pid {pid}, {waited:.1f}s)")
            return waited
        now = time.monotonic()
        if not alive(pid):
            raise start_failure(spec, f"exited before serving (pid {pid})")
        if now - start > timeout_s:
            raise start_failure(spec, f"did not answer within {timeout_s:.0f}s (pid {pid})")
        if now - last_report >= PROGRESS_EVERY_S:
            report(f"{spec.name}: waiting for it to serve, {now - start:.0f}s")
            last_report = now
        time.sleep(0.5)
