"""SIGTERM / SIGINT as a flag the read loops poll, so they flush and checkpoint before exiting."""

from __future__ import annotations

import signal
from types import FrameType


class StopFlag:
    """Set by SIGTERM or SIGINT once installed; a second signal is not needed and not special."""

    def __init__(self) -> None:
        self.stopped = False

    def install(self) -> StopFlag:
        """Route SIGTERM and SIGINT to this flag (main thread only)."""
        signal.signal(signal.SIGTERM, self._set)
        signal.signal(signal.SIGINT, self._set)
        return self

    def __call__(self) -> bool:
        return self.stopped

    def _set(self, signum: int, frame: FrameType | None) -> None:
        self.stopped = True
