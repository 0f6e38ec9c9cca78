"""The engines deskwatch runs against: local Kafka and Elasticsearch processes, or Docker.

Public API: ``ensure_up(settings) -> Endpoints``, ``stack_down(settings)``,
``stack_status(settings) -> list[EngineStatus]``; errors derive from ``StackError``.
"""

from deskwatch.stack.down import stack_down
from deskwatch.stack.errors import (
    EngineStartError,
    EngineUserError,
    FetchError,
    PortBusyError,
    StackError,
)
from deskwatch.stack.status import EngineStatus, stack_status
from deskwatch.stack.up import Endpoints, ensure_up

__all__ = [
    "Endpoints",
    "EngineStartError",
    "EngineStatus",
    "EngineUserError",
    "FetchError",
    "PortBusyError",
    "StackError",
    "ensure_up",
    "stack_down",
    "stack_status",
]
