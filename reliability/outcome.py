"""What one fuzz target did: inputs, events, dead letters by reason, crashes, peak memory."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field


@dataclass
class Outcome:
    """The tally of one target; ``unaccounted`` must be 0 and ``crashes`` empty for a pass."""

    target: str
    inputs: int = 0
    events: int = 0
    dead: Counter[str] = field(default_factory=Counter)
    refused: Counter[str] = field(default_factory=Counter)  # whole requests/connections turned away
    crashes: list[str] = field(default_factory=list)
    peak_bytes: int = 0
    memory_kind: str = "tracemalloc peak"
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)
    per_record: bool = False  # inputs are files that yield many records: no count reconciles

    @property
    def unaccounted(self) -> int | None:
        """Inputs neither an event, a dead letter nor refused; None where inputs are files."""
        if self.per_record:
            return None
        return self.inputs - self.events - sum(self.dead.values()) - sum(self.refused.values())

    def crash(self, kind: str, data: bytes, exc: BaseException) -> None:
        """Record an exception that escaped (with what caused it, cut short)."""
        self.crashes.append(f"{kind}: {exc!r} on {data[:80]!r}")
