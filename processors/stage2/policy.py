"""What stage 2 reads from a rule: the lifecycle policy, as a structural protocol.

``deskwatch.processors.rules.Rule`` satisfies it without importing this module; tests use a small
dataclass. Members are read-only properties so frozen pydantic models qualify.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta
from typing import Protocol

from deskwatch.schemas.incident import Severity


class EscalationLevel(Protocol):
    """Raise to ``severity`` once any threshold that is set is reached."""

    @property
    def severity(self) -> Severity: ...
    @property
    def min_events(self) -> int | None: ...
    @property
    def min_hosts(self) -> int | None: ...
    @property
    def min_population_pct(self) -> float | None: ...
    @property
    def after(self) -> timedelta | None: ...


class LifecyclePolicy(Protocol):
    """The rule fields stage 2 interprets: thresholds, escalation, timers, reopen, flap, absorb."""

    @property
    def id(self) -> str: ...
    @property
    def version(self) -> int: ...
    @property
    def title(self) -> str: ...
    @property
    def remediation(self) -> str: ...
    @property
    def severity(self) -> Severity: ...
    @property
    def escalation(self) -> Sequence[EscalationLevel]: ...
    @property
    def window(self) -> timedelta: ...
    @property
    def min_events(self) -> int: ...
    @property
    def min_hosts(self) -> int | None: ...
    @property
    def min_population_pct(self) -> float | None: ...
    @property
    def max_lifetime(self) -> timedelta | None: ...
    @property
    def ack_timeout(self) -> timedelta | None: ...
    @property
    def reopen_window(self) -> timedelta | None: ...
    @property
    def flap_threshold(self) -> int | None: ...
    @property
    def group_by(self) -> Sequence[str]: ...
    @property
    def absorbs(self) -> Sequence[str]: ...

    def quiet_timeout_for(self, device_class: str | None) -> timedelta | None:
        """Quiet timeout for a device class; None means silence never resolves."""
        ...


def quiet_timeout(
    policy: LifecyclePolicy, device_classes: Sequence[str | None]
) -> timedelta | None:
    """The group's quiet timeout: the longest of its device classes; any None (never) wins."""
    timeouts = [policy.quiet_timeout_for(cls) for cls in (device_classes or [None])]
    if any(t is None for t in timeouts):
        return None
    return max(t for t in timeouts if t is not None)
