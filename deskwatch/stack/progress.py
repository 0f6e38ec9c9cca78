"""Progress lines with elapsed seconds: plain text, so CI logs and terminals read the same."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

# Receives one progress line; the stack never prints directly.
Report = Callable[[str], None]


class ElapsedReport:
    """Prints ``[  12.3s] message`` lines, the clock starting when the report is made."""

    def __init__(self, stream: TextIO = sys.stderr) -> None:
        self._stream = stream
        self._start = time.monotonic()

    def __call__(self, message: str) -> None:
        elapsed = time.monotonic() - self._start
        print(f"[{elapsed:7.1f}s] {message}", file=self._stream, flush=True)


def silent(message: str) -> None:
    """A report that drops every line (library callers that want no output)."""
